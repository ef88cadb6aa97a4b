/* ptyrun: drive an interactive program through a real pseudo-terminal (a tiny `expect`).
 *
 *   ptyrun [-t SECONDS] [-o TRANSCRIPT] [-r RAW] [-c COLUMNS] -- command [args...]  < script
 *
 * The script on stdin has one step per line:
 *   expect TEXT   wait until the program's output (since the previous match) contains TEXT
 *   prompt TEXT   expect TEXT, then wait until the program reads the terminal in raw mode
 *                 (line editors print their prompt before switching, and a control key
 *                 typed in between is handled by the terminal, not by the editor)
 *   send TEXT     type TEXT; escapes: \r \n \t \e \\ \xHH (e.g. \x03 is Ctrl-C, \x04 Ctrl-D)
 *   sleep MS      pause
 *   wait          wait for the program to exit (also done after the last step)
 *   # ...         comment
 * The output is cleaned before matching and in the transcript: terminal escape sequences and
 * carriage returns are removed and backspaces applied, so tests can compare whole lines.
 * The transcript goes to TRANSCRIPT (or stdout); -r saves the raw bytes for debugging. Exit status: the program's (128+N when a
 * signal N killed it); 124 when an expect or the wait timed out (the transcript so far and
 * what was awaited are printed to stderr). Each step has the timeout (default 10 s). The
 * terminal is 24 rows by COLUMNS (default 80) columns. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char *clean;          /* cleaned output so far */
static size_t clean_len, clean_cap;
static size_t match_pos;     /* expect searches from here */
static int esc_state;        /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC, 4 OSC after ESC */
static int master_fd = -1;
static FILE *raw_out;        /* -r: the bytes exactly as the program wrote them */
static pid_t child = -1;
static int child_done;
static int child_status;

static void append_clean(char c)
{
    if (clean_len + 1 >= clean_cap) {
        clean_cap = clean_cap ? clean_cap * 2 : 4096;
        clean = realloc(clean, clean_cap);
        if (!clean) {
            perror("ptyrun");
            exit(2);
        }
    }
    clean[clean_len++] = c;
    clean[clean_len] = '\0';
}

static void feed(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        switch (esc_state) {
        case 1:
            esc_state = c == '[' ? 2 : c == ']' ? 3 : 0;
            continue;
        case 2:
            if (c >= 0x40 && c <= 0x7E)
                esc_state = 0;
            continue;
        case 3:
            if (c == 0x07)
                esc_state = 0;
            else if (c == 0x1B)
                esc_state = 4;
            continue;
        case 4:
            esc_state = c == '\\' ? 0 : 3;
            continue;
        default:
            break;
        }
        if (c == 0x1B) {
            esc_state = 1;
        } else if (c == '\r' || c == '\0' || c == 0x07) {
            /* dropped */
        } else if (c == '\b') {
            if (clean_len > match_pos && clean[clean_len - 1] != '\n')
                clean[--clean_len] = '\0';
        } else {
            append_clean((char)c);
        }
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads what the program wrote, waiting at most ms. Returns 0 on end of output. */
static int pump(int ms)
{
    if (master_fd < 0)
        return 0;
    struct pollfd p = {.fd = master_fd, .events = POLLIN};
    int r = poll(&p, 1, ms);
    if (r <= 0)
        return 1;
    char buf[4096];
    ssize_t n = read(master_fd, buf, sizeof buf);
    if (n > 0) {
        if (raw_out)
            fwrite(buf, 1, (size_t)n, raw_out);
        feed(buf, (size_t)n);
        return 1;
    }
    if (n < 0 && errno == EINTR)
        return 1;
    close(master_fd); /* EIO: the program closed the terminal */
    master_fd = -1;
    return 0;
}

static size_t decode_escapes(const char *in, char *out)
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p != '\\' || p[1] == '\0') {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'e': out[n++] = 0x1B; break;
        case 'x': {
            char hex[3] = {0};
            if (p[1] && p[2]) {
                hex[0] = p[1];
                hex[1] = p[2];
                out[n++] = (char)strtol(hex, NULL, 16);
                p += 2;
            }
            break;
        }
        default: out[n++] = *p; break;
        }
    }
    out[n] = '\0';
    return n;
}

static void dump_and_fail(const char *what, const char *text)
{
    fprintf(stderr, "ptyrun: timed out waiting for %s%s%s\n--- transcript ---\n%s\n---\n", what,
            text ? " " : "", text ? text : "", clean ? clean : "");
    if (child > 0 && !child_done)
        kill(child, SIGKILL);
    exit(124);
}

static void reap(int block)
{
    if (child_done || child <= 0)
        return;
    pid_t r = waitpid(child, &child_status, block ? 0 : WNOHANG);
    if (r == child)
        child_done = 1;
}

static void do_wait(int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (!(child_done && master_fd < 0)) {
        if (master_fd >= 0)
            pump(50);
        else
            usleep(10000);
        reap(0);
        if (now_ms() > deadline)
            dump_and_fail("the program to exit", NULL);
    }
}

int main(int argc, char **argv)
{
    int timeout_ms = 10000;
    const char *transcript = NULL;
    int opt;
    unsigned short columns = 80;
    while ((opt = getopt(argc, argv, "t:o:r:c:")) != -1) {
        if (opt == 'c') {
            int c = atoi(optarg);
            if (c < 10 || c > 1000) {
                fprintf(stderr, "ptyrun: -c needs a number of columns from 10 to 1000\n");
                return 2;
            }
            columns = (unsigned short)c;
        }
        else if (opt == 't')
            timeout_ms = (int)(atof(optarg) * 1000);
        else if (opt == 'o')
            transcript = optarg;
        else if (opt == 'r') {
            raw_out = fopen(optarg, "w");
            if (!raw_out) {
                perror("ptyrun: raw output");
                return 2;
            }
        }
        else {
            fprintf(stderr, "usage: ptyrun [-t SECONDS] [-o TRANSCRIPT] [-r RAW] [-c COLUMNS] -- command [args...]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "ptyrun: no command\n");
        return 2;
    }
    struct winsize ws = {.ws_row = 24, .ws_col = columns};
    child = forkpty(&master_fd, NULL, NULL, &ws);
    if (child < 0) {
        perror("ptyrun: forkpty");
        return 2;
    }
    if (child == 0) {
        if (!getenv("TERM"))
            setenv("TERM", "xterm", 1);
        execvp(argv[optind], argv + optind);
        perror("ptyrun: exec");
        _exit(127);
    }

    char line[8192], text[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : line + strlen(line);
        int is_prompt = strncmp(line, "prompt ", 7) == 0;
        if (strncmp(line, "expect ", 7) == 0 || is_prompt) {
            decode_escapes(arg, text);
            long deadline = now_ms() + timeout_ms;
            for (;;) {
                char *hit = clean ? strstr(clean + match_pos, text) : NULL;
                if (hit) {
                    match_pos = (size_t)(hit - clean) + strlen(text);
                    break;
                }
                if (!pump(50) && master_fd < 0)
                    dump_and_fail("(program ended)", arg);
                if (now_ms() > deadline)
                    dump_and_fail("", arg);
            }
            while (is_prompt) {
                struct termios t;
                if (master_fd < 0 || tcgetattr(master_fd, &t) != 0 || !(t.c_lflag & ICANON))
                    break;
                pump(10);
                if (now_ms() > deadline)
                    dump_and_fail("raw mode after", arg);
            }
        } else if (strncmp(line, "send ", 5) == 0) {
            size_t n = decode_escapes(arg, text);
            if (master_fd >= 0 && write(master_fd, text, n) != (ssize_t)n) {
                perror("ptyrun: write");
                return 2;
            }
        } else if (strncmp(line, "sleep ", 6) == 0) {
            long until = now_ms() + atol(arg);
            while (now_ms() < until)
                pump((int)(until - now_ms()));
        } else if (strcmp(line, "wait") == 0) {
            break;
        } else {
            fprintf(stderr, "ptyrun: unknown step '%s'\n", line);
            kill(child, SIGKILL);
            return 2;
        }
    }
    do_wait(timeout_ms);

    FILE *out = transcript ? fopen(transcript, "w") : stdout;
    if (!out) {
        perror("ptyrun: transcript");
        return 2;
    }
    if (clean)
        fputs(clean, out);
    if (out != stdout)
        fclose(out);
    if (raw_out)
        fclose(raw_out);
    free(clean);
    if (WIFSIGNALED(child_status))
        return 128 + WTERMSIG(child_status);
    return WEXITSTATUS(child_status);
}
