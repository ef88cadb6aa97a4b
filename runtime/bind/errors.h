/* The one error shape of performlua.
 *
 * A call that cannot produce a result raises a table with the metatable "performlua.error":
 *   kind            "usage" | "auth" | "fault" | "http" | "transport" | "xml"
 *   message         for people; never contains a token, secret or password
 *   code            a stable code for programs (apifault Code, curl code, ...) or nil
 *   http_status     the HTTP status when there was a response
 *   request_id      the service's RequestID when known
 *   retryable       true when sending the same request again is safe and may succeed
 *   outcome_unknown true when the request may have been processed (do not resend blindly)
 * plus kind-specific fields (faultcode, result, ...). tostring() renders it on one line.
 *
 * Beyond the six kinds of a call that produces no result, helpers raise their own:
 *   "sandbox"  the sandbox could not start (port in use, bad seed)
 *   "failed"   c:wait saw the awaited work end in a failure state (.status holds it)
 *   "timeout"  c:wait gave up waiting (.status, .waited, .task_id)
 *   "script"   mc.parallel/mc.map wrapping a plain Lua error of one branch (.item, .cause)
 *   "storage"  SQLite refused or failed (bind/sqlite_bind.c): code is the extended result
 *              code's name ("SQLITE_BUSY", "SQLITE_CONSTRAINT_PRIMARYKEY"), .database the
 *              file's path; retryable for SQLITE_BUSY and SQLITE_LOCKED. The message names
 *              the file, the operation, SQLite's reason and the statement, never a value. */
#ifndef PL_BIND_ERRORS_H
#define PL_BIND_ERRORS_H

#include <lua.h>

/* Pushes a new error table with kind and message set and the error metatable attached. */
void pl_error_push(lua_State *L, const char *kind, const char *message);

/* Raises the value on the top of the stack as an error (no position prefix). */
int pl_error_raise(lua_State *L);

/* Convenience: push an error of the given kind with a formatted message and raise it. */
int pl_error_raisef(lua_State *L, const char *kind, const char *fmt, ...);

#endif
