#include "mhd_uv.h"
#include "../conf/options.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mhd_uv_parse_listen(const char *option, const char *spec, struct sockaddr_storage *sa, socklen_t *len,
		struct lwm2m_error *err)
{
	struct conf_addr a;
	struct addrinfo hints, *res = NULL;
	char port[8];

	if(conf_parse_addr(spec, &a, err) != 0 || a.is_unix){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: '%s' is not host:port", option, spec);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", a.port);
	if(getaddrinfo(a.host, port, &hints, &res) != 0 || !res){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: cannot resolve '%s'", option, a.host);
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

bool mhd_uv_is_loopback(const struct sockaddr *sa)
{
	if(sa->sa_family == AF_INET){
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	}
	if(sa->sa_family == AF_INET6){
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

char *mhd_uv_read_pem(const char *option, const char *path, struct lwm2m_error *err)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t n;

	if(!f){
		lwm2m_fail(err, LWM2M_ENOENT, -1, "plugin_opt_%s: cannot read %s", option, path);
		return NULL;
	}
	text = malloc(1024 * 1024 + 1);
	n = text ? fread(text, 1, 1024 * 1024 + 1, f) : 0;
	fclose(f);
	if(!text || n == 0 || n > 1024 * 1024){
		free(text);
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: %s is not a PEM file", option, path);
		return NULL;
	}
	text[n] = '\0';
	if(!strstr(text, "-----BEGIN")){
		free(text);
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: %s is not a PEM file", option, path);
		return NULL;
	}
	return text;
}

static struct MHD_OptionItem option(enum MHD_OPTION o, intptr_t value, const void *ptr)
{
	struct MHD_OptionItem item = { o, value, (void *)ptr };
	return item;
}

struct MHD_Daemon *mhd_uv_start(const struct mhd_uv_listen *l)
{
	unsigned flags = l->flags | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[9];
	size_t n = 0;

	if(l->addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
	opts[n++] = option(MHD_OPTION_SOCK_ADDR, 0, l->addr);
	/* Two-pointer options take the function in the integer member. */
	if(l->on_uri) opts[n++] = option(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)l->on_uri, l->cls);
	opts[n++] = option(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)l->on_completed, l->cls);
	opts[n++] = option(MHD_OPTION_CONNECTION_TIMEOUT, l->connection_timeout, NULL);
	opts[n++] = option(MHD_OPTION_CONNECTION_LIMIT, l->connection_limit, NULL);
	if(l->tls_cert){
		flags |= MHD_USE_TLS;
		opts[n++] = option(MHD_OPTION_HTTPS_MEM_CERT, 0, l->tls_cert);
		opts[n++] = option(MHD_OPTION_HTTPS_MEM_KEY, 0, l->tls_key);
		if(l->tls_trust) opts[n++] = option(MHD_OPTION_HTTPS_MEM_TRUST, 0, l->tls_trust);
	}
	opts[n] = option(MHD_OPTION_END, 0, NULL);
	return MHD_start_daemon(flags, 0, NULL, NULL, l->on_request, l->cls,
			MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static void run(struct mhd_uv *m);

static void on_timer(uv_timer_t *t)
{
	run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run(p->data);
}

static void run(struct mhd_uv *m)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	if(!m->attached) return;
	MHD_run(m->daemon);
	if(MHD_get_timeout(m->daemon, &timeout) == MHD_YES){
		uv_timer_start(&m->timer, on_timer, timeout, 0);
	}else{
		uv_timer_stop(&m->timer);
	}
}

void mhd_uv_kick(struct mhd_uv *m)
{
	if(m->attached) uv_timer_start(&m->timer, on_timer, 0, 0);
}

int mhd_uv_attach(struct mhd_uv *m, uv_loop_t *loop)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_EPOLL_FD);

	if(!info) return -LWM2M_EINVAL;
	if(uv_poll_init(loop, &m->poll, info->epoll_fd) != 0) return -LWM2M_EINVAL;
	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	m->poll.data = m;
	uv_poll_start(&m->poll, UV_READABLE, on_poll);
	m->attached = true;
	mhd_uv_kick(m);
	return 0;
}

void mhd_uv_detach(struct mhd_uv *m)
{
	if(!m->attached) return;
	m->attached = false;
	uv_poll_stop(&m->poll);
	uv_timer_stop(&m->timer);
	uv_close((uv_handle_t *)&m->poll, NULL);
	uv_close((uv_handle_t *)&m->timer, NULL);
	for(int i = 0; i < 4; i++) MHD_run(m->daemon);
}
