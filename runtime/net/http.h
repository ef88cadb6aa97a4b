/* HTTP transport: many transfers driven by one libcurl multi handle in one thread.
 *
 * Pure C (no Lua), so it can be unit-tested alone; runtime/bind/net_bind.c exposes it to Lua.
 *
 * Policy built in, because every caller needs it and none may forget it:
 *   - TLS verification always on; plain http:// only to loopback hosts (127.0.0.0/8, ::1,
 *     localhost); no other protocols; redirects never followed (a redirected POST is a resend).
 *   - connect and total timeouts always set, by the caller (their defaults are Lua's policy: a
 *     request without them is refused); compressed responses accepted; no
 *     "Expect: 100-continue"; never CURLOPT_FAILONERROR (faults arrive as HTTP 500 with a body).
 *   - HTTPS_PROXY / https_proxy / NO_PROXY are honoured (libcurl reads them from the environment),
 *     except for loopback hosts, which are always reached directly.
 *   - the request body is given to libcurl whole (CURLOPT_POSTFIELDS), so headers and body
 *     leave in one write. libcurl silently re-sends a request on a reused connection that died
 *     (Curl_retry_request); its prerequest hook (CURLOPT_PREREQFUNCTION), which runs each time
 *     the request is about to go out on a connection, marks the request as sent the first time
 *     and, for a request with a body marked non-idempotent, refuses any later time, so such a
 *     request fails (CURLE_ABORTED_BY_CALLBACK, with an error saying it was not sent again)
 *     instead of reaching the server twice.
 *   - each completed transfer reports `sent`: whether the request (with a body) got as far as
 *     being sent on a connection, i.e. whether the server may have received (and acted on) it.
 *   - easy handles are kept on the multi handle and reset for the next transfer.
 *   - libcurl is driven through its event interface (curl_multi_socket_action): pl_http_poll
 *     polls the sockets libcurl asks for and hands it the ready ones, so a socket is looked at
 *     once per wait rather than once per transfer and pass (see pl_http_poll in http.c). */
#ifndef PL_NET_HTTP_H
#define PL_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define PL_HTTP_ERROR_SIZE 256 /* >= CURL_ERROR_SIZE */

typedef struct pl_http_multi pl_http_multi;

typedef struct pl_http_request {
    const char *url;
    const char *method;         /* NULL: "POST" when body is set, "GET" otherwise */
    const char *body;           /* may be NULL */
    size_t body_len;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    bool idempotent;            /* false: never let libcurl send the body a second time */
    double timeout;             /* total seconds, > 0 (required) */
    double connect_timeout;     /* seconds, > 0 (required) */
    size_t max_response_bytes;  /* 0 means 512 MiB */
    const char *ca_file;        /* extra trust: a PEM bundle used instead of the system's (for
                                 * TLS-inspecting corporate proxies); NULL: the system bundle.
                                 * Verification stays on either way. */
} pl_http_request;

typedef struct pl_http_response {
    long id;
    long status;          /* HTTP status of the final response, 0 when none arrived */
    char *body;           /* NUL-terminated; body_len bytes (may contain NULs) */
    size_t body_len;
    char *headers;        /* raw header lines of the final response, "\r\n" separated */
    size_t headers_len;
    int curl_code;        /* CURLcode; 0 on success */
    char error[PL_HTTP_ERROR_SIZE]; /* set when curl_code != 0 */
    bool sent;            /* the request was about to be written to a connection (without a
                           * body: libcurl wrote some of it) */
    bool reused;          /* the transfer ran over a connection opened earlier */
    double elapsed;       /* seconds from start to completion */
} pl_http_response;

/* Loads libcurl and initialises it, once; every function below does so on first use (a run
 * that makes no HTTP call never loads it). False with the reason in `why` (why_size bytes;
 * PL_HTTP_ERROR_SIZE is enough) when libcurl is missing or failed to initialise. */
bool pl_http_load(char *why, size_t why_size);

/* libcurl's version, with its TLS library's when with_tls: "8.5.0 (OpenSSL/3.0.11)"; when it
 * cannot be loaded, why not. Loads libcurl. */
void pl_http_library_version(char *out, size_t size, bool with_tls);

/* NULL when libcurl cannot be loaded or initialised (pl_http_load tells why), or out of
 * memory. */
pl_http_multi *pl_http_multi_new(void);
/* Aborts every transfer still running and frees everything. NULL is accepted. */
void pl_http_multi_free(pl_http_multi *m);

/* Checks that the URL may be used (https, or http to a loopback host). Returns true, or false
 * with a message in `why` (PL_HTTP_ERROR_SIZE bytes). */
bool pl_http_url_allowed(const char *url, char *why);

/* Starts a transfer; the request is copied. Returns its id (> 0), or -1 with a message in `why`
 * (a refused URL, a missing timeout, out of memory). */
long pl_http_start(pl_http_multi *m, const pl_http_request *req, char *why);

/* Drives the transfers for up to `timeout` seconds, returning as soon as at least one transfer
 * completed (or at once when completions are already waiting). With nothing running it just
 * waits `timeout`. A signal that interrupts the wait (EINTR) returns at once with nothing
 * done, so the caller sees a Ctrl-C without waiting out the timeout. Returns 0, or -1 with a
 * message in `why` on a multi-handle or poll failure. */
int pl_http_poll(pl_http_multi *m, double timeout, char *why);

/* Takes the next completed transfer (caller frees it with pl_http_response_free), or NULL. */
pl_http_response *pl_http_next_done(pl_http_multi *m);
void pl_http_response_free(pl_http_response *r);

/* Whether transfer `id` (running, or completed and not yet taken) may have been sent (see
 * pl_http_response.sent): 1 yes, 0 no, -1 no such transfer. For a caller that
 * abandons a transfer (an interrupted call) and must say whether it may have reached the
 * server. */
int pl_http_sent(const pl_http_multi *m, long id);

/* Transfers started and not yet taken by pl_http_next_done. */
int pl_http_pending(const pl_http_multi *m);

#endif
