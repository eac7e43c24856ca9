/* The forwarder's life cycle: the libcoap context on the core loop, and the core's hooks. */
#include "upstream_internal.h"

#include <netdb.h>
#include <sys/epoll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void up_log(struct upstream *u, enum core_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	core_log(u->c, level, "lwm2m: upstream: %s", line);
}

struct up_dev *up_dev_of_session(coap_session_t *session)
{
	return session ? coap_session_get_app_data(session) : NULL;
}

int64_t up_now_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void up_session_retire(struct upstream *u, coap_session_t *session)
{
	struct up_shard *sh = up_shard_of(u, session);

	if(sh){
		sh->sessions--;
		sh->dirty = true;
	}
	coap_session_set_app_data(session, NULL);
	if(u->n_retired == u->cap_retired){
		size_t cap = u->cap_retired ? u->cap_retired * 2 : 16;
		coap_session_t **r = realloc(u->retired, cap * sizeof(*r));
		if(!r){
			/* Better a session kept than one freed under libcoap: it goes with the context. */
			return;
		}
		u->retired = r;
		u->cap_retired = cap;
	}
	u->retired[u->n_retired++] = session;
}

static void release_retired(struct upstream *u)
{
	for(size_t i = 0; i < u->n_retired; i++){
		/* Its queued CONs hold references of their own and would go on being retransmitted:
		 * cancel them (the NACKs find no device) before letting go. */
		coap_session_disconnected(u->retired[i], COAP_NACK_NOT_DELIVERABLE);
		coap_session_release(u->retired[i]);
	}
	u->n_retired = 0;
}

/* ---- libcoap on the core loop ---- */

/* libcoap keeps its retransmissions and async triggers in a timerfd inside each context's
 * own epoll set, so a context's fd turns readable whenever it has work - once
 * coap_io_prepare_epoll has set that timer after the last change. The uv timer backs it
 * up at millisecond resolution, so the loop never spins. */
static void arm(struct up_shard *sh)
{
	coap_tick_t now;
	unsigned ms;

	sh->dirty = false;
	coap_ticks(&now);
	ms = coap_io_prepare_epoll(sh->ctx, now);
	if(ms == 0) uv_timer_stop(&sh->timer);
	else uv_timer_start(&sh->timer, sh_on_timer_cb, ms, 0);
}

/* Only what is ready on this context's epoll fd: coap_io_process would walk every session
 * of the context before and after (libcoap re-arms its own timer when it queues a
 * confirmable message or an async answer, so nothing needs preparing after this). */
static void process(struct up_shard *sh)
{
	struct epoll_event events[32];
	int n;

	if(sh->u->stopping) return;
	n = epoll_wait(coap_context_get_coap_fd(sh->ctx), events, 32, 0);
	if(n > 0) coap_io_do_epoll(sh->ctx, events, (size_t)n);
}

void sh_on_timer_cb(uv_timer_t *t)
{
	process(t->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	process(h->data);
}

/* After each loop turn: only the shards something happened on are prepared again, so the
 * cost of a turn does not grow with the number of shards (libcoap walks every session of
 * a context in coap_io_prepare_epoll). */
static void on_check(uv_check_t *h)
{
	struct upstream *u = h->data;

	if(u->stopping) return;
	release_retired(u);
	for(size_t i = 0; i < u->n_shards; i++){
		if(u->shards[i]->dirty) arm(u->shards[i]);
	}
}

struct up_shard *up_shard_of(struct upstream *u, const coap_session_t *session)
{
	(void)u;
	return coap_get_app_data(coap_session_get_context(session));
}

void up_touch(struct upstream *u, const coap_session_t *session)
{
	struct up_shard *sh = session ? up_shard_of(u, session) : NULL;
	if(sh) sh->dirty = true;
}

/* ---- libcoap callbacks ---- */

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
		const coap_pdu_t *received, const coap_mid_t mid)
{
	struct up_dev *d = up_dev_of_session(session);
	(void)sent;
	(void)mid;

	if(!d) return COAP_RESPONSE_OK;
	if(d->busy && up_token_is(received, d->token, d->token_len)) return up_register_response(d, received);
	if(d->send_busy && up_token_is(received, d->send_token, d->send_token_len)) return up_send_response(d, received);
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent, const coap_nack_reason_t reason,
		const coap_mid_t mid)
{
	struct up_dev *d = up_dev_of_session(session);
	(void)mid;

	if(!d || !sent) return;
	if(reason == COAP_NACK_RST){
		/* An RST to a CON notification: the observer has gone. */
		up_observer_rst(d, sent);
	}
	if(d->busy && up_token_is(sent, d->token, d->token_len)){
		up_register_nack(d, sent, reason);
	}else if(d->send_busy && up_token_is(sent, d->send_token, d->send_token_len)){
		up_send_nack(d);
	}
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
	struct up_dev *d = up_dev_of_session(session);

	if(!d) return 0;
	switch(event){
		case COAP_EVENT_DTLS_ERROR:
			up_session_failed(d, "DTLS handshake failed");
			break;
		case COAP_EVENT_DTLS_CLOSED:
			up_session_failed(d, "the server closed the DTLS session");
			break;
		default:
			break;
	}
	return 0;
}

/* ---- the core's hooks ---- */

static void hook_registered(void *ctx, const struct registration *reg, bool replaced)
{
	struct up_dev *d = up_dev_get(ctx, reg);
	(void)replaced;
	/* A Register from the device (again) is a Register upstream: its objects may differ. */
	if(d) up_dev_want(d, UP_WANT_REGISTER, true);
}

static void hook_updated(void *ctx, const struct registration *reg, bool links_changed)
{
	struct up_dev *d = up_dev_get(ctx, reg);
	if(d) up_dev_want(d, UP_WANT_UPDATE, links_changed);
}

static void hook_gone(void *ctx, const struct registration *reg, bool expired)
{
	struct upstream *u = ctx;
	struct up_dev *d = NULL;
	(void)expired;

	HASH_FIND_STR(u->devs, reg->key, d);
	if(d) up_dev_gone(d);
}

/* A queue-mode device is awake: an Update lets the server flush what it queued. */
static void hook_uplink(void *ctx, const struct registration *reg)
{
	struct upstream *u = ctx;
	struct up_dev *d = NULL;

	if(!reg->queue_mode) return;
	HASH_FIND_STR(u->devs, reg->key, d);
	/* While its Register is in flight too: the Update follows the answer. */
	if(d && (d->state == UP_REGISTERED || d->state == UP_REGISTERING)) up_dev_want(d, UP_WANT_UPDATE, false);
}

static void hook_send(void *ctx, const struct registration *reg, int64_t send_id, uint16_t cf,
		const uint8_t *payload, size_t len)
{
	struct up_dev *d = reg ? up_dev_get(ctx, reg) : NULL;
	if(d) up_send_add(d, send_id, cf, payload, len);
}

static void hook_describe(void *ctx, const struct registration *reg, json_t *out)
{
	struct upstream *u = ctx;
	struct up_dev *d = NULL;
	json_t *j;

	HASH_FIND_STR(u->devs, reg->key, d);
	j = json_object();
	if(!j) return;
	json_object_set_new(j, "state", json_string(d ? up_state_name(d->state) : "idle"));
	if(d && d->location[0]) json_object_set_new(j, "location", json_string(d->location));
	if(d && d->last_code) json_object_set_new(j, "code", json_integer(d->last_code));
	if(d && d->reason[0]) json_object_set_new(j, "reason", json_string(d->reason));
	if(d && (d->state == UP_BACKOFF || d->state == UP_REFUSED)){
		json_object_set_new(j, "nextAttempt", json_integer(d->next_attempt_wall_ms));
	}
	json_object_set_new(out, "upstream", j);
}

void up_emit_state(struct up_dev *d)
{
	json_t *data = json_object();
	struct registration reg;

	if(!data) return;
	memset(&reg, 0, sizeof(reg));
	reg.key = d->key;
	hook_describe(d->u, &reg, data);
	core_api_emit(d->u->c, "UPSTREAM", d->endpoint, json_incref(json_object_get(data, "upstream")));
	json_decref(data);
}

/* ---- start and stop ---- */

static int resolve_server(struct upstream *u, struct lwm2m_error *err)
{
	const struct conf_coap_server *s = &u->cfg->coap_server;
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	/* Resolved once, at start (a numeric address never blocks). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", s->port);
	rc = getaddrinfo(s->host, port, &hints, &res);
	if(rc != 0 || !res || res->ai_addrlen > sizeof(u->server.addr)){
		if(res) freeaddrinfo(res);
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_coap_server: cannot resolve '%s': %s", s->host,
				rc ? gai_strerror(rc) : "no address");
	}
	coap_address_init(&u->server);
	memcpy(&u->server.addr, res->ai_addr, res->ai_addrlen);
	u->server.size = res->ai_addrlen;
	freeaddrinfo(res);
	u->proto = s->secure ? COAP_PROTO_DTLS : COAP_PROTO_UDP;
	return 0;
}

static void on_shard_closed(uv_handle_t *h)
{
	struct up_shard *sh = h->data;
	struct upstream *u = sh->u;

	if(--sh->open_handles == 0) free(sh);
	if(--u->open_handles == 0){
		free(u->shards);
		free(u);
	}
}

/* A new libcoap context with its own epoll fd on the core loop. */
static struct up_shard *shard_new(struct upstream *u)
{
	uv_loop_t *loop = core_api_loop(u->c);
	struct up_shard *sh;
	coap_resource_t *unknown;
	int fd;

	if(u->n_shards == u->cap_shards){
		size_t cap = u->cap_shards ? u->cap_shards * 2 : 4;
		struct up_shard **a = realloc(u->shards, cap * sizeof(*a));
		if(!a) return NULL;
		u->shards = a;
		u->cap_shards = cap;
	}
	sh = calloc(1, sizeof(*sh));
	if(!sh) return NULL;
	sh->u = u;
	sh->ctx = coap_new_context(NULL);
	unknown = sh->ctx ? coap_resource_unknown_init2(up_handle_request, 0) : NULL;
	fd = sh->ctx ? coap_context_get_coap_fd(sh->ctx) : -1;
	if(!unknown || fd < 0 || uv_poll_init(loop, &sh->poll, fd) != 0){
		if(unknown) coap_delete_resource(sh->ctx, unknown);
		if(sh->ctx) coap_free_context(sh->ctx);
		free(sh);
		return NULL;
	}
	coap_set_app_data(sh->ctx, sh);
	coap_context_set_block_mode(sh->ctx, COAP_BLOCK_USE_LIBCOAP);
	coap_register_response_handler(sh->ctx, on_response);
	coap_register_nack_handler(sh->ctx, on_nack);
	coap_register_event_handler(sh->ctx, on_event);
	for(coap_request_t m = COAP_REQUEST_GET; m <= COAP_REQUEST_IPATCH; m++){
		coap_register_request_handler(unknown, m, up_handle_request);
	}
	coap_add_resource(sh->ctx, unknown);
	uv_timer_init(loop, &sh->timer);
	sh->poll.data = sh->timer.data = sh;
	sh->open_handles = 2;
	u->open_handles += 2;
	uv_poll_start(&sh->poll, UV_READABLE, on_poll);
	u->shards[u->n_shards++] = sh;
	return sh;
}

coap_context_t *up_context_for_new_session(struct upstream *u)
{
	struct up_shard *sh = NULL;

	for(size_t i = 0; i < u->n_shards && !sh; i++){
		if(u->shards[i]->sessions < u->cfg->coap_sessions_per_context) sh = u->shards[i];
	}
	if(!sh) sh = shard_new(u);
	if(!sh) return NULL;
	sh->sessions++;
	sh->dirty = true;
	return sh->ctx;
}

static int open_loop(struct upstream *u, struct lwm2m_error *err)
{
	uv_loop_t *loop = core_api_loop(u->c);

	coap_startup();
	uv_check_init(loop, &u->check);
	u->check.data = u;
	u->open_handles = 1;
	uv_check_start(&u->check, on_check);
	if(!shard_new(u)) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "upstream: cannot create a CoAP context");
	return 0;
}

static void register_existing(struct upstream *u)
{
	struct registration *reg;
	size_t n = 0;

	for(reg = registry_first(core_api_registry(u->c)); reg; reg = reg->hh.next){
		struct up_dev *d = up_dev_get(u, reg);
		if(d){
			up_dev_want(d, UP_WANT_REGISTER, true);
			up_send_load(d);
			n++;
		}
	}
	if(n) up_log(u, CORE_LOG_INFO, "registering %zu devices at the server", n);
}

struct upstream *upstream_start(struct core *c, struct lwm2m_error *err)
{
	struct upstream *u = calloc(1, sizeof(*u));
	struct core_listener l = {
		.registered = hook_registered, .updated = hook_updated, .gone = hook_gone,
		.uplink = hook_uplink, .send = hook_send, .describe = hook_describe,
	};

	if(!u){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "upstream: out of memory");
		return NULL;
	}
	u->c = c;
	u->cfg = core_api_config(c);
	if(resolve_server(u, err) != 0 || open_loop(u, err) != 0){
		upstream_stop(u);
		return NULL;
	}
	l.ctx = u;
	core_api_set_listener(c, &l);
	up_log(u, CORE_LOG_INFO, "forwarding to %s://%s:%u", u->cfg->coap_server.secure ? "coaps" : "coap",
			u->cfg->coap_server.host, u->cfg->coap_server.port);
	register_existing(u);
	return u;
}

/* The last De-registers get a bounded time to be answered. */
static void drain_deregistrations(struct upstream *u)
{
	uint64_t deadline = uv_hrtime() + 2000000000ull;

	while(u->inflight > 0 && uv_hrtime() < deadline){
		for(size_t i = 0; i < u->n_shards; i++) coap_io_process(u->shards[i]->ctx, u->n_shards > 1 ? 5 : 50);
	}
}

/* The struct lives until its last handle has closed. */
static void on_closed(uv_handle_t *h)
{
	struct upstream *u = h->data;
	if(--u->open_handles == 0){
		free(u->shards);
		free(u);
	}
}

void upstream_stop(struct upstream *u)
{
	struct up_dev *d, *tmp;

	if(!u) return;
	core_api_set_listener(u->c, NULL);
	if(u->n_shards && u->cfg->coap_deregister_on_shutdown && up_deregister_all(u) > 0){
		drain_deregistrations(u);
	}
	u->stopping = true;
	HASH_ITER(hh, u->devs, d, tmp){
		up_dev_free(d);
	}
	release_retired(u);
	free(u->retired);
	u->retired = NULL;
	if(u->open_handles == 0){
		free(u->shards);
		free(u);
		return;
	}
	for(size_t i = 0; i < u->n_shards; i++){
		struct up_shard *sh = u->shards[i];
		coap_free_context(sh->ctx);
		sh->ctx = NULL;
		uv_poll_stop(&sh->poll);
		uv_close((uv_handle_t *)&sh->poll, on_shard_closed);
		uv_close((uv_handle_t *)&sh->timer, on_shard_closed);
	}
	uv_close((uv_handle_t *)&u->check, on_closed);
}
