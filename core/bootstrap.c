/* The Bootstrap-Server engine (see bootstrap.h for the sequence and the rules). */
#include "bootstrap.h"
#include "core.h"
#include "values.h"
#include "../objects/fmt.h"
#include "../objects/link_format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#define LOG_LINE_MAX 512
#define STEP_NAME_MAX (32 + LWM2M_PATH_STR_MAX)

enum session_state {
	SESSION_PREPARED = 0,         /* accepted, bootstrap_start not called yet */
	SESSION_RUNNING,
	SESSION_FINISHED,
	SESSION_FAILED,
};

struct step {
	enum lwm2m_op_kind kind;
	char path[LWM2M_PATH_STR_MAX];   /* "" for Finish */
	uint16_t ct;                  /* writes */
	uint8_t *payload;             /* writes; owned, released when the session ends */
	size_t payload_len;
	bool sent;
	bool answered;
	uint16_t result;              /* valid when answered */
	char *detail;                 /* owned; why there is no answer, or what the answer meant */
};

/* An answer that came while send was still running: kept until send returns. */
struct early_answer {
	bool present;
	enum api_outcome outcome;
	uint16_t result;
	bool has_ct;
	uint16_t ct;
	uint8_t *payload;
	size_t payload_len;
	char *detail;
};

struct session {
	UT_hash_handle hh;            /* in bootstrap.running, by endpoint */
	struct bootstrap *bs;
	char *endpoint;
	char *prefix;                 /* NULL = none */
	char *transport;
	bool has_pct;
	uint16_t pct;
	uint16_t preferred_cf;        /* the first format the writes were tried in */
	enum session_state state;
	struct step *steps;
	size_t step_count;
	size_t cur;                   /* the step in flight or next to send */
	int64_t handle;               /* > 0 while a request is in flight */
	bool sending;
	struct early_answer early;
	int64_t started_at, finished_at;
	char *reason;
};

struct bootstrap {
	struct bootstrap_io io;
	const struct obj_registry *model;
	struct fmt_typer typer;
	uint32_t timeout_ms;
	const struct endpoints *eps;
	struct session *running;      /* hash by endpoint; prepared and running sessions */
	unsigned running_count;
	struct session *history[BOOTSTRAP_HISTORY_MAX];   /* ring, oldest at hist_first */
	size_t hist_first, hist_count;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void set_why(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if(!why || !size) return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

static void blog(const struct bootstrap *bs, int level, const char *endpoint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void blog(const struct bootstrap *bs, int level, const char *endpoint, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int n;
	va_list ap;

	if(!bs->io.log) return;
	n = snprintf(line, sizeof(line), "bootstrap %s: ", endpoint);
	if(n < 0 || (size_t)n >= sizeof(line)) return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	bs->io.log(bs->io.ctx, level, line);
}

static void emit(const struct bootstrap *bs, const char *type, const char *endpoint, json_t *data)
{
	if(!bs->io.emit){
		json_decref(data);
		return;
	}
	if(!data) data = json_object();   /* a detail that was not UTF-8: the event still goes */
	if(data) bs->io.emit(bs->io.ctx, type, endpoint, data);
}

static int64_t now_ms(const struct bootstrap *bs)
{
	return bs->io.now_wall_ms ? bs->io.now_wall_ms(bs->io.ctx) : 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool same_prefix(const char *a, const char *b)
{
	if(!a) a = "";
	if(!b) b = "";
	return strcmp(a, b) == 0;
}

static bool is_write_format(int cf)
{
	return cf == LWM2M_CF_TLV || cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_SENML_CBOR
		|| cf == LWM2M_CF_LWM2M_CBOR;
}

static bool is_pack_format(int cf)
{
	return cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_LWM2M_CBOR;
}

static bool is_success(uint16_t result)
{
	return result >= 200 && result < 300;
}

/* "Bootstrap-Write /0/1", "Bootstrap-Finish". */
static const char *step_name(const struct step *st, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", op_kind_name(st->kind), st->path[0] ? " " : "", st->path);
	return buf;
}

/* The ep a request claims, when it claims one, must be the endpoint of the topic/query. */
static bool claimed_ep_matches(const struct lwm2m_op *req, const char *endpoint)
{
	if(!req || !(req->fields & LWM2M_F_EP)) return true;
	return req->ep.len == strlen(endpoint) && memcmp(req->ep.ptr, endpoint, req->ep.len) == 0;
}

/* The entry with a bootstrap section for endpoint, or NULL with why. */
static const struct endpoint_conf *find_entry(const struct bootstrap *bs, const char *endpoint,
		char *why, size_t why_size)
{
	const struct endpoint_conf *conf = endpoints_find(bs->eps, endpoint);

	if(!conf){
		set_why(why, why_size, "no bootstrap configuration for endpoint \"%s\"", endpoint);
		return NULL;
	}
	if(!conf->bootstrap.present){
		set_why(why, why_size, "the entry \"%s\" for endpoint \"%s\" has no bootstrap section",
				conf->name, endpoint);
		return NULL;
	}
	return conf;
}

/* The caller's why buffer, emptied, or local when it gave none: the text is logged too. */
static void why_or_local(char **why, size_t *why_size, char *local, size_t local_size)
{
	if(!*why || !*why_size){
		*why = local;
		*why_size = local_size;
	}
	set_why(*why, *why_size, "%s", "");
}

/* The entry a device's request is answered from: the ep the request claims, if any, must
 * be the endpoint's, and the entry must have a bootstrap section. NULL with why otherwise
 * (the answer is 400); a missing entry is logged as a refusal of `op` unless op is NULL. */
static const struct endpoint_conf *request_entry(const struct bootstrap *bs, const char *endpoint,
		const struct lwm2m_op *req, const char *op, char *why, size_t why_size)
{
	const struct endpoint_conf *conf;

	if(!claimed_ep_matches(req, endpoint)){
		set_why(why, why_size, "the request names another endpoint than \"%s\"", endpoint);
		return NULL;
	}
	conf = find_entry(bs, endpoint, why, why_size);
	if(!conf && op) blog(bs, CORE_LOG_NOTICE, endpoint, "%s refused: %s", op, why);
	return conf;
}

/* ---- sessions: life and death ------------------------------------------------------------ */

static void early_clear(struct early_answer *e)
{
	free(e->payload);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

static void steps_release_payloads(struct session *s)
{
	for(size_t i = 0; i < s->step_count; i++){
		free(s->steps[i].payload);
		s->steps[i].payload = NULL;
	}
}

static void session_free(struct session *s)
{
	if(!s) return;
	for(size_t i = 0; i < s->step_count; i++){
		free(s->steps[i].payload);
		free(s->steps[i].detail);
	}
	free(s->steps);
	early_clear(&s->early);
	free(s->endpoint);
	free(s->prefix);
	free(s->transport);
	free(s->reason);
	free(s);
}

static void history_push(struct bootstrap *bs, struct session *s)
{
	size_t at;

	if(bs->hist_count == BOOTSTRAP_HISTORY_MAX){
		session_free(bs->history[bs->hist_first]);
		bs->history[bs->hist_first] = NULL;
		bs->hist_first = (bs->hist_first + 1) % BOOTSTRAP_HISTORY_MAX;
		bs->hist_count--;
	}
	at = (bs->hist_first + bs->hist_count) % BOOTSTRAP_HISTORY_MAX;
	bs->history[at] = s;
	bs->hist_count++;
}

/* The last step that was sent, for messages; NULL before the first. */
static const struct step *last_sent(const struct session *s)
{
	if(s->cur < s->step_count && s->steps[s->cur].sent) return &s->steps[s->cur];
	return s->cur > 0 ? &s->steps[s->cur - 1] : NULL;
}

/* The session leaves the running set for the history: the event, the log line. reason NULL
 * = finished. */
static void session_end(struct session *s, const char *reason)
{
	struct bootstrap *bs = s->bs;
	const struct step *st = last_sent(s);
	char name[STEP_NAME_MAX];
	json_t *data;

	HASH_DEL(bs->running, s);
	bs->running_count--;
	s->handle = 0;
	s->finished_at = now_ms(bs);
	s->state = reason ? SESSION_FAILED : SESSION_FINISHED;
	steps_release_payloads(s);
	early_clear(&s->early);
	if(reason){
		s->reason = strdup(reason);
		data = json_pack("{s:s, s:o}", "reason", reason,
				"step", st ? json_string(step_name(st, name, sizeof(name))) : json_null());
		blog(bs, CORE_LOG_WARNING, s->endpoint, "failed: %s", reason);
		history_push(bs, s);
		emit(bs, "BOOTSTRAP_FAILED", s->endpoint, data);
	}else{
		data = json_pack("{s:I, s:I}", "steps", (json_int_t)s->step_count,
				"durationMs", (json_int_t)(s->finished_at - s->started_at));
		blog(bs, CORE_LOG_INFO, s->endpoint, "finished after %zu requests", s->step_count);
		history_push(bs, s);
		emit(bs, "BOOTSTRAP_FINISHED", s->endpoint, data);
	}
}

/* A session in the running set stops without a word to the device. */
static void session_abort(struct session *s, const char *reason)
{
	if(s->handle > 0) s->bs->io.cancel(s->bs->io.ctx, s->handle);
	s->handle = 0;
	session_end(s, reason);
}

/* ---- preparing a session ------------------------------------------------------------------ */

static void step_set(struct step *st, enum lwm2m_op_kind kind, const struct lwm2m_path *p)
{
	st->kind = kind;
	if(p) path_format(p, st->path, sizeof(st->path));
}

/* Whether payload (format cf) decodes back to exactly `nodes` (sorted): SenML, for one, has
 * no record for an empty multi-instance resource and leaves it out. */
static bool carries_all(const struct bootstrap *bs, uint16_t cf, const struct lwm2m_nodes *nodes,
		const struct lwm2m_path *req, const struct lwm2m_buf *payload)
{
	struct lwm2m_nodes back;
	bool same;

	nodes_init(&back);
	same = fmt_decode(cf, payload->data, payload->len, req, &bs->typer, NULL, &back, NULL) == 0
		&& back.count == nodes->count;
	for(size_t i = 0; same && i < back.count; i++){
		const struct lwm2m_node *a = &back.items[i], *b = &nodes->items[i];
		same = path_compare(&a->path, &b->path) == 0 && a->kind == b->kind
			&& (a->kind != LWM2M_NODE_VALUE || value_equal(&a->value, &b->value));
	}
	nodes_free(&back);
	return same;
}

static int take_payload(struct step *st, uint16_t cf, struct lwm2m_buf *payload, char *why, size_t why_size)
{
	st->ct = cf;
	st->payload = buf_steal(payload, &st->payload_len);
	if(!st->payload && st->payload_len == 0) st->payload = calloc(1, 1);
	if(st->payload) return 0;
	set_why(why, why_size, "out of memory");
	return -LWM2M_ENOMEM;
}

/* Encodes a write in the first of formats[] that carries all of it; when none does, in the
 * first one that can encode it at all (with a warning: what it cannot carry is lost). */
static int encode_write(const struct session *s, const struct endpoint_write *w,
		const uint16_t *formats, size_t n_formats, struct step *st, char *why, size_t why_size)
{
	const struct bootstrap *bs = s->bs;
	struct lwm2m_error err = { 0 };
	struct lwm2m_buf lossy;
	int lossy_cf = -1, rc;

	buf_init(&lossy, 0);
	for(size_t i = 0; i < n_formats; i++){
		struct lwm2m_buf out;

		buf_init(&out, 0);
		if(fmt_encode(formats[i], &w->nodes, &w->path, &bs->typer, NULL, &out, &err) != 0){
			buf_free(&out);
		}else if(carries_all(bs, formats[i], &w->nodes, &w->path, &out)){
			buf_free(&lossy);
			rc = take_payload(st, formats[i], &out, why, why_size);
			buf_free(&out);
			return rc;
		}else if(lossy_cf < 0){
			lossy = out;
			lossy_cf = formats[i];
		}else{
			buf_free(&out);
		}
	}
	if(lossy_cf < 0){
		set_why(why, why_size, "cannot encode the write of %s: %s", st->path, err.msg);
		return -LWM2M_EINVAL;
	}
	blog(bs, CORE_LOG_WARNING, s->endpoint, "Bootstrap-Write %s as %s leaves out what that format "
			"cannot carry (an empty multi-instance resource)", st->path, fmt_cf_name((uint16_t)lossy_cf));
	rc = take_payload(st, (uint16_t)lossy_cf, &lossy, why, why_size);
	buf_free(&lossy);
	return rc;
}

/* The formats to try for the writes, best first: pct, the entry's, SenML CBOR. */
static size_t write_formats(const struct session *s, const struct endpoint_bootstrap *conf,
		uint16_t out[3])
{
	size_t n = 0;
	int cands[3] = { s->has_pct ? s->pct : -1, conf->format, LWM2M_CF_SENML_CBOR };

	for(size_t i = 0; i < 3; i++){
		bool seen = false;
		if(!is_write_format(cands[i])) continue;
		for(size_t k = 0; k < n; k++) seen |= out[k] == cands[i];
		if(!seen) out[n++] = (uint16_t)cands[i];
	}
	return n;
}

static int plan_steps(struct session *s, const struct endpoint_bootstrap *conf, char *why,
		size_t why_size)
{
	static const struct lwm2m_path root = { 0 };
	uint16_t formats[3];
	size_t n_formats = write_formats(s, conf, formats), n = 0;
	size_t total = (conf->discover ? 1 : 0) + conf->read_count + conf->delete_count
		+ conf->write_count + 1;

	s->preferred_cf = formats[0];
	s->steps = calloc(total, sizeof(*s->steps));
	if(!s->steps){
		set_why(why, why_size, "out of memory");
		return -LWM2M_ENOMEM;
	}
	s->step_count = total;
	if(conf->discover) step_set(&s->steps[n++], LWM2M_OP_BOOTSTRAP_DISCOVER, &root);
	for(size_t i = 0; i < conf->read_count; i++){
		step_set(&s->steps[n++], LWM2M_OP_BOOTSTRAP_READ, &conf->reads[i]);
	}
	for(size_t i = 0; i < conf->delete_count; i++){
		step_set(&s->steps[n++], LWM2M_OP_BOOTSTRAP_DELETE, &conf->deletes[i]);
	}
	for(size_t i = 0; i < conf->write_count; i++){
		struct step *st = &s->steps[n++];
		int rc;

		step_set(st, LWM2M_OP_BOOTSTRAP_WRITE, &conf->writes[i].path);
		rc = encode_write(s, &conf->writes[i], formats, n_formats, st, why, why_size);
		if(rc) return rc;
	}
	step_set(&s->steps[n], LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	return 0;
}

static struct session *session_new(struct bootstrap *bs, const char *prefix, const char *endpoint,
		const char *transport, const struct lwm2m_op *req)
{
	struct session *s = calloc(1, sizeof(*s));

	if(!s) return NULL;
	s->bs = bs;
	s->endpoint = strdup(endpoint);
	s->prefix = prefix && prefix[0] ? strdup(prefix) : NULL;
	s->transport = strdup(transport ? transport : "mqtt");
	if(!s->endpoint || !s->transport || (prefix && prefix[0] && !s->prefix)){
		session_free(s);
		return NULL;
	}
	if(req && (req->fields & LWM2M_F_PCT)){
		s->has_pct = true;
		s->pct = req->pct;
	}
	s->started_at = now_ms(bs);
	return s;
}

uint16_t bootstrap_request(struct bootstrap *bs, const char *prefix, const char *endpoint,
		const char *transport, const struct lwm2m_op *req, char *why, size_t why_size)
{
	const struct endpoint_conf *conf;
	struct session *s, *old = NULL;
	char local_why[256];

	why_or_local(&why, &why_size, local_why, sizeof(local_why));
	conf = request_entry(bs, endpoint, req, "Bootstrap-Request", why, why_size);
	if(!conf) return 400;
	HASH_FIND_STR(bs->running, endpoint, old);
	if(!old && bs->running_count >= BOOTSTRAP_RUNNING_MAX){
		set_why(why, why_size, "%u bootstrap sessions are running already", bs->running_count);
		blog(bs, CORE_LOG_WARNING, endpoint, "Bootstrap-Request refused: too many sessions");
		return 503;
	}
	s = session_new(bs, prefix, endpoint, transport, req);
	if(!s){
		set_why(why, why_size, "out of memory");
		return 500;
	}
	if(plan_steps(s, &conf->bootstrap, why, why_size) != 0){
		blog(bs, CORE_LOG_ERR, endpoint, "Bootstrap-Request refused: %s", why);
		session_free(s);
		return 500;
	}
	if(s->has_pct && !is_write_format(s->pct)){
		blog(bs, CORE_LOG_NOTICE, endpoint, "pct %u is not a Bootstrap-Write format: writes go as %s",
				s->pct, fmt_cf_name(s->preferred_cf));
	}
	if(old) session_abort(old, "superseded by a new Bootstrap-Request");
	HASH_ADD_KEYPTR(hh, bs->running, s->endpoint, strlen(s->endpoint), s);
	bs->running_count++;
	blog(bs, CORE_LOG_INFO, endpoint, "Bootstrap-Request over %s accepted (entry \"%s\", %zu requests)",
			s->transport, conf->name, s->step_count);
	return 204;
}

/* ---- running a session --------------------------------------------------------------------- */

static void step_done(void *ctx, const struct api_result *res);

/* A step as JSON; links and values (taken, may be NULL) are the content of an answer. */
static json_t *step_json(const struct step *st, json_t *links, json_t *values)
{
	json_t *data = json_object();

	if(!data){
		json_decref(links);
		json_decref(values);
		return NULL;
	}
	json_object_set_new(data, "op", json_string(op_kind_name(st->kind)));
	json_object_set_new(data, "path", st->path[0] ? json_string(st->path) : json_null());
	json_object_set_new(data, "result", st->answered ? json_integer(st->result) : json_null());
	if(st->kind == LWM2M_OP_BOOTSTRAP_WRITE) json_object_set_new(data, "contentFormat", json_integer(st->ct));
	if(st->detail) json_object_set_new(data, "detail", json_string(st->detail));
	if(links) json_object_set_new(data, "links", links);
	if(values) json_object_set_new(data, "values", values);
	return data;
}

/* Checks the content of a Discover or Read answer. Returns false (with why) when it is
 * malformed; *links / *values get the content for the event. */
static bool read_content(const struct session *s, const struct step *st, const struct api_result *res,
		json_t **links, json_t **values, char *why, size_t why_size)
{
	if(st->kind == LWM2M_OP_BOOTSTRAP_DISCOVER){
		struct lf_links parsed;
		struct lwm2m_error err = { 0 };

		if(res->has_ct && res->content_format != LWM2M_CF_LINK){
			set_why(why, why_size, "content format %u instead of link-format", res->content_format);
			return false;
		}
		if(lf_parse((const char *)res->payload, res->payload_len, NULL, &parsed, &err) != 0){
			set_why(why, why_size, "bad link-format: %s", err.msg);
			return false;
		}
		lf_links_free(&parsed);
		*links = json_stringn(res->payload_len ? (const char *)res->payload : "", res->payload_len);
		return true;
	}
	if(res->payload_len == 0){
		*values = json_array();
		return true;
	}
	if(!res->has_ct){
		set_why(why, why_size, "content without a content format");
		return false;
	}
	*values = values_to_json(s->bs->model, res->content_format, res->payload, res->payload_len,
			st->path, why, why_size);
	return *values != NULL;
}

/* Judges the answer to st: reason stays "" when the sequence goes on, else says why it
 * ends. links / values get the content of a Discover / Read answer. */
static void judge_answer(const struct session *s, struct step *st, const struct api_result *res,
		char *reason, size_t size, json_t **links, json_t **values)
{
	char why[LWM2M_ERROR_MSG_MAX + 64];
	bool ok, informative = st->kind == LWM2M_OP_BOOTSTRAP_DISCOVER || st->kind == LWM2M_OP_BOOTSTRAP_READ;

	reason[0] = '\0';
	switch(res->outcome){
		case API_ANSWERED:
			break;
		case API_TIMEOUT:
			snprintf(reason, size, "no answer within %" PRIu32 " ms", s->bs->timeout_ms);
			return;
		case API_GONE:
			snprintf(reason, size, "the device went away");
			return;
		case API_BAD_RESPONSE:
		default:
			snprintf(reason, size, "malformed answer: %s", res->detail ? res->detail : "?");
			return;
	}
	st->answered = true;
	st->result = res->result;
	ok = is_success(res->result);
	if(res->result < 200 || res->result >= 600 || (res->result >= 300 && res->result < 400)){
		snprintf(reason, size, "malformed answer: result %u", res->result);
	}else if(ok && informative){
		if(!read_content(s, st, res, links, values, why, sizeof(why))){
			snprintf(reason, size, "malformed answer: %s", why);
		}
	}else if(!ok && st->kind == LWM2M_OP_BOOTSTRAP_DELETE && res->result == 404){
		st->detail = strdup("nothing to delete");
	}else if(!ok && !informative){
		snprintf(reason, size, "the device answered %u (%s)", res->result, op_result_name(res->result));
	}
}

/* Records the answer of the step in flight. Returns true when the sequence goes on, false
 * when the session ended (it is in the history then). */
static bool take_answer(struct session *s, const struct api_result *res)
{
	struct bootstrap *bs = s->bs;
	struct step *st = &s->steps[s->cur];
	char name[STEP_NAME_MAX], reason[LWM2M_ERROR_MSG_MAX + 160];
	char full[sizeof(reason) + STEP_NAME_MAX + 2];
	json_t *links = NULL, *values = NULL;
	bool fatal;

	s->handle = 0;
	step_name(st, name, sizeof(name));
	judge_answer(s, st, res, reason, sizeof(reason), &links, &values);
	fatal = reason[0] != '\0';
	if(fatal && !st->detail) st->detail = strdup(reason);
	blog(bs, fatal ? CORE_LOG_WARNING : CORE_LOG_DEBUG, s->endpoint, "%s: %s", name,
			fatal ? reason : op_result_name(st->result));
	emit(bs, "BOOTSTRAP_STEP", s->endpoint, step_json(st, links, values));
	if(!fatal){
		s->cur++;
		return true;
	}
	snprintf(full, sizeof(full), "%s: %s", name, reason);
	session_end(s, full);
	return false;
}

/* Sends the step at s->cur. Returns 0, or a negative error with the session still running. */
static int send_step(struct session *s, char *why, size_t why_size)
{
	struct bootstrap *bs = s->bs;
	struct step *st = &s->steps[s->cur];
	struct lwm2m_op op;
	int64_t h;

	op_init(&op);
	op.kind = st->kind;
	if(st->path[0]){
		op.uri = op_view_str(st->path);
		op.fields |= LWM2M_F_URI;
	}
	if(st->kind == LWM2M_OP_BOOTSTRAP_WRITE){
		op.content_format = st->ct;
		op.payload.ptr = st->payload;
		op.payload.len = st->payload_len;
		op.fields |= LWM2M_F_CT | LWM2M_F_PAYLOAD;
	}
	st->sent = true;
	s->sending = true;
	h = bs->io.send(bs->io.ctx, s->prefix, s->endpoint, s->transport, &op, bs->timeout_ms, step_done, s);
	s->sending = false;
	if(h <= 0){
		set_why(why, why_size, "cannot be sent: %s", lwm2m_strerror(h < 0 ? (int)-h : LWM2M_EINVAL));
		early_clear(&s->early);
		return h < 0 ? (int)h : -LWM2M_EINVAL;
	}
	if(!s->early.present) s->handle = h;
	return 0;
}

/* Sends steps until one is in flight or the session ends. */
static void advance(struct session *s)
{
	char why[96], name[STEP_NAME_MAX], reason[sizeof(why) + STEP_NAME_MAX + 2];

	while(s->cur < s->step_count){
		struct api_result res;

		if(send_step(s, why, sizeof(why)) != 0){
			struct step *st = &s->steps[s->cur];
			st->detail = strdup(why);
			emit(s->bs, "BOOTSTRAP_STEP", s->endpoint, step_json(st, NULL, NULL));
			snprintf(reason, sizeof(reason), "%s: %s", step_name(st, name, sizeof(name)), why);
			session_end(s, reason);
			return;
		}
		blog(s->bs, CORE_LOG_DEBUG, s->endpoint, "sent %s", step_name(&s->steps[s->cur], name, sizeof(name)));
		if(!s->early.present) return;
		/* The transport answered before send returned: take it now, without recursion. */
		memset(&res, 0, sizeof(res));
		res.outcome = s->early.outcome;
		res.result = s->early.result;
		res.has_ct = s->early.has_ct;
		res.content_format = s->early.ct;
		res.payload = s->early.payload;
		res.payload_len = s->early.payload_len;
		res.detail = s->early.detail;
		s->early.present = false;
		if(!take_answer(s, &res)) return;
		early_clear(&s->early);
	}
	session_end(s, NULL);
}

static void step_done(void *ctx, const struct api_result *res)
{
	struct session *s = ctx;

	if(s->sending){
		struct early_answer *e = &s->early;

		early_clear(e);
		e->present = true;
		e->outcome = res->outcome;
		e->result = res->result;
		e->has_ct = res->has_ct;
		e->ct = res->content_format;
		if(res->payload_len){
			e->payload = malloc(res->payload_len);
			if(e->payload) memcpy(e->payload, res->payload, res->payload_len);
			else e->outcome = API_BAD_RESPONSE;
		}
		e->payload_len = e->payload ? res->payload_len : 0;
		e->detail = dup_or_null(e->outcome == API_BAD_RESPONSE && !res->detail ? "out of memory" : res->detail);
		return;
	}
	if(s->state != SESSION_RUNNING || s->handle <= 0) return;   /* cannot happen: cancelled */
	if(take_answer(s, res)) advance(s);
}

void bootstrap_start(struct bootstrap *bs, const char *prefix, const char *endpoint)
{
	struct session *s = NULL;
	json_t *data;

	HASH_FIND_STR(bs->running, endpoint, s);
	if(!s || s->state != SESSION_PREPARED || !same_prefix(s->prefix, prefix)){
		blog(bs, CORE_LOG_DEBUG, endpoint, "no prepared session to start");
		return;
	}
	s->state = SESSION_RUNNING;
	data = json_pack("{s:o, s:s, s:I, s:i}", "prefix", s->prefix ? json_string(s->prefix) : json_null(),
			"transport", s->transport, "steps", (json_int_t)s->step_count,
			"contentFormat", (int)s->preferred_cf);
	if(data && s->has_pct) json_object_set_new(data, "pct", json_integer(s->pct));
	emit(bs, "BOOTSTRAP_STARTED", s->endpoint, data);
	advance(s);
}

/* ---- the engine ----------------------------------------------------------------------------- */

struct bootstrap *bootstrap_new(const struct bootstrap_io *io, const struct obj_registry *model,
		uint32_t step_timeout_ms)
{
	struct bootstrap *bs;

	if(!io || !io->send || !io->cancel || !model) return NULL;
	bs = calloc(1, sizeof(*bs));
	if(!bs) return NULL;
	bs->io = *io;
	bs->model = model;
	bs->typer = obj_registry_typer(model);
	bs->timeout_ms = step_timeout_ms ? step_timeout_ms : BOOTSTRAP_DEFAULT_TIMEOUT_MS;
	return bs;
}

void bootstrap_free(struct bootstrap *bs)
{
	struct session *s, *tmp;

	if(!bs) return;
	HASH_ITER(hh, bs->running, s, tmp){
		if(s->handle > 0) bs->io.cancel(bs->io.ctx, s->handle);
		HASH_DEL(bs->running, s);
		session_free(s);
	}
	for(size_t i = 0; i < bs->hist_count; i++){
		session_free(bs->history[(bs->hist_first + i) % BOOTSTRAP_HISTORY_MAX]);
	}
	free(bs);
}

void bootstrap_set_endpoints(struct bootstrap *bs, const struct endpoints *eps)
{
	bs->eps = eps;
}

/* ---- Bootstrap-Pack ------------------------------------------------------------------------- */

/* The instance paths of an acc list ("</0/0>,</24/0>"). */
static int parse_acc(const struct lwm2m_op *req, struct lwm2m_path **out, size_t *count,
		char *why, size_t why_size)
{
	struct lf_links links;
	struct lwm2m_error err = { 0 };

	*out = NULL;
	*count = 0;
	if(!req || !(req->fields & LWM2M_F_PAYLOAD) || req->payload.len == 0) return 0;
	if(lf_parse((const char *)req->payload.ptr, req->payload.len, NULL, &links, &err) != 0){
		set_why(why, why_size, "acc: %s", err.msg);
		return -LWM2M_EINVAL;
	}
	*out = calloc(links.count ? links.count : 1, sizeof(**out));
	if(!*out){
		lf_links_free(&links);
		set_why(why, why_size, "out of memory");
		return -LWM2M_ENOMEM;
	}
	for(size_t i = 0; i < links.count; i++){
		struct lwm2m_path *p = &(*out)[i];
		const char *uri = links.items[i].uri;

		if(path_parse(uri, strlen(uri), p, NULL) != 0 || p->len != 2 || uri[0] != '/'){
			set_why(why, why_size, "acc: \"%s\" is not an object instance", uri);
			lf_links_free(&links);
			free(*out);
			*out = NULL;
			return -LWM2M_EINVAL;
		}
	}
	*count = links.count;
	lf_links_free(&links);
	return 0;
}

static bool path_listed(const struct lwm2m_path *p, const struct lwm2m_path *list, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(path_compare(p, &list[i]) == 0) return true;
	}
	return false;
}

/* Whether the pack (writes not skipped) carries object `obj`. */
static bool pack_has_object(const struct endpoint_bootstrap *conf, const bool *skip, uint16_t obj)
{
	for(size_t i = 0; i < conf->write_count; i++){
		if(!skip[i] && conf->writes[i].path.ids[0] == obj) return true;
	}
	return false;
}

/* 0, or the first delete a pack cannot express, with why. */
static int check_deletes(const struct endpoint_bootstrap *conf, const bool *skip, char *why,
		size_t why_size)
{
	for(size_t i = 0; i < conf->delete_count; i++){
		const struct lwm2m_path *d = &conf->deletes[i];
		char text[LWM2M_PATH_STR_MAX];

		if(d->len > 0 && pack_has_object(conf, skip, d->ids[0])) continue;
		path_format(d, text, sizeof(text));
		set_why(why, why_size, "the delete of %s cannot be expressed in a Bootstrap-Pack "
				"(use Bootstrap-Request)", text);
		return -LWM2M_ENOTSUP;
	}
	return 0;
}

static int copy_nodes(const struct lwm2m_nodes *from, struct lwm2m_nodes *to)
{
	for(size_t i = 0; i < from->count; i++){
		const struct lwm2m_node *src = &from->items[i];
		struct lwm2m_node *dst = nodes_push(to);

		if(!dst) return -LWM2M_ENOMEM;
		dst->path = src->path;
		dst->kind = src->kind;
		dst->has_time = src->has_time;
		dst->time = src->time;
		if(src->prefix && !(dst->prefix = strdup(src->prefix))) return -LWM2M_ENOMEM;
		if(value_copy(&dst->value, &src->value) != 0) return -LWM2M_ENOMEM;
	}
	return 0;
}

static int pack_format(const struct lwm2m_op *req, uint16_t accept_cf, const struct endpoint_bootstrap *conf,
		uint16_t *cf, char *why, size_t why_size)
{
	int want = accept_cf ? accept_cf : req && (req->fields & LWM2M_F_PCT) ? req->pct : -1;

	if(want >= 0){
		if(!is_pack_format(want)){
			set_why(why, why_size, "format %d is not a Bootstrap-Pack format (SenML CBOR, SenML JSON, "
					"LwM2M CBOR)", want);
			return -LWM2M_ENOTSUP;
		}
		*cf = (uint16_t)want;
		return 0;
	}
	*cf = is_pack_format(conf->format) ? (uint16_t)conf->format : LWM2M_CF_SENML_CBOR;
	return 0;
}

/* Encodes the writes not skipped into out. */
static int pack_encode(const struct bootstrap *bs, const char *endpoint, const struct endpoint_bootstrap *conf,
		const bool *skip, uint16_t cf, struct lwm2m_buf *out, char *why, size_t why_size)
{
	size_t at = out->len;
	struct lwm2m_nodes all;
	struct lwm2m_error err = { 0 };
	int rc = 0;

	nodes_init(&all);
	for(size_t i = 0; i < conf->write_count && !rc; i++){
		if(!skip[i]) rc = copy_nodes(&conf->writes[i].nodes, &all);
	}
	if(rc){
		set_why(why, why_size, "out of memory");
	}else{
		nodes_sort(&all);
		rc = fmt_encode(cf, &all, NULL, &bs->typer, NULL, out, &err);
		if(rc) set_why(why, why_size, "cannot encode the pack as %s: %s", fmt_cf_name(cf), err.msg);
	}
	if(!rc){
		/* the format asked for (or configured) is kept, with a word when something is lost */
		struct lwm2m_buf mine = { .data = out->data + at, .len = out->len - at };
		if(!carries_all(bs, cf, &all, NULL, &mine)){
			blog(bs, CORE_LOG_WARNING, endpoint, "Bootstrap-Pack as %s leaves out what that format "
					"cannot carry (an empty multi-instance resource)", fmt_cf_name(cf));
		}
	}
	nodes_free(&all);
	return rc;
}

/* Marks the writes to the device's own Bootstrap-Server account instances; their count. */
static size_t skip_account_writes(const struct bootstrap *bs, const char *endpoint,
		const struct endpoint_bootstrap *conf, const struct lwm2m_path *acc, size_t acc_count, bool *skip)
{
	size_t skipped = 0;

	for(size_t i = 0; i < conf->write_count; i++){
		char text[LWM2M_PATH_STR_MAX];

		if(!path_listed(&conf->writes[i].path, acc, acc_count)) continue;
		skip[i] = true;
		skipped++;
		path_format(&conf->writes[i].path, text, sizeof(text));
		blog(bs, CORE_LOG_WARNING, endpoint, "Bootstrap-Pack: %s is an instance of the device's "
				"Bootstrap-Server account: its configured write is left out", text);
	}
	return skipped;
}

/* A Bootstrap-Pack is a bootstrap of the device too: one step in the history, and its event. */
static void record_pack(struct bootstrap *bs, const char *endpoint, uint16_t code, const char *why)
{
	struct session *s = calloc(1, sizeof(*s));
	json_t *data;

	if(!s) return;
	s->bs = bs;
	s->endpoint = strdup(endpoint);
	s->steps = calloc(1, sizeof(*s->steps));
	if(!s->endpoint || !s->steps){
		session_free(s);
		return;
	}
	s->step_count = 1;
	s->cur = 1;
	s->steps[0].kind = LWM2M_OP_BOOTSTRAP_PACK_REQUEST;
	s->steps[0].sent = s->steps[0].answered = true;
	s->steps[0].result = code;
	s->started_at = s->finished_at = now_ms(bs);
	s->state = code == 205 ? SESSION_FINISHED : SESSION_FAILED;
	if(code != 205) s->reason = strdup(why);
	history_push(bs, s);
	if(code == 205){
		data = json_pack("{s:I, s:I, s:b}", "steps", (json_int_t)1, "durationMs", (json_int_t)0, "pack", 1);
		emit(bs, "BOOTSTRAP_FINISHED", endpoint, data);
	}else{
		data = json_pack("{s:s, s:s}", "reason", why, "step", op_kind_name(LWM2M_OP_BOOTSTRAP_PACK_REQUEST));
		emit(bs, "BOOTSTRAP_FAILED", endpoint, data);
	}
}

uint16_t bootstrap_pack(struct bootstrap *bs, const char *endpoint, const struct lwm2m_op *req,
		uint16_t accept_cf, struct lwm2m_buf *out, uint16_t *ct, char *why, size_t why_size)
{
	const struct endpoint_conf *entry;
	const struct endpoint_bootstrap *conf;
	struct lwm2m_path *acc = NULL;
	size_t acc_count = 0, skipped;
	bool *skip = NULL;
	uint16_t cf, code = 205;
	size_t out_len = out->len;
	char local_why[256];

	why_or_local(&why, &why_size, local_why, sizeof(local_why));
	entry = request_entry(bs, endpoint, req, NULL, why, why_size);
	if(!entry) return 400;
	conf = &entry->bootstrap;
	if(pack_format(req, accept_cf, conf, &cf, why, why_size) != 0){
		record_pack(bs, endpoint, 406, why);
		return 406;
	}
	if(parse_acc(req, &acc, &acc_count, why, why_size) != 0){
		record_pack(bs, endpoint, 400, why);
		return 400;
	}
	skip = calloc(conf->write_count ? conf->write_count : 1, sizeof(*skip));
	if(!skip){
		free(acc);
		set_why(why, why_size, "out of memory");
		return 500;
	}
	skipped = skip_account_writes(bs, endpoint, conf, acc, acc_count, skip);
	if(conf->write_count == skipped){
		set_why(why, why_size, "the entry \"%s\" has nothing to write in a Bootstrap-Pack", entry->name);
		code = 405;
	}else if(check_deletes(conf, skip, why, why_size) != 0){
		code = 405;
	}else if(pack_encode(bs, endpoint, conf, skip, cf, out, why, why_size) != 0){
		out->len = out_len;
		code = 500;
	}
	free(skip);
	free(acc);
	if(code == 205){
		*ct = cf;
		blog(bs, CORE_LOG_INFO, endpoint, "Bootstrap-Pack of %zu instances as %s",
				conf->write_count - skipped, fmt_cf_name(cf));
	}else{
		blog(bs, CORE_LOG_NOTICE, endpoint, "Bootstrap-Pack-Request refused (%u): %s", code, why);
	}
	record_pack(bs, endpoint, code, why);
	return code;
}

/* ---- state as JSON ---------------------------------------------------------------------------- */

static const char *state_name(enum session_state st)
{
	switch(st){
		case SESSION_FINISHED: return "finished";
		case SESSION_FAILED: return "failed";
		default: return "running";
	}
}

static json_t *session_json(const struct session *s)
{
	json_t *j = json_object(), *steps = json_array();
	const struct step *cur = last_sent(s);
	char name[STEP_NAME_MAX];

	if(!j || !steps){
		json_decref(j);
		json_decref(steps);
		return NULL;
	}
	for(size_t i = 0; i < s->step_count && s->steps[i].sent; i++){
		json_array_append_new(steps, step_json(&s->steps[i], NULL, NULL));
	}
	json_object_set_new(j, "ep", json_string(s->endpoint));
	json_object_set_new(j, "prefix", s->prefix ? json_string(s->prefix) : json_null());
	json_object_set_new(j, "transport", s->transport ? json_string(s->transport) : json_null());
	json_object_set_new(j, "state", json_string(state_name(s->state)));
	json_object_set_new(j, "step", cur ? json_string(step_name(cur, name, sizeof(name))) : json_null());
	json_object_set_new(j, "stepsTotal", json_integer((json_int_t)s->step_count));
	json_object_set_new(j, "contentFormat", json_integer(s->preferred_cf));
	json_object_set_new(j, "startedAt", json_integer(s->started_at));
	json_object_set_new(j, "finishedAt", s->state >= SESSION_FINISHED ? json_integer(s->finished_at) : json_null());
	json_object_set_new(j, "reason", s->reason ? json_string(s->reason) : json_null());
	json_object_set_new(j, "steps", steps);
	return j;
}

json_t *bootstrap_sessions_json(const struct bootstrap *bs)
{
	json_t *arr = json_array();
	struct session *s, *tmp;

	if(!arr) return NULL;
	HASH_ITER(hh, bs->running, s, tmp){
		if(json_array_append_new(arr, session_json(s)) != 0) goto fail;
	}
	for(size_t i = bs->hist_count; i-- > 0;){
		s = bs->history[(bs->hist_first + i) % BOOTSTRAP_HISTORY_MAX];
		if(json_array_append_new(arr, session_json(s)) != 0) goto fail;
	}
	return json_pack("{s:o}", "sessions", arr);
fail:
	json_decref(arr);
	return NULL;
}
