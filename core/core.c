#include "core_internal.h"
#include "bootstrap.h"
#include "exchange.h"
#include "events.h"
#include "../conf/endpoints.h"
#include "events.h"
#include "exchange.h"
#include "store.h"
#include "queue.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void flush_store(struct core *c);

uint64_t core_now_mono_ms(void)
{
	return uv_hrtime() / 1000000u;
}

int64_t core_now_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- messages ---- */

struct core_in *core_in_new(enum core_in_kind kind, const char *client_id, const char *identity,
		const char *topic, const void *payload, size_t payload_len)
{
	size_t cl = client_id ? strlen(client_id) + 1 : 0;
	size_t il = identity ? strlen(identity) + 1 : 0;
	size_t tl = topic ? strlen(topic) + 1 : 0;
	struct core_in *m;
	char *p;

	if(payload_len > SIZE_MAX - sizeof(*m) - cl - il - tl) return NULL;
	m = malloc(sizeof(*m) + cl + il + tl + payload_len);
	if(!m) return NULL;
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	p = (char *)(m + 1);
	if(cl){ memcpy(p, client_id, cl); m->client_id = p; p += cl; }
	if(il){ memcpy(p, identity, il); m->identity = p; p += il; }
	if(tl){ memcpy(p, topic, tl); m->topic = p; p += tl; }
	if(payload_len) memcpy(p, payload, payload_len);
	m->payload = (const uint8_t *)p;
	m->payload_len = payload_len;
	return m;
}

void core_in_free(struct core_in *m)
{
	free(m);
}

static struct core_out *core_out_new(enum core_out_kind kind, const char *text, size_t text_len,
		const uint8_t *payload, size_t len)
{
	struct core_out *o = malloc(sizeof(*o) + text_len + 1 + len);
	char *p;

	if(!o) return NULL;
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	p = (char *)(o + 1);
	memcpy(p, text, text_len);
	p[text_len] = '\0';
	o->text = p;
	p += text_len + 1;
	if(len) memcpy(p, payload, len);
	o->payload = (const uint8_t *)p;
	o->payload_len = len;
	return o;
}

void core_out_free(struct core_out *o)
{
	free(o);
}

/* Output of this loop turn waits here until the turn's store commit: nothing a device or
 * web client is told may be lost by a crash right after. */
static void core_push_out(struct core *c, struct core_out *o)
{
	o->link.next = NULL;
	if(c->turn_tail) c->turn_tail->next = &o->link;
	else c->turn_head = &o->link;
	c->turn_tail = &o->link;
}

static void release_turn_output(struct core *c)
{
	struct mailbox_item *it = c->turn_head, *next;

	c->turn_head = c->turn_tail = NULL;
	for(; it; it = next){
		struct core_out *o = (struct core_out *)it;
		/* Read before the push: once in the outbox the broker thread may free it at once. */
		bool publish = o->kind == CORE_OUT_PUBLISH;
		next = it->next;
		if(!mailbox_push(&c->outbox, it)){
			atomic_fetch_add(&c->stats.outbox_dropped, 1);
			free(o);
		}else if(publish){
			atomic_fetch_add(&c->stats.published, 1);
		}
	}
}

void core_publish(struct core *c, const char *topic, const uint8_t *payload, size_t len, int qos)
{
	struct core_out *o = core_out_new(CORE_OUT_PUBLISH, topic, strlen(topic), payload, len);
	if(!o){
		atomic_fetch_add(&c->stats.outbox_dropped, 1);
		return;
	}
	o->qos = qos;
	core_push_out(c, o);
}

static void core_vlog(struct core *c, enum core_log_level level, const char *fmt, va_list ap)
{
	char line[512];
	struct core_out *o;
	int n;

	if(level == CORE_LOG_DEBUG && !c->cfg->debug) return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if(n < 0) return;
	if((size_t)n >= sizeof(line)) n = sizeof(line) - 1;
	o = core_out_new(CORE_OUT_LOG, line, (size_t)n, NULL, 0);
	if(!o) return;
	o->level = level;
	core_push_out(c, o);
}

void core_log(struct core *c, enum core_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	core_vlog(c, level, fmt, ap);
	va_end(ap);
}


struct core_out *core_take_outbox(struct core *c)
{
	return (struct core_out *)mailbox_take_all(&c->outbox);
}

void core_ring_clear(struct core *c)
{
	atomic_store(&c->ring_pending, false);
}

bool core_post(struct core *c, struct core_in *m)
{
	if(!mailbox_push(&c->inbox, &m->link)){
		atomic_fetch_add(&c->stats.inbox_dropped, 1);
		return false;
	}
	uv_async_send(&c->wake);
	return true;
}

const struct core_stats *core_stats(const struct core *c)
{
	return &c->stats;
}

/* ---- the loop ---- */

static void ring_if_needed(struct core *c)
{
	if(mailbox_count(&c->outbox) == 0) return;
	if(!atomic_exchange(&c->ring_pending, true) && c->edges.ring){
		c->edges.ring(c->edges.ctx);
	}
}

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if(!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_wake(uv_async_t *a)
{
	struct core *c = a->data;
	struct mailbox_item *it, *next;

	if(atomic_load(&c->stopping)){
		/* The edges first (they may still cancel requests), then the requests, whose
		 * timers close with them, then every other handle. */
		if(c->edges.thread_stop) c->edges.thread_stop(c->edges.ctx);
		bootstrap_free(c->bootstrap);
		c->bootstrap = NULL;
		flush_store(c);
		release_turn_output(c);
		exchange_free(c->exchange);
		c->exchange = NULL;
		uv_walk(&c->loop, close_handle, NULL);
		return;
	}
	it = mailbox_take_all(&c->inbox);
	if(it){
		uint64_t t0 = uv_hrtime();
		for(; it; it = next){
			next = it->next;
			atomic_fetch_add(&c->stats.received, 1);
			router_handle(c, (struct core_in *)it);
			core_in_free((struct core_in *)it);
		}
		router_expire(c);
		atomic_fetch_add(&c->stats.core_busy_ns, uv_hrtime() - t0);
	}
}

void core_on_expiry_timer(uv_timer_t *t)
{
	struct core *c = t->data;
	router_expire(c);
}

/* Whatever a callback of this loop turn queued - answers, requests from the REST API,
 * log lines, store writes - goes out before the loop waits again: one ring and one commit
 * per turn. Run after the I/O callbacks (check) and after the timers (prepare). */
static void end_of_turn(struct core *c)
{
	flush_store(c);
	release_turn_output(c);
	ring_if_needed(c);
}

static void on_turn_check(uv_check_t *h)
{
	end_of_turn(h->data);
}

static void on_turn_prepare(uv_prepare_t *h)
{
	end_of_turn(h->data);
}

static void on_queue_timer(uv_timer_t *t)
{
	struct core *c = t->data;
	queue_expire_old(c->queue);
	store_prune_sends(c->store, core_now_wall_ms() - (int64_t)c->cfg->send_retention_s * 1000);
}

static void *core_thread_main(void *arg)
{
	struct core *c = arg;

	if(c->edges.thread_start) c->edges.thread_start(c->edges.ctx);
	router_expire(c);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	c->loop_done = true;
	return NULL;
}

static void report_object_file(void *ctx, enum obj_load_event ev, const char *file,
		unsigned long line, const char *msg)
{
	struct core *c = ctx;
	if(ev == OBJ_LOAD_FAILED){
		core_log(c, CORE_LOG_WARNING, "lwm2m: objects_dir: %s:%lu: %s (file skipped)", file, line, msg);
	}else{
		core_log(c, CORE_LOG_INFO, "lwm2m: objects_dir: %s: %s", file, msg);
	}
}

bool core_device_awake(const struct core *c, const struct registration *reg)
{
	if(!reg->online) return false;
	if(!reg->queue_mode) return true;
	return core_now_mono_ms() - reg->last_uplink_mono_ms < (uint64_t)c->cfg->queue_awake_window_s * 1000u;
}

/* ---- durable state ---- */

#define TOKEN_RESERVE 1000000u   /* tokens handed out between two saves of the counter */

void core_store_registration(struct core *c, const struct registration *reg)
{
	int64_t expires_wall = 0;
	if(!c->store) return;
	if(reg->expires_mono_ms != REG_NO_EXPIRY){
		uint64_t now = core_now_mono_ms();
		expires_wall = core_now_wall_ms() + (int64_t)(reg->expires_mono_ms > now ? reg->expires_mono_ms - now : 0);
	}
	store_put_registration(c->store, reg, expires_wall);
}

void core_store_removal(struct core *c, const char *key)
{
	store_delete_registration(c->store, key);
}

/* Saves the token counter ahead of use, so tokens after a crash are never reused. */
static void store_tokens(struct core *c)
{
	uint64_t next = exchange_next_token(c->exchange);
	if(next + TOKEN_RESERVE / 2 > c->token_saved){
		c->token_saved = next + TOKEN_RESERVE;
		store_set_u64(c->store, "next_token", c->token_saved);
	}
}

static void flush_store(struct core *c)
{
	if(!c->store) return;
	store_tokens(c);
	if(store_flush(c->store) != 0){
		core_log(c, CORE_LOG_ERR, "lwm2m: state_db: a write failed; the last changes may not survive a restart");
	}
}

static void restore_one(void *ctx, const struct stored_registration *r)
{
	struct core *c = ctx;
	int64_t now_wall = core_now_wall_ms();
	uint64_t now = core_now_mono_ms(), expires = REG_NO_EXPIRY;

	if(r->expires_wall_ms){
		int64_t left = r->expires_wall_ms - now_wall;
		expires = left > 0 ? now + (uint64_t)left : now;
	}
	if(registry_restore(c->registry, &r->params, r->registered_wall_ms, r->updated_wall_ms, expires) != 0){
		core_log(c, CORE_LOG_WARNING, "lwm2m: state_db: registration of '%s' could not be restored", r->params.endpoint);
	}
}

static int open_store(struct core *c, struct lwm2m_error *err)
{
	int rc;

	if(!c->cfg->state_db) return 0;
	rc = store_open(c->cfg->state_db, &c->store, err);
	if(rc == 0) store_set_loop(c->store, &c->loop);
	if(rc) return rc;
	rc = store_load_registrations(c->store, restore_one, c, err);
	if(rc) return rc;
	c->token_saved = store_get_u64(c->store, "next_token", 0);
	exchange_set_next_token(c->exchange, c->token_saved);
	core_log(c, CORE_LOG_INFO, "lwm2m: state_db %s: %zu registrations restored", c->cfg->state_db,
			registry_count(c->registry));
	atomic_store(&c->stats.registrations, registry_count(c->registry));
	return 0;
}

/* Object definitions from plugin_opt_objects_dir; a bad file never stops the others. */
static int load_objects(struct core *c, struct lwm2m_error *err)
{
	size_t loaded = 0, failed = 0;
	int rc;

	if(!c->cfg->objects_dir) return 0;
	rc = obj_registry_load_dir(c->model, c->cfg->objects_dir, report_object_file, c, &loaded, &failed);
	if(rc) return lwm2m_fail(err, LWM2M_ENOENT, -1, "plugin_opt_objects_dir: cannot read %s", c->cfg->objects_dir);
	core_log(c, CORE_LOG_INFO, "lwm2m: objects_dir: %zu object files loaded, %zu refused", loaded, failed);
	return 0;
}

/* ---- the bootstrap engine's way out ---- */

static int64_t bs_send(void *ctx, const char *prefix, const char *endpoint, const char *transport,
		const struct lwm2m_op *op, uint32_t timeout_ms, api_done_fn done, void *done_ctx)
{
	struct core *c = ctx;
	return exchange_send_bootstrap(c->exchange, prefix, endpoint, transport, op, timeout_ms, done, done_ctx);
}

static void bs_cancel(void *ctx, int64_t handle)
{
	core_api_cancel(ctx, handle);
}

static void bs_emit(void *ctx, const char *type, const char *endpoint, json_t *data)
{
	struct core *c = ctx;
	events_emit(c->events, type, endpoint, data);
}

static void bs_log(void *ctx, int level, const char *line)
{
	core_log(ctx, (enum core_log_level)level, "lwm2m: bootstrap: %s", line);
}

static int64_t bs_now(void *ctx)
{
	(void)ctx;
	return core_now_wall_ms();
}

struct core *core_new(const struct lwm2m_config *cfg, const struct core_edges *edges,
		struct lwm2m_error *err)
{
	struct core *c = calloc(1, sizeof(*c));
	if(!c){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	if(edges) c->edges = *edges;
	c->limits.max_payload = cfg->max_payload;
	c->limits.max_depth = 8;
	if(mailbox_init(&c->inbox, cfg->inbox_size) || mailbox_init(&c->outbox, cfg->outbox_size)){
		free(c);
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "cannot create mailboxes");
		return NULL;
	}
	c->registry = registry_new((uint64_t)cfg->lifetime_grace_s * 1000, cfg->max_registrations);
	c->events = events_new();
	c->model = obj_registry_new();
	if(!c->registry || !c->events || !c->model || uv_loop_init(&c->loop) != 0){
		registry_free(c->registry);
		events_free(c->events);
		obj_registry_free(c->model);
		mailbox_destroy(&c->inbox);
		mailbox_destroy(&c->outbox);
		free(c);
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "cannot create the core's loop");
		return NULL;
	}
	uv_async_init(&c->loop, &c->wake, on_wake);
	c->wake.data = c;
	uv_timer_init(&c->loop, &c->expiry_timer);
	c->expiry_timer.data = c;
	uv_prepare_init(&c->loop, &c->turn_prepare);
	c->turn_prepare.data = c;
	uv_prepare_start(&c->turn_prepare, on_turn_prepare);
	uv_check_init(&c->loop, &c->turn_check);
	c->turn_check.data = c;
	uv_check_start(&c->turn_check, on_turn_check);
	c->exchange = exchange_new(c);
	c->queue = queue_new(c);
	{
		struct bootstrap_io io = { c, bs_send, bs_cancel, bs_emit, bs_log, bs_now };
		c->bootstrap = bootstrap_new(&io, c->model, cfg->request_timeout_s * 1000u);
	}
	uv_timer_init(&c->loop, &c->queue_timer);
	c->queue_timer.data = c;
	if(!c->exchange || !c->queue || !c->bootstrap){
		core_free(c);
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		return NULL;
	}
	if(load_objects(c, err) != 0 || open_store(c, err) != 0){
		core_free(c);
		return NULL;
	}
	if(queue_restore(c->queue) != 0){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_state_db: cannot read the queued requests");
		core_free(c);
		return NULL;
	}
	{
		/* Often enough that a short plugin_opt_queue_max_age is kept to within a second. */
		uint64_t period = cfg->queue_max_age_s < 60 ? (cfg->queue_max_age_s > 1 ? cfg->queue_max_age_s * 500u : 1000u) : 60000u;
		uv_timer_start(&c->queue_timer, on_queue_timer, period, period);
	}
	return c;
}

int core_start(struct core *c, struct lwm2m_error *err)
{
	sigset_t all, old;
	int rc;

	/* The broker blocks its signals only around epoll_wait: a thread of ours that
	 * did not block them would receive SIGINT/SIGTERM/SIGHUP meant for the broker. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thread, NULL, core_thread_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if(rc != 0) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "cannot start the core thread (%s)", strerror(rc));
	c->thread_running = true;
	return 0;
}

static void free_list(struct mailbox_item *it)
{
	while(it){
		struct mailbox_item *next = it->next;
		free(it);
		it = next;
	}
}

void core_stop(struct core *c)
{
	if(!c || !c->thread_running) return;
	atomic_store(&c->stopping, true);
	uv_async_send(&c->wake);
	pthread_join(c->thread, NULL);
	c->thread_running = false;
}

void core_free(struct core *c)
{
	if(!c) return;
	core_stop(c);
	if(!c->loop_done){
		/* The loop never ran: close its handles on this thread. */
		if(c->store && c->exchange) store_tokens(c);
		bootstrap_free(c->bootstrap);
		c->bootstrap = NULL;
		exchange_free(c->exchange);
		c->exchange = NULL;
		uv_walk(&c->loop, close_handle, NULL);
		uv_run(&c->loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&c->loop);
	free_list(mailbox_take_all(&c->inbox));
	free_list(mailbox_take_all(&c->outbox));
	free_list(c->turn_head);
	mailbox_destroy(&c->inbox);
	mailbox_destroy(&c->outbox);
	queue_free(c->queue);
	if(c->store && c->exchange) store_tokens(c);
	store_close(c->store);
	registry_free(c->registry);
	events_free(c->events);
	endpoints_free(c->endpoints);
	obj_registry_free(c->model);
	free(c);
}
