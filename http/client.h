/* An asynchronous HTTP(S) client for downlink requests to devices' own HTTP servers (the
 * LwM2M HTTP binding): libcurl's multi interface driven by a libuv loop, one uv_poll_t per
 * socket and one uv_timer_t. Nothing here blocks the loop and the client starts no thread
 * of its own (libcurl's threaded resolver may run name lookups on a helper thread).
 *
 * Every function runs on the thread that runs the loop. Connections are kept alive and
 * reused between requests to the same host. Redirects are never followed (a 3xx is an
 * answer like any other), only http:// and https:// URLs are accepted, proxies from the
 * environment are ignored, and libcurl is told to leave signals alone (CURLOPT_NOSIGNAL).
 *
 * libcurl's process-wide state: each client calls curl_global_init when created and
 * curl_global_cleanup when its close completes; libcurl counts these calls, so clients and
 * other libcurl users in the process may come and go in any order. Those two calls are safe
 * to make while other threads use libcurl only when libcurl was built thread-safe
 * (http_client_global_init_is_threadsafe(), libcurl 7.84 and later with atomics, as
 * Debian 12's is). With another build, create the first client and close the last one while
 * no other thread of the process can be inside libcurl. */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/lwm2m_err.h"

struct uv_loop_s;
struct http_client;

#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000u          /* whole request */
#define HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 10000u  /* TCP connect + TLS handshake */
#define HTTP_CLIENT_DEFAULT_MAX_RESPONSE (1024u * 1024u)

/* Client-wide settings. A zeroed struct (or NULL) gives the defaults: server certificates
 * verified against the system's trust store, no client certificate. The strings are copied. */
struct http_client_options {
	const char *ca_file;        /* PEM file: the only trust anchors for https (NULL = system store) */
	const char *cert_file;      /* PEM client certificate for mutual TLS (NULL = none) */
	const char *key_file;       /* PEM private key of cert_file (NULL = in cert_file), unencrypted */
	bool tls_no_verify;         /* development only: accept any server certificate and name */
	uint32_t connect_timeout_ms; /* 0 = HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS; never above
	                              * a request's own timeout */
};

/* One request. Everything is copied by http_client_send: the caller may free it at once. */
struct http_request {
	const char *method;         /* an HTTP token such as "GET", "PUT", "POST", "DELETE",
	                             * "HEAD"; NULL = "GET" */
	const char *url;            /* http://... or https://... */
	const char *content_type;   /* of body; NULL = no Content-Type header */
	const char *accept;         /* Accept header; NULL = anything (libcurl's default) */
	const uint8_t *body;        /* may be NULL when body_len is 0 */
	size_t body_len;            /* a body is sent (with Content-Length) unless the method is
	                             * GET, HEAD or DELETE and body_len is 0 */
	uint32_t timeout_ms;        /* whole exchange, from http_client_send; 0 = default */
	size_t max_response;        /* largest response body accepted; 0 = default */
};

enum http_outcome {
	HTTP_CLIENT_OK = 0,          /* a response arrived, whatever its status (4xx, 5xx too) */
	HTTP_CLIENT_TIMEOUT,         /* connected, but no full response within timeout_ms */
	HTTP_CLIENT_CONNECT_FAILED,  /* name lookup, TCP connect or TLS handshake (including
	                              * certificate verification) failed or timed out */
	HTTP_CLIENT_TOO_LARGE,       /* the body exceeded max_response: transfer aborted */
	HTTP_CLIENT_ERROR,           /* anything else (connection reset, malformed response ...) */
	HTTP_CLIENT_CANCELLED,       /* the client was closed before the answer came */
};

/* Valid only during the done callback. */
struct http_response {
	enum http_outcome outcome;
	long status;                 /* HTTP status; 0 when no response head arrived */
	const char *content_type;    /* Content-Type of the response, NULL when absent */
	const char *location;        /* Location header as sent (relative or absolute), or NULL */
	const uint8_t *body;         /* never NULL; body[body_len] is a 0 byte; empty unless
	                              * HTTP_CLIENT_OK */
	size_t body_len;
	const char *error;           /* one line saying why, NULL for HTTP_CLIENT_OK */
};

/* Called exactly once per request that was not cancelled: from a loop callback, or from
 * http_client_close with HTTP_CLIENT_CANCELLED; never from inside http_client_send or
 * http_client_cancel. It may call http_client_send, http_client_cancel and
 * http_client_close. */
typedef void (*http_done_fn)(void *ctx, const struct http_response *res);

/* Called once every loop handle of a closed client is closed and its memory freed. */
typedef void (*http_closed_fn)(void *arg);

/* A client on loop (which must outlive it). Checks that the TLS files can be read; NULL
 * with err filled (when non-NULL) on failure. */
struct http_client *http_client_new(struct uv_loop_s *loop, const struct http_client_options *opt,
		struct lwm2m_error *err);

/* Starts a request. Returns a handle > 0, or a negative -LWM2M_E* code (-LWM2M_EINVAL for a
 * bad method, URL scheme, header value or a closing client; -LWM2M_ENOMEM) and done is
 * never called. */
int64_t http_client_send(struct http_client *cl, const struct http_request *req, http_done_fn done,
		void *ctx);

/* Aborts a pending request; its done is never called. Unknown or finished handles are
 * ignored. */
void http_client_cancel(struct http_client *cl, int64_t handle);

/* Requests sent and neither done nor cancelled. */
size_t http_client_pending(const struct http_client *cl);

/* Ends the client: every pending request's done is called with HTTP_CLIENT_CANCELLED
 * before this returns (sends from those callbacks fail), connections are closed, and the
 * loop handles are closed. The memory is freed a few loop turns later, after which
 * on_closed(arg) runs (when not NULL): keep running the loop until then (uv_run until it
 * returns does it). cl must not be used once this returns, except by the done callbacks
 * this call makes (their http_client_close is ignored). Calling it from a done callback is
 * fine. */
void http_client_close(struct http_client *cl, http_closed_fn on_closed, void *arg);

/* Whether libcurl's global init and cleanup may race with other threads' libcurl use
 * (CURL_VERSION_THREADSAFE). For a warning at start-up when it is not. */
bool http_client_global_init_is_threadsafe(void);

#endif
