/* The network side: one libmosquitto client per device, all driven by one epoll loop on
 * this thread (libmosquitto's non-threaded API: loop_read / loop_write / loop_misc on
 * sockets epoll reports), a timer heap, and pacing: at most --max-pending devices are
 * connecting, registering or de-registering at any time.
 *
 * libmosquitto may call back into us (on_connect, on_message, on_disconnect ...) from
 * inside loop_read/loop_write/disconnect; a client is never destroyed from inside its own
 * callback: tearing a connection down is only marked (need_drop) and done in dev_after().
 *
 * HTTP mode (hnet.c) uses the same loop, timers and pacing without connections: a device
 * is CONN_UP from its start, its requests and the server's travel through hnet. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "sim.h"
#include "binding/mqtt_codec.h"

#define SIGNAL_TAG UINT32_MAX
#define MAX_EVENTS 512
#define CLOSE_WAIT_MS 2000u
#define BACKOFF_MAX_MS 30000u
#define STOP_GRACE_MS 5000u

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if(!a) return b;
	if(!b) return a;
	return a < b ? a : b;
}

/* ---- timer heap (entries for a device whose wake_at moved on are skipped) ---- */

static void heap_swap(struct sim_heap_ent *a, struct sim_heap_ent *b)
{
	struct sim_heap_ent t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct sim *s, uint64_t at, uint32_t dev)
{
	size_t i;

	if(s->heap_len == s->heap_cap){
		size_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
		struct sim_heap_ent *grown = realloc(s->heap, cap * sizeof(*grown));
		if(!grown) return -LWM2M_ENOMEM;
		s->heap = grown;
		s->heap_cap = cap;
	}
	i = s->heap_len++;
	s->heap[i].at = at;
	s->heap[i].dev = dev;
	while(i > 0 && s->heap[(i - 1) / 2].at > s->heap[i].at){
		heap_swap(&s->heap[(i - 1) / 2], &s->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct sim_heap_ent heap_pop(struct sim *s)
{
	struct sim_heap_ent top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->heap_len];
	for(;;){
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if(l < s->heap_len && s->heap[l].at < s->heap[m].at) m = l;
		if(r < s->heap_len && s->heap[r].at < s->heap[m].at) m = r;
		if(m == i) break;
		heap_swap(&s->heap[m], &s->heap[i]);
		i = m;
	}
	return top;
}

static uint64_t dev_next_due(const struct sim *s, const struct sim_device *d)
{
	uint64_t due = 0;

	if(d->done || d->failed) return 0;
	due = earliest(due, d->retry_at);
	due = earliest(due, d->close_deadline);
	due = earliest(due, d->conn_deadline);
	if(d->conn != CONN_NONE) due = earliest(due, d->misc_at);
	if(d->conn == CONN_UP) due = earliest(due, proto_next_due(s, d));
	return due;
}

void net_sched(struct sim *s, struct sim_device *d)
{
	uint64_t due = dev_next_due(s, d);

	if(!due || due == d->wake_at) return;
	if(heap_push(s, due, d->index) != 0){
		fprintf(stderr, "sim: out of memory for timers\n");
		return;
	}
	d->wake_at = due;
}

/* ---- the start queue ---- */

static void enqueue(struct sim *s, struct sim_device *d)
{
	if(d->queued) return;
	s->queue[(s->q_head + s->q_len) % s->n_devs] = d->index;
	s->q_len++;
	d->queued = true;
}

static struct sim_device *dequeue(struct sim *s)
{
	struct sim_device *d = &s->devs[s->queue[s->q_head]];

	s->q_head = (s->q_head + 1) % s->n_devs;
	s->q_len--;
	d->queued = false;
	return d;
}

/* ---- device bookkeeping ---- */

static void finish(struct sim *s, struct sim_device *d, bool failed)
{
	if(d->done || d->failed) return;
	if(failed){
		d->failed = true;
		s->st.failed++;
	}else{
		d->done = true;
	}
	s->n_done++;
	d->retry_at = d->close_deadline = d->conn_deadline = 0;
}

static void update_inflight(struct sim *s, struct sim_device *d)
{
	bool want = !d->done && !d->failed
		&& (d->conn == CONN_CONNECTING || d->conn == CONN_SUBSCRIBING
			|| d->reg == REG_PENDING || d->reg == REG_DEREG_PENDING
			|| d->bs == BS_REQUESTED || d->bs == BS_RUNNING);

	if(want == d->inflight) return;
	d->inflight = want;
	if(want) s->inflight++;
	else s->inflight--;
}

static void set_interest(struct sim *s, struct sim_device *d, bool out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.u32 = d->index;
	if(epoll_ctl(s->epfd, EPOLL_CTL_MOD, d->fd, &ev) == 0) d->want_out = out;
}

/* Forget the socket (libmosquitto closed it, or is about to be destroyed). */
static void forget_socket(struct sim *s, struct sim_device *d, bool still_open)
{
	if(d->fd >= 0 && still_open) epoll_ctl(s->epfd, EPOLL_CTL_DEL, d->fd, NULL);
	d->fd = -1;
	d->want_out = false;
}

static void drop_connection(struct sim *s, struct sim_device *d)
{
	if(d->mosq){
		forget_socket(s, d, mosquitto_socket(d->mosq) == d->fd);
		mosquitto_destroy(d->mosq);
		d->mosq = NULL;
	}
	d->conn = CONN_NONE;
	d->conn_deadline = d->close_deadline = d->misc_at = 0;
	proto_on_disconnect(s, d);
}

/* Write what libmosquitto has queued and watch the socket for writability if needed. */
static void flush(struct sim *s, struct sim_device *d)
{
	if(!d->mosq || d->fd < 0) return;
	if(mosquitto_want_write(d->mosq)) mosquitto_loop_write(d->mosq, 1);
	if(d->fd < 0) return;   /* the write found the connection gone */
	if(mosquitto_socket(d->mosq) != d->fd){
		d->fd = -1;
		d->want_out = false;
		return;
	}
	if(mosquitto_want_write(d->mosq) != d->want_out) set_interest(s, d, !d->want_out);
}

/* After anything happened to a device: deferred teardown, writes, pacing, timers. */
static void dev_after(struct sim *s, struct sim_device *d)
{
	if(d->need_drop){
		d->need_drop = false;
		drop_connection(s, d);
	}
	flush(s, d);
	update_inflight(s, d);
	net_sched(s, d);
}

void net_after(struct sim *s, struct sim_device *d)
{
	dev_after(s, d);
}

/* ---- libmosquitto callbacks ---- */

static const char *first_request(const struct sim *s, const struct sim_device *d)
{
	if(!s->cfg.bootstrap || d->bs == BS_DONE) return "cannot send Register";
	return s->cfg.bootstrap_pack ? "cannot send Bootstrap-Pack-Request" : "cannot send Bootstrap-Request";
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct sim_device *d = obj;
	struct sim *s = d->sim;

	if(rc != 0){
		net_retry(s, d, mosquitto_connack_string(rc));
		return;
	}
	if(d->stopping || s->stopping){
		net_close(s, d);
		return;
	}
	if(d->bs_topic){
		char *const topics[] = { d->topic, d->bs_topic };
		rc = mosquitto_subscribe_multiple(mosq, NULL, 2, topics, 1, 0, NULL);
	}else{
		rc = mosquitto_subscribe(mosq, NULL, d->topic, 1);
	}
	if(rc != MOSQ_ERR_SUCCESS){
		net_retry(s, d, mosquitto_strerror(rc));
		return;
	}
	d->conn = CONN_SUBSCRIBING;
	sim_log(s, d, "%s", "connected");
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	struct sim_device *d = obj;
	struct sim *s = d->sim;
	(void)mosq;
	(void)mid;

	if(d->conn != CONN_SUBSCRIBING) return;
	for(int i = 0; i < (d->bs_topic ? 2 : 1); i++){
		if(i >= n || granted[i] > 2){
			net_retry(s, d, "subscription refused");
			return;
		}
	}
	d->conn = CONN_UP;
	d->conn_deadline = 0;
	if(d->stopping || s->stopping){
		net_close(s, d);
		return;
	}
	if(proto_start(s, d) != 0) net_retry(s, d, first_request(s, d));
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct sim_device *d = obj;
	(void)mosq;

	if(!msg->topic || msg->payloadlen < 0) return;
	if(strcmp(msg->topic, d->topic) == 0){
		proto_on_message(d->sim, d, LWM2M_IFACE_RD, msg->payload, (size_t)msg->payloadlen);
	}else if(d->bs_topic && strcmp(msg->topic, d->bs_topic) == 0){
		proto_on_message(d->sim, d, LWM2M_IFACE_BS, msg->payload, (size_t)msg->payloadlen);
	}
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct sim_device *d = obj;
	struct sim *s = d->sim;
	enum sim_conn prev = d->conn;
	(void)mosq;

	/* libmosquitto has closed the socket: epoll forgot it with the close */
	forget_socket(s, d, false);
	d->conn = CONN_NONE;
	d->close_deadline = d->conn_deadline = d->misc_at = 0;
	proto_on_disconnect(s, d);
	if(d->failed || d->done) return;
	if(prev == CONN_CLOSING || d->stopping || s->stopping){
		sim_log(s, d, "%s", "disconnected");
		finish(s, d, false);
		return;
	}
	net_retry(s, d, rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_SUCCESS ? "connection lost"
			: mosquitto_strerror(rc));
}

/* ---- connecting ---- */

static int dev_new_client(struct sim *s, struct sim_device *d)
{
	const struct sim_config *c = &s->cfg;
	const char *user = c->username_is_ep ? d->ep : c->username;
	int rc;

	d->mosq = mosquitto_new(d->ep, true, d);
	if(!d->mosq) return MOSQ_ERR_NOMEM;
	sim_disable_socketpair(d->mosq);   /* two descriptors less per client where supported */
	rc = mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if(!rc) rc = mosquitto_int_option(d->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if(!rc && (user || c->password)) rc = mosquitto_username_pw_set(d->mosq, user, c->password);
	if(!rc && (c->tls_ca || c->tls_cert)){
		rc = mosquitto_tls_set(d->mosq, c->tls_ca, NULL, c->tls_cert, c->tls_key, NULL);
	}
	if(rc){
		mosquitto_destroy(d->mosq);
		d->mosq = NULL;
		return rc;
	}
	mosquitto_connect_callback_set(d->mosq, on_connect);
	mosquitto_subscribe_callback_set(d->mosq, on_subscribe);
	mosquitto_message_callback_set(d->mosq, on_message);
	mosquitto_disconnect_callback_set(d->mosq, on_disconnect);
	return 0;
}

static void dev_connect(struct sim *s, struct sim_device *d)
{
	struct epoll_event ev;
	int rc = 0;

	if(!d->mosq) rc = dev_new_client(s, d);
	if(!rc) rc = mosquitto_connect_async(d->mosq, s->cfg.host, s->cfg.port, (int)s->cfg.keepalive_s);
	if(rc){
		net_retry(s, d, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return;
	}
	d->fd = mosquitto_socket(d->mosq);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = d->index;
	if(d->fd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, d->fd, &ev) != 0){
		d->fd = -1;
		d->need_drop = true;
		net_retry(s, d, "cannot watch the socket");
		return;
	}
	d->want_out = true;
	d->conn = CONN_CONNECTING;
	d->conn_deadline = s->now_ms + (uint64_t)s->cfg.timeout_s * 1000u;
	d->misc_at = s->now_ms + (uint64_t)s->cfg.keepalive_s * 250u;
}

/* Its turn has come: connect, or register again on the open connection. */
static void dev_start(struct sim *s, struct sim_device *d)
{
	if(d->done || d->failed) return;
	if(s->http && d->conn == CONN_NONE) d->conn = CONN_UP;   /* HTTP: nothing to connect */
	if(d->conn == CONN_NONE) dev_connect(s, d);
	else if(d->conn == CONN_UP && d->reg == REG_NONE && d->bs != BS_REQUESTED && d->bs != BS_RUNNING
			&& proto_start(s, d) != 0){
		net_retry(s, d, first_request(s, d));
	}
	dev_after(s, d);
}

void net_retry(struct sim *s, struct sim_device *d, const char *why)
{
	uint64_t backoff;

	if(d->done || d->failed) return;
	if(s->stopping || d->stopping){
		sim_log(s, d, "%s", why);
		if(d->conn == CONN_UP || d->conn == CONN_CLOSING) net_close(s, d);
		else{
			d->need_drop = true;
			finish(s, d, false);
		}
		return;
	}
	d->attempts++;
	if(!d->registered_once && d->attempts > s->cfg.retries){
		if(s->cfg.verbose) sim_log(s, d, "%s: giving up", why);
		else fprintf(stderr, "sim: %s: %s: giving up\n", d->ep, why);
		d->need_drop = true;
		finish(s, d, true);
		return;
	}
	backoff = 1000u << (d->attempts < 6 ? d->attempts - 1 : 5);
	if(backoff > BACKOFF_MAX_MS) backoff = BACKOFF_MAX_MS;
	backoff += d->rng % 500u;   /* spread retries of many devices */
	sim_log(s, d, "%s: retrying in %" PRIu64 " ms", why, backoff);
	d->retry_at = s->now_ms + backoff;
	/* a connection that did not come up is started over; an open one is kept */
	if(d->conn != CONN_UP) d->need_drop = true;
}

void net_close(struct sim *s, struct sim_device *d)
{
	d->retry_at = 0;
	if(d->done || d->failed) return;
	if(d->conn == CONN_CLOSING) return;
	if(d->conn == CONN_NONE || !d->mosq || d->fd < 0){
		d->need_drop = true;
		finish(s, d, false);
		return;
	}
	d->conn = CONN_CLOSING;
	d->close_deadline = s->now_ms + CLOSE_WAIT_MS;
	/* may call on_disconnect right away (the DISCONNECT is written at once) */
	if(mosquitto_disconnect(d->mosq) != MOSQ_ERR_SUCCESS && !d->done){
		d->need_drop = true;
		finish(s, d, false);
	}
}

int net_publish(struct sim *s, struct sim_device *d, const char *topic, const uint8_t *p, size_t len)
{
	int rc;

	if(!d->mosq || !topic || len > INT32_MAX) return -LWM2M_EINVAL;
	rc = mosquitto_publish(d->mosq, NULL, topic, (int)len, p, 1, false);
	if(rc != MOSQ_ERR_SUCCESS){
		s->st.publish_errors++;
		sim_log(s, d, "publish failed: %s", mosquitto_strerror(rc));
		return -LWM2M_EINVAL;
	}
	return 0;
}

/* ---- timers ---- */

static void dev_timers(struct sim *s, struct sim_device *d)
{
	if(d->done || d->failed) return;
	if(d->retry_at && s->now_ms >= d->retry_at){
		d->retry_at = 0;
		enqueue(s, d);
	}
	if(d->close_deadline && s->now_ms >= d->close_deadline){
		d->need_drop = true;
		finish(s, d, false);
		return;
	}
	if(d->conn_deadline && s->now_ms >= d->conn_deadline){
		d->conn_deadline = 0;
		net_retry(s, d, "no CONNACK/SUBACK in time");
		return;
	}
	if(d->mosq && d->conn != CONN_NONE && d->misc_at && s->now_ms >= d->misc_at){
		d->misc_at = s->now_ms + (uint64_t)s->cfg.keepalive_s * 250u;
		mosquitto_loop_misc(d->mosq);   /* keep-alive PINGREQ, dead-peer detection */
	}
	if(d->conn == CONN_UP) proto_timers(s, d);
}

static void run_timers(struct sim *s)
{
	while(s->heap_len && s->heap[0].at <= s->now_ms){
		struct sim_heap_ent e = heap_pop(s);
		struct sim_device *d = &s->devs[e.dev];

		if(e.at != d->wake_at) continue;   /* stale */
		d->wake_at = 0;
		dev_timers(s, d);
		dev_after(s, d);
	}
}

/* ---- starting and stopping ---- */

static void pump(struct sim *s)
{
	while(s->q_len && s->inflight < s->cfg.max_pending) dev_start(s, dequeue(s));
}

static bool should_stop(const struct sim *s)
{
	if(s->signals) return true;
	if(s->n_done >= s->n_devs) return true;   /* everyone failed */
	if(!s->cfg.has_run_for) return false;
	if(s->cfg.run_for_s > 0) return s->now_ms - s->start_ms >= (uint64_t)(s->cfg.run_for_s * 1000.0);
	return s->st.registered + s->st.failed >= s->n_devs;
}

static void dev_stop(struct sim *s, struct sim_device *d)
{
	if(d->done || d->failed) return;
	d->stopping = true;
	d->retry_at = 0;
	if(d->reg == REG_DONE && !d->has_pending){
		if(!s->cfg.deregister_at_exit || proto_deregister(s, d) != 0) net_close(s, d);
	}else if(d->reg == REG_PENDING || d->reg == REG_DEREG_PENDING || d->has_pending
			|| d->conn == CONN_CONNECTING || d->conn == CONN_SUBSCRIBING){
		/* let the exchange in progress end: its handlers see `stopping` */
	}else{
		net_close(s, d);
	}
	dev_after(s, d);
}

static void begin_stop(struct sim *s)
{
	s->stopping = true;
	s->stop_next = 0;
	s->stop_deadline = s->now_ms + (uint64_t)s->cfg.timeout_s * 1000u + STOP_GRACE_MS;
	while(s->q_len) dequeue(s);
	if(s->cfg.verbose) printf("sim: stopping\n");
}

static void stop_pump(struct sim *s)
{
	while(s->stop_next < s->n_devs && s->inflight < s->cfg.max_pending){
		dev_stop(s, &s->devs[s->stop_next++]);
	}
}

/* ---- events ---- */

static void on_signal(struct sim *s)
{
	struct signalfd_siginfo si;

	while(read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) s->signals++;
}

static void on_io(struct sim *s, struct sim_device *d, uint32_t events)
{
	if(!d->mosq || d->fd < 0) return;
	if(events & (EPOLLIN | EPOLLERR | EPOLLHUP)) mosquitto_loop_read(d->mosq, 1);
	if(d->fd >= 0 && (events & EPOLLOUT)) mosquitto_loop_write(d->mosq, 1);
	dev_after(s, d);
}

static int wait_ms(const struct sim *s)
{
	uint64_t until = s->now_ms + 1000u;

	if(s->heap_len && s->heap[0].at < until) until = s->heap[0].at;
	if(!s->stopping && s->cfg.has_run_for && s->cfg.run_for_s > 0){
		uint64_t end = s->start_ms + (uint64_t)(s->cfg.run_for_s * 1000.0);
		if(end < until) until = end;
	}
	return until > s->now_ms ? (int)(until - s->now_ms) : 0;
}

int net_run(struct sim *s)
{
	struct epoll_event evs[MAX_EVENTS];

	s->now_ms = s->start_ms = mono_ms();
	for(size_t i = 0; i < s->n_devs; i++) enqueue(s, &s->devs[i]);
	for(;;){
		int n;

		s->now_ms = mono_ms();
		if(!s->stopping && should_stop(s)) begin_stop(s);
		if(s->stopping){
			if(s->signals > 1) break;   /* asked twice: leave now */
			stop_pump(s);
			if(s->n_done >= s->n_devs || s->now_ms >= s->stop_deadline) break;
		}else{
			pump(s);
		}
		if(s->http) n = hnet_wait(s, evs, MAX_EVENTS, wait_ms(s));
		else n = epoll_wait(s->epfd, evs, MAX_EVENTS, wait_ms(s));
		if(n < 0 && errno != EINTR){
			perror("sim: epoll_wait");
			return -1;
		}
		s->now_ms = mono_ms();
		for(int i = 0; i < n; i++){
			if(evs[i].data.u32 == SIGNAL_TAG) on_signal(s);
			else if(evs[i].data.u32 < s->n_devs) on_io(s, &s->devs[evs[i].data.u32], evs[i].events);
		}
		if(s->http) hnet_io(s);   /* SIM_HTTP_TAG or not: the client's sockets are not in epfd */
		run_timers(s);
	}
	return 0;
}

/* ---- setup ---- */

/* Three descriptors per client (the socket and libmosquitto's wake-up socket pair). */
static void raise_fd_limit(size_t count)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)count * 3u + 64u;

	if(getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return;
	if(rl.rlim_max < need){
		struct rlimit want = { need, need };
		if(setrlimit(RLIMIT_NOFILE, &want) == 0) return;
	}
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if(rl.rlim_cur < need){
		fprintf(stderr, "sim: warning: only %lu file descriptors for %zu devices\n",
				(unsigned long)rl.rlim_cur, count);
	}
}

static int dev_init(struct sim *s, struct sim_device *d, unsigned index, uint64_t seed)
{
	struct lwm2m_buf topic;
	char ep[256];
	unsigned number = s->cfg.first + index;
	int n = snprintf(ep, sizeof(ep), "%s%u", s->cfg.ep_prefix, number);
	int rc;

	d->sim = s;
	d->index = index;
	d->number = number;
	d->fd = -1;
	d->rng = seed ^ (0x9e3779b97f4a7c15ull * (number + 1u));
	if(!d->rng) d->rng = 1;
	if(n < 0 || (size_t)n >= sizeof(ep) || !mqtt_endpoint_name_valid(ep, (size_t)n)){
		fprintf(stderr, "sim: '%s' is not a valid endpoint name\n", ep);
		return -LWM2M_EINVAL;
	}
	d->ep = strdup(ep);
	buf_init(&topic, 0);
	rc = d->ep ? mqtt_topic_format(&topic, s->cfg.prefix, LWM2M_IFACE_RD, ep, (size_t)n)
		: -LWM2M_ENOMEM;
	if(rc){
		buf_free(&topic);
		fprintf(stderr, "sim: cannot make a topic for '%s' (prefix '%s')\n", ep,
				s->cfg.prefix ? s->cfg.prefix : "");
		return rc;
	}
	d->topic = (char *)buf_steal(&topic, NULL);
	if(s->cfg.bootstrap && !s->cfg.http_url){   /* HTTP: the bootstrap goes to POST /bs */
		rc = mqtt_topic_format(&topic, s->cfg.prefix, LWM2M_IFACE_BS, ep, (size_t)n);
		if(rc){
			buf_free(&topic);
			return rc;
		}
		d->bs_topic = (char *)buf_steal(&topic, NULL);
	}
	return tree_init(&d->tree, &s->model, number, sim_wall_s(), s->cfg.lifetime, s->cfg.binding,
			s->bs_uri);
}

/* The LwM2M Server URI of the factory Bootstrap-Server account: the broker itself, or in
 * HTTP mode the server's URL. */
static int make_bs_uri(struct sim *s)
{
	struct lwm2m_buf uri;
	bool v6 = strchr(s->cfg.host, ':') != NULL;
	int rc;

	if(!s->cfg.bootstrap) return 0;
	buf_init(&uri, 0);
	if(s->cfg.http_url){
		rc = buf_printf(&uri, "%s", s->cfg.http_url);
	}else{
		rc = buf_printf(&uri, "%s://%s%s%s:%d", s->cfg.tls_ca ? "mqtts" : "mqtt", v6 ? "[" : "",
				s->cfg.host, v6 ? "]" : "", s->cfg.port);
	}
	if(!rc) rc = buf_append_byte(&uri, 0);
	if(rc){
		buf_free(&uri);
		return rc;
	}
	s->bs_uri = (char *)buf_steal(&uri, NULL);
	return 0;
}

static int fail_sys(const char *what)
{
	fprintf(stderr, "sim: %s: %s\n", what, strerror(errno));
	return -1;
}

int net_init(struct sim *s)
{
	struct epoll_event ev;
	sigset_t mask;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	s->epfd = s->sigfd = -1;
	if(!s->cfg.http_url) raise_fd_limit(s->cfg.count);   /* HTTP devices share the sockets */
	mosquitto_lib_init();
	s->n_devs = s->cfg.count;
	s->devs = calloc(s->n_devs, sizeof(*s->devs));
	s->queue = calloc(s->n_devs, sizeof(*s->queue));
	if(!s->devs || !s->queue){
		fprintf(stderr, "sim: out of memory for %zu devices\n", s->n_devs);
		return -1;
	}
	if(make_bs_uri(s) != 0){
		fprintf(stderr, "sim: out of memory\n");
		return -1;
	}
	for(size_t i = 0; i < s->n_devs; i++){
		if(dev_init(s, &s->devs[i], (unsigned)i, seed) != 0) return -1;   /* said why */
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if(s->epfd < 0) return fail_sys("epoll_create1");
	/* signals arrive through the loop, so that stopping is just another event */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if(sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return fail_sys("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if(s->sigfd < 0) return fail_sys("signalfd");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = SIGNAL_TAG;
	if(epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev) != 0) return fail_sys("epoll_ctl");
	return s->cfg.http_url ? hnet_init(s) : 0;   /* says why */
}

void net_free(struct sim *s)
{
	hnet_free(s);
	for(size_t i = 0; s->devs && i < s->n_devs; i++){
		struct sim_device *d = &s->devs[i];

		if(d->mosq){
			forget_socket(s, d, mosquitto_socket(d->mosq) == d->fd);
			mosquitto_destroy(d->mosq);
		}
		obs_clear(d);
		tree_free(&d->tree);
		cose_key_wipe(&d->cose);
		free(d->ep);
		free(d->topic);
		free(d->bs_topic);
	}
	free(s->bs_uri);
	s->bs_uri = NULL;
	free(s->devs);
	free(s->queue);
	free(s->heap);
	s->devs = NULL;
	s->queue = NULL;
	s->heap = NULL;
	if(s->epfd >= 0) close(s->epfd);
	if(s->sigfd >= 0) close(s->sigfd);
	s->epfd = s->sigfd = -1;
	mosquitto_lib_cleanup();
}
