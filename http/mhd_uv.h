/* A libmicrohttpd daemon driven by the core's libuv loop (external epoll): shared by the
 * REST listener and the HTTP binding listener. Open on the broker thread (so a bad address
 * stops the broker at start-up), attach and detach on the core thread. */
#ifndef HTTP_MHD_UV_H
#define HTTP_MHD_UV_H

#include <stdbool.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <uv.h>

#include "../util/lwm2m_err.h"

struct mhd_uv {
	struct MHD_Daemon *daemon;
	uv_poll_t poll;
	uv_timer_t timer;          /* MHD's own timeouts, and "run MHD soon" after a resume */
	bool attached;
};

/* "host:port" / "[v6]:port" of option plugin_opt_<option> into sa. */
int mhd_uv_parse_listen(const char *option, const char *spec, struct sockaddr_storage *sa, socklen_t *len,
		struct lwm2m_error *err);
/* The address itself, not its spelling: "localhost" may be remapped. */
bool mhd_uv_is_loopback(const struct sockaddr *sa);
/* A whole PEM file (at most 1 MiB) as a NUL-terminated string; NULL with err naming the
 * option when it cannot be read or is no PEM. */
char *mhd_uv_read_pem(const char *option, const char *path, struct lwm2m_error *err);

/* What a listener's daemon is started with. */
struct mhd_uv_listen {
	unsigned flags;                        /* MHD_USE_* beyond those mhd_uv_start sets */
	const struct sockaddr *addr;
	MHD_AccessHandlerCallback on_request;
	MHD_RequestCompletedCallback on_completed;
	void *(*on_uri)(void *cls, const char *uri, struct MHD_Connection *conn);  /* or NULL */
	void *cls;                             /* given to the three callbacks */
	unsigned connection_timeout;           /* seconds */
	unsigned connection_limit;
	/* PEM text kept alive as long as the daemon; with a cert (and key) it speaks TLS, and
	 * with a trust too it asks clients for certificates issued under it. */
	const char *tls_cert, *tls_key, *tls_trust;
};

/* Starts a daemon for external epoll (IPv6 when addr is): NULL when MHD cannot listen. */
struct MHD_Daemon *mhd_uv_start(const struct mhd_uv_listen *l);

/* Starts polling the daemon's epoll fd on loop. */
int mhd_uv_attach(struct mhd_uv *m, uv_loop_t *loop);
/* Run MHD soon (never from inside MHD's callbacks: after a resume, for instance). */
void mhd_uv_kick(struct mhd_uv *m);
/* Stops polling; MHD runs a few more times so answers just queued can leave. */
void mhd_uv_detach(struct mhd_uv *m);

#endif
