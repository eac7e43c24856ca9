/* The registration interface toward the upstream server, one state machine per device:
 * Register (with version fallback), Updates of our own before the lifetime runs out,
 * De-register, backoff when the server is away, and a bounded number of requests in
 * flight over all devices. */
#include "upstream_internal.h"
#include "../binding/coap_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS 2000u
#define BACKOFF_MAX_MS 120000u
#define REFUSED_RETRY_MS 600000u     /* a refusal is retried, slowly: the server's config may change */
#define DEFAULT_LIFETIME_S 86400u    /* what the server gets for a device whose lifetime is 0 */

static const char *const versions[] = { "1.2", "1.1", "1.0" };
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))

static void send_next(struct up_dev *d);

const char *up_state_name(enum up_state s)
{
	switch(s){
		case UP_IDLE: return "idle";
		case UP_REGISTERING: return "registering";
		case UP_REGISTERED: return "registered";
		case UP_BACKOFF: return "backoff";
		case UP_REFUSED: return "refused";
		case UP_DEREGISTERING: return "deregistering";
	}
	return "?";
}

bool up_token_is(const coap_pdu_t *pdu, const uint8_t *token, size_t len)
{
	coap_bin_const_t t = coap_pdu_get_token(pdu);
	return t.length == len && (len == 0 || memcmp(t.s, token, len) == 0);
}

static void set_state(struct up_dev *d, enum up_state s)
{
	if(d->state == s) return;
	d->state = s;
	up_emit_state(d);
}

/* ---- the slot queue ---- */

static void enqueue(struct up_dev *d)
{
	struct upstream *u = d->u;
	if(d->waiting || d->busy) return;
	d->waiting = true;
	d->wait_next = NULL;
	if(u->wait_tail) u->wait_tail->wait_next = d;
	else u->wait_head = d;
	u->wait_tail = d;
}

static void dequeue(struct up_dev *d)
{
	struct upstream *u = d->u;
	struct up_dev *prev = NULL;

	if(!d->waiting) return;
	for(struct up_dev *x = u->wait_head; x && x != d; x = x->wait_next) prev = x;
	if(prev) prev->wait_next = d->wait_next;
	else u->wait_head = d->wait_next;
	if(u->wait_tail == d) u->wait_tail = prev;
	d->waiting = false;
}

static void pump(struct upstream *u)
{
	while(!u->stopping && u->inflight < u->cfg->coap_max_inflight && u->wait_head){
		struct up_dev *d = u->wait_head;
		u->wait_head = d->wait_next;
		if(!u->wait_head) u->wait_tail = NULL;
		d->waiting = false;
		send_next(d);
	}
}

/* ---- devices ---- */

static void on_dev_closed(uv_handle_t *h)
{
	struct up_dev *d = h->data;
	free(d->key);
	free(d->endpoint);
	free(d->prefix);
	free(d);
}

static void release_session(struct up_dev *d)
{
	if(!d->session) return;
	up_session_retire(d->u, d->session);
	d->session = NULL;
}

void up_dev_free(struct up_dev *d)
{
	struct upstream *u = d->u;

	dequeue(d);
	if(d->busy){
		d->busy = false;
		u->inflight--;
	}
	up_requests_drop(d, "the device is gone");
	up_sends_free(d);
	up_block1_free(d);
	release_session(d);
	HASH_DEL(u->devs, d);
	uv_timer_stop(&d->timer);
	uv_close((uv_handle_t *)&d->timer, on_dev_closed);
}

struct up_dev *up_dev_get(struct upstream *u, const struct registration *reg)
{
	struct up_dev *d = NULL;

	HASH_FIND_STR(u->devs, reg->key, d);
	if(d){
		if(d->gone){
			/* Registered again while its De-register was pending: register afresh instead. */
			d->gone = false;
			if(d->want == UP_WANT_DEREGISTER) d->want = UP_WANT_REGISTER;
		}
		return d;
	}
	d = calloc(1, sizeof(*d));
	if(!d) return NULL;
	d->u = u;
	d->key = strdup(reg->key);
	d->endpoint = strdup(reg->endpoint);
	d->prefix = reg->prefix ? strdup(reg->prefix) : NULL;
	if(!d->key || !d->endpoint || (reg->prefix && !d->prefix)){
		free(d->key);
		free(d->endpoint);
		free(d->prefix);
		free(d);
		return NULL;
	}
	uv_timer_init(core_api_loop(u->c), &d->timer);
	d->timer.data = d;
	HASH_ADD_KEYPTR(hh, u->devs, d->key, strlen(d->key), d);
	return d;
}

static bool waiting_for_timer(const struct up_dev *d)
{
	return d->state == UP_BACKOFF || d->state == UP_REFUSED;
}

void up_dev_want(struct up_dev *d, enum up_want want, bool links)
{
	if(d->gone && want != UP_WANT_DEREGISTER) return;
	if(want > d->want) d->want = want;
	d->update_links = d->update_links || links;
	/* Away or refused: the timed attempt registers afresh, with everything known then. */
	if(waiting_for_timer(d) && want != UP_WANT_DEREGISTER) return;
	if(!d->busy){
		enqueue(d);
		pump(d->u);
	}
}

void up_dev_gone(struct up_dev *d)
{
	d->gone = true;
	up_requests_drop(d, "the device's registration ended");
	up_sends_free(d);
	if(d->state == UP_REGISTERED || d->busy){
		d->want = UP_WANT_DEREGISTER;
		if(!d->busy){
			enqueue(d);
			pump(d->u);
		}
		return;
	}
	/* Nothing registered upstream: nothing to undo. */
	up_dev_free(d);
}

/* ---- timers ---- */

static void on_dev_timer(uv_timer_t *t)
{
	struct up_dev *d = t->data;

	if(waiting_for_timer(d)){
		/* The next attempt is a fresh Register on a fresh session. */
		release_session(d);
		d->state = UP_IDLE;
		d->want = UP_WANT_REGISTER;
		enqueue(d);
		pump(d->u);
		return;
	}
	if(d->state == UP_REGISTERED) up_dev_want(d, UP_WANT_UPDATE, false);
}

static void schedule(struct up_dev *d, uint64_t ms)
{
	uv_timer_start(&d->timer, on_dev_timer, ms, 0);
}

/* Updates well before the server's lifetime ends: at 3/4 of it, at least 1 s. */
static void schedule_refresh(struct up_dev *d)
{
	uint64_t ms = d->lifetime_s * 750u;
	schedule(d, ms < 1000 ? 1000 : ms);
}

static void backoff(struct up_dev *d, enum up_state state, uint16_t code, const char *reason)
{
	uint32_t ms;

	if(state == UP_REFUSED){
		ms = REFUSED_RETRY_MS;
	}else{
		/* At most a quarter of the lifetime: the device is back upstream well before its
		 * registration there would have run out. */
		uint64_t cap = d->lifetime_s ? d->lifetime_s * 250u : BACKOFF_MAX_MS;
		if(cap > BACKOFF_MAX_MS) cap = BACKOFF_MAX_MS;
		if(cap < BACKOFF_FIRST_MS) cap = BACKOFF_FIRST_MS;
		d->backoff_ms = d->backoff_ms ? d->backoff_ms * 2 : BACKOFF_FIRST_MS;
		if(d->backoff_ms > cap) d->backoff_ms = (uint32_t)cap;
		/* Jitter, so many devices do not all come back in the same millisecond. */
		ms = d->backoff_ms - d->backoff_ms / 4 + (uint32_t)(rand() % (int)(d->backoff_ms / 2 + 1));
	}
	d->last_code = code;
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	d->next_attempt_wall_ms = up_now_wall_ms() + ms;
	d->location[0] = '\0';
	d->want = UP_WANT_REGISTER;
	schedule(d, ms);
	if(d->state == state){
		up_emit_state(d);
	}else{
		set_state(d, state);
	}
	up_log(d->u, state == UP_REFUSED ? CORE_LOG_WARNING : CORE_LOG_NOTICE,
			"endpoint '%s': %s; next attempt in %u s", d->endpoint, reason, (ms + 999) / 1000);
}

/* ---- building requests ---- */

static int add_query(coap_optlist_t **opts, const char *name, const char *value)
{
	char q[300];
	int n = snprintf(q, sizeof(q), "%s=%s", name, value);
	coap_optlist_t *o;

	if(n < 0 || (size_t)n >= sizeof(q)) return -1;
	o = coap_new_optlist(COAP_OPTION_URI_QUERY, (size_t)n, (const uint8_t *)q);
	return o && coap_insert_optlist(opts, o) ? 0 : -1;
}

static int add_path(coap_optlist_t **opts, const char *path)
{
	const char *p = path;
	while(*p){
		size_t n = strcspn(p, "/");
		coap_optlist_t *o = coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)p);
		if(!o || !coap_insert_optlist(opts, o)) return -1;
		p += n;
		if(*p == '/') p++;
	}
	return 0;
}

void up_release_copy(coap_session_t *session, void *app_ptr)
{
	(void)session;
	free(app_ptr);
}

/* A CON request on the device's session, with a fresh token kept in token/token_len. */
static coap_pdu_t *new_request(struct up_dev *d, coap_pdu_code_t code, uint8_t *token, size_t *token_len)
{
	coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, code, coap_new_message_id(d->session),
			coap_session_max_pdu_size(d->session));
	if(!pdu) return NULL;
	coap_session_new_token(d->session, token_len, token);
	if(!coap_add_token(pdu, *token_len, token)){
		coap_delete_pdu(pdu);
		return NULL;
	}
	return pdu;
}

static bool open_session(struct up_dev *d, char *why, size_t why_size)
{
	if(d->session) return true;
	d->session = up_creds_session(d->u, d->endpoint, why, why_size);
	if(!d->session) return false;
	coap_session_set_app_data(d->session, d);
	return true;
}

static int send_pdu(struct up_dev *d, coap_pdu_t *pdu, const uint8_t *body, size_t len)
{
	if(body && len){
		uint8_t *copy = malloc(len);
		if(!copy){
			coap_delete_pdu(pdu);
			return -1;
		}
		memcpy(copy, body, len);
		/* Block1 when the object list does not fit one datagram. */
		if(!coap_add_data_large_request(d->session, pdu, len, copy, up_release_copy, copy)){
			coap_delete_pdu(pdu);
			return -1;
		}
	}
	up_touch(d->u, d->session);
	return coap_send(d->session, pdu) == COAP_INVALID_MID ? -1 : 0;
}

/* The object list the server may see: without Security (0), OSCORE (21), COSE (23) and
 * MQTT Server (24), which hold the device's credentials toward us. */
static int registration_body(const struct registration *reg, struct lwm2m_buf *links)
{
	const char *l = reg->links ? reg->links : "";
	struct lwm2m_error err;

	if(coap_codec_filter_links(l, strlen(l), links, &err) != 0) return -1;
	if(links->len && links->data[links->len - 1] == '\0') links->len--;
	return 0;
}

static int add_content_format(coap_optlist_t **opts, uint16_t cf)
{
	uint8_t b[4];
	return coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
				coap_encode_var_safe(b, sizeof(b), cf), b)) ? 0 : -1;
}

static int add_queries(coap_optlist_t **opts, const struct lwm2m_buf *q)
{
	size_t pos = 0;
	const char *v;

	while((v = coap_codec_query_next(q, &pos)) != NULL){
		coap_optlist_t *o = coap_new_optlist(COAP_OPTION_URI_QUERY, strlen(v), (const uint8_t *)v);
		if(!o || !coap_insert_optlist(opts, o)) return -1;
	}
	return 0;
}

static int send_register(struct up_dev *d, const struct registration *reg, char *why, size_t why_size)
{
	const char *version = versions[d->version_idx];
	struct coap_reg_state st = {
		.ep = op_view_str(d->endpoint), .version = op_view_str(version), .transport = 'U',
		.queue = reg->queue_mode, .sms = op_view_str(reg->sms ? reg->sms : ""),
	};
	coap_optlist_t *opts = NULL;
	struct lwm2m_buf links, query;
	struct lwm2m_error err;
	coap_pdu_t *pdu = NULL;
	size_t count;
	int rc = -1;

	d->lifetime_s = reg->lifetime ? reg->lifetime : DEFAULT_LIFETIME_S;
	st.lifetime = d->lifetime_s;
	buf_init(&links, 0);
	buf_init(&query, 0);
	if(coap_codec_register_query(&st, &query, &count, &err) != 0){
		snprintf(why, why_size, "cannot be registered upstream: %s", err.msg);
	}else if(registration_body(reg, &links) != 0){
		snprintf(why, why_size, "its object list cannot be passed on");
	}else{
		pdu = new_request(d, COAP_REQUEST_CODE_POST, d->token, &d->token_len);
		snprintf(why, why_size, "the request could not be sent");
	}
	if(pdu && add_path(&opts, "rd") == 0 && add_queries(&opts, &query) == 0
			&& (!links.len || add_content_format(&opts, COAP_MEDIATYPE_APPLICATION_LINK_FORMAT) == 0)
			&& coap_add_optlist_pdu(pdu, &opts)){
		rc = send_pdu(d, pdu, links.data, links.len);
		pdu = NULL;
	}
	if(pdu) coap_delete_pdu(pdu);
	coap_delete_optlist(opts);
	buf_free(&links);
	buf_free(&query);
	return rc;
}

static int send_update(struct up_dev *d, const struct registration *reg, bool with_links)
{
	coap_optlist_t *opts = NULL;
	struct lwm2m_buf links;
	coap_pdu_t *pdu;
	char lt[24];
	uint64_t lifetime = reg->lifetime ? reg->lifetime : DEFAULT_LIFETIME_S;
	int rc = -1, ok;

	/* Only what changed: the lifetime, the object list. */
	buf_init(&links, 0);
	pdu = new_request(d, COAP_REQUEST_CODE_POST, d->token, &d->token_len);
	ok = pdu && add_path(&opts, d->location) == 0;
	if(ok && lifetime != d->lifetime_s){
		snprintf(lt, sizeof(lt), "%" PRIu64, lifetime);
		ok = add_query(&opts, "lt", lt) == 0;
		d->lifetime_s = lifetime;
	}
	if(ok && with_links){
		ok = registration_body(reg, &links) == 0
			&& (!links.len || add_content_format(&opts, COAP_MEDIATYPE_APPLICATION_LINK_FORMAT) == 0);
	}
	if(ok && coap_add_optlist_pdu(pdu, &opts)){
		rc = send_pdu(d, pdu, with_links ? links.data : NULL, links.len);
		pdu = NULL;
	}
	if(pdu) coap_delete_pdu(pdu);
	coap_delete_optlist(opts);
	buf_free(&links);
	return rc;
}

static int send_deregister(struct up_dev *d)
{
	coap_optlist_t *opts = NULL;
	coap_pdu_t *pdu = new_request(d, COAP_REQUEST_CODE_DELETE, d->token, &d->token_len);
	int rc = -1;

	if(pdu && add_path(&opts, d->location) == 0 && coap_add_optlist_pdu(pdu, &opts)){
		rc = send_pdu(d, pdu, NULL, 0);
		pdu = NULL;
	}
	if(pdu) coap_delete_pdu(pdu);
	coap_delete_optlist(opts);
	return rc;
}

/* The version to try first: the device's own, or the newest. */
static unsigned first_version(const struct registration *reg)
{
	for(unsigned i = 0; reg->version && i < N_VERSIONS; i++){
		if(!strcmp(reg->version, versions[i])) return i;
	}
	return 0;
}

/* Sends what the device wants next; called with a slot free. */
static void send_next(struct up_dev *d)
{
	struct upstream *u = d->u;
	const struct registration *reg = NULL;
	enum up_want want = d->want;
	char why[LWM2M_ERROR_MSG_MAX + 64];
	int rc;

	if(want == UP_WANT_NOTHING || d->busy) return;
	if(want == UP_WANT_DEREGISTER){
		if(!d->session || !d->location[0]){
			up_dev_free(d);
			return;
		}
		rc = send_deregister(d);
		if(rc){
			up_dev_free(d);
			return;
		}
		d->state = UP_DEREGISTERING;
	}else{
		reg = registry_find(core_api_registry(u->c), d->prefix, d->endpoint);
		if(!reg){
			up_dev_free(d);
			return;
		}
		if(!open_session(d, why, sizeof(why))){
			backoff(d, UP_REFUSED, 0, why);
			return;
		}
		if(want == UP_WANT_UPDATE && d->state == UP_REGISTERED && d->location[0]){
			rc = send_update(d, reg, d->update_links);
		}else{
			if(d->state != UP_REGISTERING) d->version_idx = first_version(reg);
			rc = send_register(d, reg, why, sizeof(why));
			if(rc == 0) set_state(d, UP_REGISTERING);
			want = UP_WANT_REGISTER;
		}
		if(rc){
			backoff(d, UP_BACKOFF, 0, want == UP_WANT_REGISTER ? why : "the request could not be sent");
			return;
		}
	}
	d->want = UP_WANT_NOTHING;
	d->update_links = false;
	d->busy = true;
	d->sent_kind = want;
	u->inflight++;
}

/* ---- answers ---- */

static void finish(struct up_dev *d)
{
	struct upstream *u = d->u;

	d->busy = false;
	u->inflight--;
	if(d->gone && d->want != UP_WANT_DEREGISTER && d->state != UP_DEREGISTERING){
		d->want = UP_WANT_DEREGISTER;
	}
	if(d->want != UP_WANT_NOTHING && !waiting_for_timer(d)) enqueue(d);
	pump(u);
}

static void diagnostic(const coap_pdu_t *pdu, const char *what, char *out, size_t size)
{
	size_t len = 0;
	const uint8_t *data = NULL;
	coap_pdu_code_t code = coap_pdu_get_code(pdu);

	coap_get_data(pdu, &len, &data);
	snprintf(out, size, "%s refused with %u.%02u%s%.*s", what, COAP_RESPONSE_CLASS(code), code & 0x1f,
			len ? ": " : "", (int)(len > 100 ? 100 : len), data ? (const char *)data : "");
	/* The diagnostic is the server's text: keep the log line printable. */
	for(char *p = out; *p; p++){
		if((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
	}
}

static bool read_location(struct up_dev *d, const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	size_t n = 0;

	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL){
		size_t len = coap_opt_length(opt);
		const uint8_t *v = coap_opt_value(opt);
		if(it.number != COAP_OPTION_LOCATION_PATH) continue;
		if(len == 0 || n + len + 2 > sizeof(d->location)) return false;
		for(size_t i = 0; i < len; i++){
			if(v[i] <= 0x20 || v[i] >= 0x7f || v[i] == '/' || v[i] == '?') return false;
		}
		if(n) d->location[n++] = '/';
		memcpy(d->location + n, v, len);
		n += len;
	}
	d->location[n] = '\0';
	return n > 0;
}

static void on_registered(struct up_dev *d, const coap_pdu_t *received)
{
	if(!read_location(d, received)){
		backoff(d, UP_BACKOFF, 0, "the server's Register answer had no usable Location-Path");
		return;
	}
	d->backoff_ms = 0;
	d->last_code = 0;
	d->reason[0] = '\0';
	set_state(d, UP_REGISTERED);
	up_emit_state(d);
	up_log(d->u, CORE_LOG_INFO, "endpoint '%s' registered as /%s (lwm2m %s)", d->endpoint, d->location,
			versions[d->version_idx]);
	schedule_refresh(d);
	up_send_resume(d);
}

static void register_answer(struct up_dev *d, const coap_pdu_t *received, unsigned cls, unsigned code)
{
	char why[200];

	if(cls == 2){
		on_registered(d, received);
	}else if(code == 412 && d->version_idx + 1 < N_VERSIONS){
		up_log(d->u, CORE_LOG_NOTICE, "endpoint '%s': the server refused lwm2m %s (4.12); trying %s",
				d->endpoint, versions[d->version_idx], versions[d->version_idx + 1]);
		d->version_idx++;
		d->want = UP_WANT_REGISTER;
	}else{
		diagnostic(received, "Register", why, sizeof(why));
		backoff(d, cls == 4 ? UP_REFUSED : UP_BACKOFF, (uint16_t)code, why);
	}
}

static void update_answer(struct up_dev *d, const coap_pdu_t *received, unsigned cls, unsigned code)
{
	char why[200];

	if(cls == 2){
		schedule_refresh(d);
		up_send_resume(d);
	}else if(code == 404){
		/* The server restarted and forgot: register afresh at once. */
		up_log(d->u, CORE_LOG_NOTICE, "endpoint '%s': the server does not know /%s (4.04): registering again",
				d->endpoint, d->location);
		d->location[0] = '\0';
		d->state = UP_IDLE;
		d->want = UP_WANT_REGISTER;
		d->update_links = true;
	}else{
		diagnostic(received, "Update", why, sizeof(why));
		backoff(d, UP_BACKOFF, (uint16_t)code, why);
	}
}

coap_response_t up_register_response(struct up_dev *d, const coap_pdu_t *received)
{
	coap_pdu_code_t rc = coap_pdu_get_code(received);
	unsigned cls = COAP_RESPONSE_CLASS(rc), code = cls * 100 + (rc & 0x1f);
	enum up_want sent = d->sent_kind;

	if(sent == UP_WANT_DEREGISTER){
		struct upstream *u = d->u;
		up_log(u, CORE_LOG_INFO, "endpoint '%s' de-registered from /%s (%u.%02u)", d->endpoint, d->location,
				cls, code % 100);
		d->location[0] = '\0';
		if(d->gone){
			d->busy = false;
			u->inflight--;
			up_dev_free(d);
			pump(u);
			return COAP_RESPONSE_OK;
		}
		/* The device registered again meanwhile. */
		d->state = UP_IDLE;
		d->want = UP_WANT_REGISTER;
		finish(d);
		return COAP_RESPONSE_OK;
	}
	if(sent == UP_WANT_REGISTER) register_answer(d, received, cls, code);
	else update_answer(d, received, cls, code);
	finish(d);
	return COAP_RESPONSE_OK;
}

void up_session_failed(struct up_dev *d, const char *why)
{
	/* Released at the end of this loop turn: its retransmissions stop with it, so nothing
	 * it still held reaches the server later beside what the next session sends. */
	release_session(d);
	if(d->busy){
		d->busy = false;
		d->u->inflight--;
	}
	if(d->gone){
		up_dev_free(d);
		return;
	}
	backoff(d, UP_BACKOFF, 0, why);
}

void up_register_nack(struct up_dev *d, const coap_pdu_t *sent, coap_nack_reason_t reason)
{
	const char *why = "the server did not answer";
	(void)sent;

	switch(reason){
		case COAP_NACK_RST: why = "the server reset the request"; break;
		case COAP_NACK_NOT_DELIVERABLE: why = "the server is unreachable"; break;
		case COAP_NACK_ICMP_ISSUE: why = "the server is unreachable (ICMP)"; break;
		case COAP_NACK_TLS_FAILED: why = "DTLS handshake failed"; break;
		case COAP_NACK_TOO_MANY_RETRIES: break;
	}
	struct upstream *u = d->u;
	up_session_failed(d, why);
	pump(u);
}

size_t up_deregister_all(struct upstream *u)
{
	struct up_dev *d, *tmp;
	size_t n = 0;

	HASH_ITER(hh, u->devs, d, tmp){
		if(d->state != UP_REGISTERED || d->busy || !d->session) continue;
		if(send_deregister(d) == 0){
			d->busy = true;
			d->sent_kind = UP_WANT_DEREGISTER;
			d->gone = true;
			u->inflight++;
			n++;
		}
	}
	return n;
}
