/* For C unit tests of the sandbox's HTTP server: raw client sockets to 127.0.0.1, so a test
 * controls every byte and when it is sent (an upload cut short, a trickle, an idle
 * connection). Waits are bounded only so a broken server fails, never measured. */
#ifndef PL_TEST_RAW_SOCKET_H
#define PL_TEST_RAW_SOCKET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static inline int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        CHECK(!"connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static inline int send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static inline int send_text(int fd, const char *text)
{
    return send_all(fd, text, strlen(text));
}

/* Reads until `until` appears in what was read (NULL: until the peer closes), at most 60 s
 * (a bound for a broken server, not a measure). Returns what was read (malloc'd), with
 * *closed set when the peer closed or reset the connection. */
static inline char *read_until(int fd, const char *until, bool *closed)
{
    size_t cap = 65536, len = 0;
    char *buf = calloc(1, cap);
    *closed = false;
    for (int waited = 0; waited < 600;) {
        if (until && strstr(buf, until))
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r == 0) {
            waited++;
            continue;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (len + 1 == cap)
            break;
    }
    return buf;
}

/* A whole answer to a request sent with Connection: close. */
static inline char *exchange(int port, const char *request)
{
    int fd = dial(port);
    if (fd < 0)
        return calloc(1, 1);
    send_text(fd, request);
    bool closed;
    char *answer = read_until(fd, NULL, &closed);
    close(fd);
    return answer;
}

#endif
