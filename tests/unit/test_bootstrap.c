/* The Bootstrap-Server engine (core/bootstrap.c) against a fake transport that records
 * every request and lets the test answer it: the sequence and its order, the write formats
 * (decoded back and compared with the configured values), each way a session fails,
 * restarts, freeing with requests in flight, Bootstrap-Pack in the three formats and with
 * the device's account instances, the sessions JSON and its bounded history. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bootstrap.h"
#include "core/core.h"
#include "conf/endpoints.h"
#include "objects/fmt.h"
#include "objects/model.h"

/* ---------- the fake transport ---------- */

#define MAX_SENT 2048
#define MAX_EVENTS 4096
#define MAX_LOGS 4096

struct sent {
	char prefix[32], endpoint[64], transport[8];
	enum lwm2m_op_kind kind;
	bool has_uri, has_ct, has_payload;
	char uri[32];
	uint16_t ct;
	uint8_t *payload;
	size_t payload_len;
	uint32_t timeout_ms;
	api_done_fn done;
	void *done_ctx;
	int64_t handle;
	bool answered;
	bool cancelled;
};

struct event {
	char type[32], ep[64];
	json_t *data;
};

struct fake {
	struct sent sent[MAX_SENT];
	size_t n_sent;
	struct event events[MAX_EVENTS];
	size_t n_events;
	char *logs[MAX_LOGS];
	int log_levels[MAX_LOGS];
	size_t n_logs;
	int64_t now;
	int send_error;              /* < 0: send fails with it */
	/* answer every request from inside send with this result (0 = no) */
	uint16_t sync_result;
};

static struct fake *F;

static int64_t fake_send(void *ctx, const char *prefix, const char *endpoint, const char *transport,
		const struct lwm2m_op *op, uint32_t timeout_ms, api_done_fn done, void *done_ctx)
{
	struct fake *f = ctx;
	struct sent *s;

	if(f->send_error) return f->send_error;
	assert_true(f->n_sent < MAX_SENT);
	s = &f->sent[f->n_sent++];
	memset(s, 0, sizeof(*s));
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix ? prefix : "");
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
	snprintf(s->transport, sizeof(s->transport), "%s", transport);
	s->kind = op->kind;
	s->has_uri = (op->fields & LWM2M_F_URI) != 0;
	if(s->has_uri){
		assert_true(op->uri.len < sizeof(s->uri));
		memcpy(s->uri, op->uri.ptr, op->uri.len);
	}
	s->has_ct = (op->fields & LWM2M_F_CT) != 0;
	s->ct = op->content_format;
	s->has_payload = (op->fields & LWM2M_F_PAYLOAD) != 0;
	if(s->has_payload){
		s->payload = malloc(op->payload.len + 1);
		assert_non_null(s->payload);
		if(op->payload.len) memcpy(s->payload, op->payload.ptr, op->payload.len);
		s->payload_len = op->payload.len;
	}
	s->timeout_ms = timeout_ms;
	s->done = done;
	s->done_ctx = done_ctx;
	s->handle = 1000 + (int64_t)f->n_sent;
	if(f->sync_result){
		struct api_result res = { .outcome = API_ANSWERED, .result = f->sync_result };
		if(op->kind == LWM2M_OP_BOOTSTRAP_DISCOVER){
			res.has_ct = true;
			res.content_format = LWM2M_CF_LINK;
			res.payload = (const uint8_t *)"</>;lwm2m=1.2,</0/0>";
			res.payload_len = strlen((const char *)res.payload);
		}
		s->answered = true;
		done(done_ctx, &res);
	}
	return s->handle;
}

static void fake_cancel(void *ctx, int64_t handle)
{
	struct fake *f = ctx;

	for(size_t i = 0; i < f->n_sent; i++){
		if(f->sent[i].handle == handle){
			assert_false(f->sent[i].answered);
			assert_false(f->sent[i].cancelled);
			f->sent[i].cancelled = true;
			return;
		}
	}
	fail_msg("cancel of unknown handle %lld", (long long)handle);
}

static void fake_emit(void *ctx, const char *type, const char *endpoint, json_t *data)
{
	struct fake *f = ctx;
	struct event *e;

	assert_non_null(data);
	assert_true(f->n_events < MAX_EVENTS);
	e = &f->events[f->n_events++];
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->ep, sizeof(e->ep), "%s", endpoint);
	e->data = data;
}

static void fake_log(void *ctx, int level, const char *line)
{
	struct fake *f = ctx;

	assert_true(f->n_logs < MAX_LOGS);
	f->log_levels[f->n_logs] = level;
	f->logs[f->n_logs] = strdup(line);
	assert_non_null(f->logs[f->n_logs]);
	f->n_logs++;
}

static int64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_reset(struct fake *f)
{
	for(size_t i = 0; i < f->n_sent; i++) free(f->sent[i].payload);
	for(size_t i = 0; i < f->n_events; i++) json_decref(f->events[i].data);
	for(size_t i = 0; i < f->n_logs; i++) free(f->logs[i]);
	memset(f, 0, sizeof(*f));
	f->now = 1700000000000;
}

/* Answers request i. */
static void answer_full(size_t i, enum api_outcome outcome, uint16_t result, int ct, const void *payload,
		size_t len, const char *detail)
{
	struct sent *s;
	struct api_result res = { .outcome = outcome, .result = result, .detail = detail };

	assert_true(i < F->n_sent);
	s = &F->sent[i];
	assert_false(s->answered);
	assert_false(s->cancelled);
	s->answered = true;
	if(ct >= 0){
		res.has_ct = true;
		res.content_format = (uint16_t)ct;
	}
	res.payload = payload;
	res.payload_len = len;
	F->now += 10;
	s->done(s->done_ctx, &res);
}

static void answer(size_t i, uint16_t result)
{
	answer_full(i, API_ANSWERED, result, -1, NULL, 0, NULL);
}

/* ---------- fixtures ---------- */

struct fx {
	struct obj_registry *model;
	struct fmt_typer typer;
	struct bootstrap *bs;
	struct endpoints *eps;
};

static struct fx fx;

#define STEP_TIMEOUT 7000u

static struct endpoints *parse_eps(const char *json)
{
	struct lwm2m_error err = { 0 };
	struct endpoints *eps = endpoints_parse(json, strlen(json), "test.json", fx.model, &err);

	if(!eps) fail_msg("endpoints: %s", err.msg);
	return eps;
}

static void use_eps(const char *json)
{
	endpoints_free(fx.eps);
	fx.eps = parse_eps(json);
	bootstrap_set_endpoints(fx.bs, fx.eps);
}

static struct bootstrap *new_engine(void)
{
	struct bootstrap_io io = {
		.ctx = F, .send = fake_send, .cancel = fake_cancel, .emit = fake_emit, .log = fake_log,
		.now_wall_ms = fake_now,
	};
	struct bootstrap *bs = bootstrap_new(&io, fx.model, STEP_TIMEOUT);

	assert_non_null(bs);
	return bs;
}

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	if(!F) return -1;
	fake_reset(F);
	fx.model = obj_registry_new();
	if(!fx.model) return -1;
	fx.typer = obj_registry_typer(fx.model);
	fx.bs = new_engine();
	fx.eps = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bootstrap_free(fx.bs);
	endpoints_free(fx.eps);
	obj_registry_free(fx.model);
	fake_reset(F);
	free(F);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* ETS 1.2-int-19 (configuration C.26 written by the BS): a Security instance with an MQTT
 * URI linking /24/1 and /23/1, the server account, the COSE key, the MQTT client id. */
static const char ets_entry[] =
	"\"/0/1\": {\"0\": \"mqtt://server_1.example.com\", \"1\": false, \"2\": 0,"
	"  \"3\": {\"text\": \"ets-ep\"}, \"5\": {\"hex\": \"000102030405060708090a0b0c0d0e0f\"},"
	"  \"10\": 1, \"26\": \"24:1\", \"27\": {\"0\": \"23:1\"}},"
	"\"/1/1\": {\"0\": 1, \"1\": 86400, \"6\": false, \"7\": \"M\"},"
	"\"/23/1\": {\"0\": \"kid-1\", \"1\": 10, \"2\": \"0123456789abcdef\"},"
	"\"/24/1\": {\"3\": true, \"6\": \"etsclient1\"}";

static void use_ets(const char *extra)
{
	char json[2048];

	snprintf(json, sizeof(json), "{\"endpoints\": {\"ets-ep\": {\"bootstrap\": {%s \"write\": {%s}}}}}",
			extra, ets_entry);
	use_eps(json);
}

static const struct endpoint_bootstrap *conf_of(const char *ep)
{
	const struct endpoint_conf *c = endpoints_find(fx.eps, ep);
	assert_non_null(c);
	return &c->bootstrap;
}

static uint16_t request(const char *prefix, const char *ep, int pct, char *why, size_t why_size)
{
	struct lwm2m_op op;

	op_init(&op);
	op.kind = LWM2M_OP_BOOTSTRAP_REQUEST;
	if(pct >= 0){
		op.pct = (uint16_t)pct;
		op.fields |= LWM2M_F_PCT;
	}
	return bootstrap_request(fx.bs, prefix, ep, "mqtt", &op, why, why_size);
}

static void assert_sent(size_t i, enum lwm2m_op_kind kind, const char *uri)
{
	assert_true(i < F->n_sent);
	if(F->sent[i].kind != kind){
		fail_msg("request %zu: %s instead of %s", i, op_kind_name(F->sent[i].kind), op_kind_name(kind));
	}
	if(uri){
		assert_true(F->sent[i].has_uri);
		assert_string_equal(F->sent[i].uri, uri);
	}else{
		assert_false(F->sent[i].has_uri);
	}
}

static size_t count_events(const char *type)
{
	size_t n = 0;
	for(size_t i = 0; i < F->n_events; i++) n += strcmp(F->events[i].type, type) == 0;
	return n;
}

static const struct event *last_event(const char *type)
{
	for(size_t i = F->n_events; i-- > 0;){
		if(strcmp(F->events[i].type, type) == 0) return &F->events[i];
	}
	fail_msg("no %s event", type);
	return NULL;
}

static bool log_contains(const char *text)
{
	for(size_t i = 0; i < F->n_logs; i++){
		if(strstr(F->logs[i], text)) return true;
	}
	return false;
}

/* The nodes of a payload compared with the configured ones. */
static void assert_same_nodes(const struct lwm2m_nodes *got, const struct lwm2m_node *const *want, size_t n)
{
	char a[LWM2M_PATH_STR_MAX], b[LWM2M_PATH_STR_MAX];

	if(got->count != n) fail_msg("%zu nodes instead of %zu", got->count, n);
	for(size_t k = 0; k < n; k++){
		path_format(&got->items[k].path, a, sizeof(a));
		path_format(&want[k]->path, b, sizeof(b));
		assert_string_equal(a, b);
		assert_int_equal(got->items[k].kind, want[k]->kind);
		if(!value_equal(&got->items[k].value, &want[k]->value)) fail_msg("value of %s differs", a);
	}
}

static void assert_write_payload(size_t i, uint16_t ct, const struct endpoint_write *w)
{
	const struct sent *s = &F->sent[i];
	const struct lwm2m_node **want = calloc(w->nodes.count + 1, sizeof(*want));
	struct lwm2m_nodes got;
	struct lwm2m_error err = { 0 };

	assert_non_null(want);
	assert_true(s->has_ct && s->has_payload);
	assert_int_equal(s->ct, ct);
	nodes_init(&got);
	if(fmt_decode(ct, s->payload, s->payload_len, &w->path, &fx.typer, NULL, &got, &err) != 0){
		fail_msg("request %zu: %s", i, err.msg);
	}
	for(size_t k = 0; k < w->nodes.count; k++) want[k] = &w->nodes.items[k];
	assert_same_nodes(&got, want, w->nodes.count);
	nodes_free(&got);
	free(want);
}

static json_t *sessions(void)
{
	json_t *j = bootstrap_sessions_json(fx.bs), *arr;

	assert_non_null(j);
	arr = json_object_get(j, "sessions");
	assert_true(json_is_array(arr));
	json_incref(arr);
	json_decref(j);
	return arr;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if(!json_is_string(v)) fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if(!json_is_integer(v)) fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static void assert_null_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if(!json_is_null(v)) fail_msg("\"%s\" is not null", key);
}

/* ---------- the sequence ---------- */

static const char ets_discover_answer[] =
	"lwm2m=\"1.2\",</0/0>,</0/1>;ssid=1;uri=\"mqtt://server_1.example.com\",</1/0>;ssid=1,"
	"</3/0>,</23/0>,</23/1>;ssid=1,</24/0>,</24/1>;ssid=1";

static void test_ets_int19_sequence(void **state)
{
	const struct endpoint_bootstrap *conf;
	char why[200];
	json_t *arr, *s, *steps, *data;
	(void)state;

	use_ets("\"discover\": true,");
	conf = conf_of("ets-ep");
	/* The ETS client asks for pct 60 (plain CBOR), not a write format: SenML CBOR is used. */
	assert_int_equal(request("tenant-a", "ets-ep", 60, why, sizeof(why)), 204);
	assert_string_equal(why, "");
	assert_int_equal(F->n_sent, 0);          /* nothing before the answer went out */
	bootstrap_start(fx.bs, "tenant-a", "ets-ep");
	assert_int_equal(count_events("BOOTSTRAP_STARTED"), 1);
	data = last_event("BOOTSTRAP_STARTED")->data;
	assert_string_equal(jstr(data, "prefix"), "tenant-a");
	assert_string_equal(jstr(data, "transport"), "mqtt");
	assert_int_equal(jint(data, "steps"), 6);
	assert_int_equal(jint(data, "pct"), 60);
	assert_int_equal(jint(data, "contentFormat"), LWM2M_CF_SENML_CBOR);

	assert_int_equal(F->n_sent, 1);
	assert_sent(0, LWM2M_OP_BOOTSTRAP_DISCOVER, "/");
	assert_string_equal(F->sent[0].prefix, "tenant-a");
	assert_string_equal(F->sent[0].endpoint, "ets-ep");
	assert_string_equal(F->sent[0].transport, "mqtt");
	assert_int_equal(F->sent[0].timeout_ms, STEP_TIMEOUT);
	answer_full(0, API_ANSWERED, 205, LWM2M_CF_LINK, ets_discover_answer, strlen(ets_discover_answer), NULL);
	data = last_event("BOOTSTRAP_STEP")->data;
	assert_string_equal(jstr(data, "op"), "Bootstrap-Discover");
	assert_string_equal(jstr(data, "path"), "/");
	assert_int_equal(jint(data, "result"), 205);
	assert_string_equal(jstr(data, "links"), ets_discover_answer);

	for(size_t i = 0; i < 4; i++){
		char path[16];
		assert_int_equal(F->n_sent, 2 + i);    /* one request at a time */
		path_format(&conf->writes[i].path, path, sizeof(path));
		assert_sent(1 + i, LWM2M_OP_BOOTSTRAP_WRITE, path);
		assert_int_equal(F->sent[1 + i].timeout_ms, STEP_TIMEOUT);
		assert_write_payload(1 + i, LWM2M_CF_SENML_CBOR, &conf->writes[i]);
		answer(1 + i, 204);
		data = last_event("BOOTSTRAP_STEP")->data;
		assert_string_equal(jstr(data, "op"), "Bootstrap-Write");
		assert_string_equal(jstr(data, "path"), path);
		assert_int_equal(jint(data, "result"), 204);
		assert_int_equal(jint(data, "contentFormat"), LWM2M_CF_SENML_CBOR);
	}
	assert_string_equal(F->sent[1].uri, "/0/1");
	assert_string_equal(F->sent[4].uri, "/24/1");
	assert_int_equal(F->n_sent, 6);
	assert_sent(5, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	assert_false(F->sent[5].has_payload);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 0);
	answer(5, 204);
	assert_int_equal(F->n_sent, 6);
	assert_int_equal(count_events("BOOTSTRAP_STEP"), 6);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 1);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 0);
	assert_string_equal(last_event("BOOTSTRAP_FINISHED")->ep, "ets-ep");
	assert_int_equal(jint(last_event("BOOTSTRAP_FINISHED")->data, "steps"), 6);
	assert_int_equal(jint(last_event("BOOTSTRAP_FINISHED")->data, "durationMs"), 60);
	/* every log line names the endpoint */
	assert_true(F->n_logs > 0);
	for(size_t i = 0; i < F->n_logs; i++) assert_non_null(strstr(F->logs[i], "bootstrap ets-ep: "));
	assert_true(log_contains("not a Bootstrap-Write format"));

	arr = sessions();
	assert_int_equal(json_array_size(arr), 1);
	s = json_array_get(arr, 0);
	assert_string_equal(jstr(s, "ep"), "ets-ep");
	assert_string_equal(jstr(s, "prefix"), "tenant-a");
	assert_string_equal(jstr(s, "state"), "finished");
	assert_string_equal(jstr(s, "step"), "Bootstrap-Finish");
	assert_int_equal(jint(s, "finishedAt") - jint(s, "startedAt"), 60);
	assert_null_member(s, "reason");
	steps = json_object_get(s, "steps");
	assert_int_equal(json_array_size(steps), 6);
	assert_string_equal(jstr(json_array_get(steps, 0), "op"), "Bootstrap-Discover");
	assert_string_equal(jstr(json_array_get(steps, 3), "path"), "/23/1");
	assert_int_equal(jint(json_array_get(steps, 3), "result"), 204);
	assert_string_equal(jstr(json_array_get(steps, 5), "op"), "Bootstrap-Finish");
	assert_null_member(json_array_get(steps, 5), "path");
	json_decref(arr);
}

/* Discover, reads, deletes, writes, Finish: the order docs/endpoints-file.md gives. */
static void test_order_reads_deletes(void **state)
{
	static const struct { enum lwm2m_op_kind kind; const char *uri; uint16_t result; } want[] = {
		{ LWM2M_OP_BOOTSTRAP_DISCOVER, "/", 205 },
		{ LWM2M_OP_BOOTSTRAP_READ, "/1", 205 },
		{ LWM2M_OP_BOOTSTRAP_READ, "/2/3", 404 },       /* informs only: goes on */
		{ LWM2M_OP_BOOTSTRAP_DELETE, "/0/1", 202 },
		{ LWM2M_OP_BOOTSTRAP_DELETE, "/1", 404 },       /* nothing to delete: fine */
		{ LWM2M_OP_BOOTSTRAP_WRITE, "/1/1", 204 },
		{ LWM2M_OP_BOOTSTRAP_FINISH, NULL, 204 },
	};
	/* SenML JSON of /1/0/0 = 1 as a Bootstrap-Read answer */
	static const char read_answer[] = "[{\"bn\":\"/1/0/\",\"n\":\"0\",\"v\":1}]";
	json_t *data, *values;
	(void)state;

	use_eps("{\"endpoints\": {\"dev-1\": {\"bootstrap\": {\"discover\": true, \"read\": [\"/1\", \"/2/3\"],"
			" \"delete\": [\"/0/1\", \"/1\"], \"write\": {\"/1/1\": {\"0\": 5, \"1\": 60}}}}}}");
	assert_int_equal(request(NULL, "dev-1", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "dev-1");
	for(size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++){
		assert_int_equal(F->n_sent, i + 1);
		assert_sent(i, want[i].kind, want[i].uri);
		assert_string_equal(F->sent[i].prefix, "");
		if(want[i].kind == LWM2M_OP_BOOTSTRAP_DISCOVER){
			answer_full(i, API_ANSWERED, 205, LWM2M_CF_LINK, "</>;lwm2m=1.2,</1/0>", strlen("</>;lwm2m=1.2,</1/0>"), NULL);
		}else if(i == 1){
			answer_full(i, API_ANSWERED, 205, LWM2M_CF_SENML_JSON, read_answer, strlen(read_answer), NULL);
			data = last_event("BOOTSTRAP_STEP")->data;
			values = json_object_get(data, "values");
			assert_int_equal(json_array_size(values), 1);
			assert_string_equal(jstr(json_array_get(values, 0), "path"), "/1/0/0");
			assert_int_equal(jint(json_array_get(values, 0), "value"), 1);
		}else{
			answer(i, want[i].result);
		}
		assert_int_equal(jint(last_event("BOOTSTRAP_STEP")->data, "result"), want[i].result);
	}
	assert_int_equal(F->n_sent, 7);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 1);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 0);
}

/* ---------- write formats ---------- */

static void run_writes_in(const char *format_key, int pct, uint16_t expect)
{
	const struct endpoint_bootstrap *conf;
	char extra[64];

	fake_reset(F);
	snprintf(extra, sizeof(extra), "%s", format_key ? format_key : "");
	use_ets(extra);
	conf = conf_of("ets-ep");
	assert_int_equal(request(NULL, "ets-ep", pct, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	for(size_t i = 0; i < conf->write_count; i++){
		char path[LWM2M_PATH_STR_MAX];

		assert_int_equal(F->n_sent, i + 1);
		path_format(&conf->writes[i].path, path, sizeof(path));
		assert_sent(i, LWM2M_OP_BOOTSTRAP_WRITE, path);
		assert_write_payload(i, expect, &conf->writes[i]);
		answer(i, 204);
	}
	assert_sent(conf->write_count, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	answer(conf->write_count, 204);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 1);
}

static void test_pct_honoured(void **state)
{
	(void)state;
	run_writes_in(NULL, LWM2M_CF_TLV, LWM2M_CF_TLV);
	run_writes_in(NULL, LWM2M_CF_SENML_CBOR, LWM2M_CF_SENML_CBOR);
	run_writes_in(NULL, LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_JSON);
	run_writes_in(NULL, LWM2M_CF_LWM2M_CBOR, LWM2M_CF_LWM2M_CBOR);
	/* the device's pct wins over the entry's format */
	run_writes_in("\"format\": \"lwm2m-cbor\",", LWM2M_CF_TLV, LWM2M_CF_TLV);
	/* no pct: the entry's format; neither: SenML CBOR */
	run_writes_in("\"format\": \"tlv\",", -1, LWM2M_CF_TLV);
	run_writes_in(NULL, -1, LWM2M_CF_SENML_CBOR);
	/* a pct that is no write format (OMA JSON, plain CBOR): the entry's format */
	run_writes_in("\"format\": \"senml-json\",", LWM2M_CF_OMA_JSON, LWM2M_CF_SENML_JSON);
	run_writes_in("\"format\": \"tlv\",", LWM2M_CF_CBOR, LWM2M_CF_TLV);
}

/* An instance written as {}, an empty multi-instance resource and an empty opaque value.
 * SenML has no record for an empty multi-instance resource: such a write goes in the next
 * format of the list that carries it, or, when none does, in SenML with a warning. */
static void test_empty_parts_write(void **state)
{
	static const struct {
		int pct;
		const char *format;
		uint16_t ct_empty_instance, ct_empty_multiple;
	} cases[] = {
		{ LWM2M_CF_TLV, "", LWM2M_CF_TLV, LWM2M_CF_TLV },
		{ LWM2M_CF_LWM2M_CBOR, "", LWM2M_CF_LWM2M_CBOR, LWM2M_CF_LWM2M_CBOR },
		{ LWM2M_CF_SENML_JSON, "\"format\": \"lwm2m-cbor\",", LWM2M_CF_SENML_JSON, LWM2M_CF_LWM2M_CBOR },
		{ LWM2M_CF_SENML_CBOR, "\"format\": \"tlv\",", LWM2M_CF_SENML_CBOR, LWM2M_CF_TLV },
	};
	(void)state;

	for(size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++){
		const struct endpoint_bootstrap *conf;
		char json[512];

		fake_reset(F);
		snprintf(json, sizeof(json), "{\"endpoints\": {\"e\": {\"bootstrap\": {%s \"write\": {\"/2/3\": {},"
				" \"/0/4\": {\"0\": \"coap://h\", \"27\": {}, \"5\": {\"hex\": \"\"}}}}}}}", cases[c].format);
		use_eps(json);
		conf = conf_of("e");
		assert_int_equal(conf->writes[0].nodes.items[0].kind, LWM2M_NODE_EMPTY_INSTANCE);
		assert_int_equal(conf->writes[1].nodes.items[2].kind, LWM2M_NODE_EMPTY_MULTIPLE);
		assert_int_equal(request(NULL, "e", cases[c].pct, NULL, 0), 204);
		bootstrap_start(fx.bs, NULL, "e");
		assert_sent(0, LWM2M_OP_BOOTSTRAP_WRITE, "/2/3");
		assert_write_payload(0, cases[c].ct_empty_instance, &conf->writes[0]);
		answer(0, 204);
		assert_sent(1, LWM2M_OP_BOOTSTRAP_WRITE, "/0/4");
		assert_write_payload(1, cases[c].ct_empty_multiple, &conf->writes[1]);
		answer(1, 204);
		assert_sent(2, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
		answer(2, 204);
		assert_false(log_contains("leaves out"));
	}

	/* only SenML formats to choose from: SenML JSON without the empty resource, and a warning */
	{
		const struct endpoint_bootstrap *conf;
		const struct lwm2m_node *want[2];
		struct lwm2m_nodes got;

		fake_reset(F);
		use_eps("{\"endpoints\": {\"e\": {\"bootstrap\": {\"write\": {"
				"\"/0/4\": {\"0\": \"coap://h\", \"27\": {}, \"5\": {\"hex\": \"\"}}}}}}}");
		conf = conf_of("e");
		assert_int_equal(request(NULL, "e", LWM2M_CF_SENML_JSON, NULL, 0), 204);
		bootstrap_start(fx.bs, NULL, "e");
		assert_int_equal(F->sent[0].ct, LWM2M_CF_SENML_JSON);
		nodes_init(&got);
		assert_int_equal(fmt_decode(LWM2M_CF_SENML_JSON, F->sent[0].payload, F->sent[0].payload_len,
				&conf->writes[0].path, &fx.typer, NULL, &got, NULL), 0);
		want[0] = &conf->writes[0].nodes.items[0];
		want[1] = &conf->writes[0].nodes.items[1];
		assert_same_nodes(&got, want, 2);
		nodes_free(&got);
		assert_true(log_contains("bootstrap e: Bootstrap-Write /0/4 as senml-json leaves out what that format "
				"cannot carry"));
	}
}

/* ---------- refusals ---------- */

static void test_no_entry(void **state)
{
	char why[200];
	struct lwm2m_op op;
	json_t *arr;
	(void)state;

	/* no endpoints file at all */
	assert_int_equal(request(NULL, "dev-1", -1, why, sizeof(why)), 400);
	assert_non_null(strstr(why, "dev-1"));

	use_eps("{\"endpoints\": {\"dev-1\": {\"http\": {\"url\": \"http://127.0.0.1:9\"}},"
			" \"sensor-*\": {\"bootstrap\": {}}}}");
	assert_int_equal(request(NULL, "other", -1, why, sizeof(why)), 400);
	assert_string_equal(why, "no bootstrap configuration for endpoint \"other\"");
	/* an entry without a bootstrap section: the exact entry wins, nothing is merged */
	assert_int_equal(request(NULL, "dev-1", -1, why, sizeof(why)), 400);
	assert_non_null(strstr(why, "no bootstrap section"));
	bootstrap_start(fx.bs, NULL, "dev-1");
	bootstrap_start(fx.bs, NULL, "other");
	assert_int_equal(F->n_sent, 0);
	assert_int_equal(F->n_events, 0);
	arr = sessions();
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	/* the request claims another endpoint than its topic */
	op_init(&op);
	op.kind = LWM2M_OP_BOOTSTRAP_REQUEST;
	op.ep = op_view_str("sensor-2");
	op.fields |= LWM2M_F_EP;
	assert_int_equal(bootstrap_request(fx.bs, NULL, "sensor-1", "mqtt", &op, why, sizeof(why)), 400);
	assert_int_equal(bootstrap_request(fx.bs, NULL, "sensor-2", "http", &op, NULL, 0), 204);
	/* start with another prefix than the request's: not this session */
	bootstrap_start(fx.bs, "tenant-b", "sensor-2");
	assert_int_equal(F->n_sent, 0);
	bootstrap_start(fx.bs, NULL, "sensor-2");
	assert_sent(0, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	assert_string_equal(F->sent[0].transport, "http");
	/* a second start does nothing */
	bootstrap_start(fx.bs, NULL, "sensor-2");
	assert_int_equal(F->n_sent, 1);
}

/* ---------- failures ---------- */

static json_t *only_session(void)
{
	json_t *arr = sessions(), *s;

	assert_int_equal(json_array_size(arr), 1);
	s = json_array_get(arr, 0);
	json_incref(s);
	json_decref(arr);
	return s;
}

static void start_ets(void)
{
	use_ets("");
	assert_int_equal(request(NULL, "ets-ep", LWM2M_CF_TLV, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
}

static void assert_failed(const char *reason_part, size_t sent)
{
	const struct event *e = last_event("BOOTSTRAP_FAILED");
	json_t *s;

	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 0);
	assert_string_equal(e->ep, "ets-ep");
	if(!strstr(jstr(e->data, "reason"), reason_part)){
		fail_msg("reason \"%s\" lacks \"%s\"", jstr(e->data, "reason"), reason_part);
	}
	assert_int_equal(F->n_sent, sent);
	for(size_t i = 0; i < F->n_sent; i++) assert_int_not_equal(F->sent[i].kind, LWM2M_OP_BOOTSTRAP_FINISH);
	s = only_session();
	assert_string_equal(jstr(s, "state"), "failed");
	assert_string_equal(jstr(s, "reason"), jstr(e->data, "reason"));
	assert_string_equal(jstr(s, "step"), jstr(e->data, "step"));
	assert_true(json_is_integer(json_object_get(s, "finishedAt")));
	json_decref(s);
	assert_true(log_contains("bootstrap ets-ep: failed: "));
}

static void test_write_refused(void **state)
{
	json_t *s, *steps;
	(void)state;

	start_ets();
	answer(0, 204);
	answer(1, 400);
	assert_failed("Bootstrap-Write /1/1: the device answered 400 (Bad Request)", 2);
	assert_string_equal(jstr(last_event("BOOTSTRAP_FAILED")->data, "step"), "Bootstrap-Write /1/1");
	assert_int_equal(jint(last_event("BOOTSTRAP_STEP")->data, "result"), 400);
	s = only_session();
	steps = json_object_get(s, "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_int_equal(jint(json_array_get(steps, 1), "result"), 400);
	json_decref(s);
}

static void test_step_timeout(void **state)
{
	json_t *s, *step;
	(void)state;

	start_ets();
	answer(0, 204);
	answer(1, 204);
	answer_full(2, API_TIMEOUT, 0, -1, NULL, 0, NULL);
	assert_failed("Bootstrap-Write /23/1: no answer within 7000 ms", 3);
	s = only_session();
	step = json_array_get(json_object_get(s, "steps"), 2);
	assert_null_member(step, "result");
	assert_string_equal(jstr(step, "detail"), "no answer within 7000 ms");
	json_decref(s);
}

static void test_malformed_answers(void **state)
{
	(void)state;

	start_ets();
	answer_full(0, API_BAD_RESPONSE, 0, -1, NULL, 0, "key 18 is not a uint");
	assert_failed("Bootstrap-Write /0/1: malformed answer: key 18 is not a uint", 1);

	/* a result code that is no LwM2M result */
	fake_reset(F);
	start_ets();
	answer(0, 302);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"), "malformed answer: result 302"));
	assert_int_equal(F->n_sent, 1);

	/* a Discover answer that is not link-format */
	fake_reset(F);
	use_ets("\"discover\": true,");
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	answer_full(0, API_ANSWERED, 205, LWM2M_CF_LINK, "</0/0", 5, NULL);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"),
			"Bootstrap-Discover /: malformed answer: bad link-format"));
	assert_int_equal(F->n_sent, 1);

	/* a Discover answer in another content format */
	fake_reset(F);
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	answer_full(0, API_ANSWERED, 205, LWM2M_CF_TEXT, "</0/0>", 6, NULL);
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"), "instead of link-format"));

	/* a Read answer that does not decode */
	fake_reset(F);
	use_eps("{\"endpoints\": {\"ets-ep\": {\"bootstrap\": {\"read\": [\"/1\"]}}}}");
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	answer_full(0, API_ANSWERED, 205, LWM2M_CF_SENML_JSON, "[{", 2, NULL);
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"), "Bootstrap-Read /1: malformed answer"));
	assert_int_equal(F->n_sent, 1);
}

static void test_finish_refused(void **state)
{
	(void)state;

	use_eps("{\"endpoints\": {\"ets-ep\": {\"bootstrap\": {\"discover\": true}}}}");
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	answer(0, 404);                              /* Discover refused: informs only */
	assert_sent(1, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	answer(1, 406);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_string_equal(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"),
			"Bootstrap-Finish: the device answered 406 (Not Acceptable)");
}

static void test_device_gone_and_send_error(void **state)
{
	(void)state;

	start_ets();
	answer_full(0, API_GONE, 0, -1, NULL, 0, NULL);
	assert_failed("went away", 1);

	fake_reset(F);
	F->send_error = -LWM2M_EOFFLINE;
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"),
			"Bootstrap-Write /0/1: cannot be sent: "));
	assert_non_null(strstr(jstr(last_event("BOOTSTRAP_STEP")->data, "detail"), "cannot be sent"));
}

/* A transport that answers from inside send: the sequence still runs through, in order. */
static void test_answer_inside_send(void **state)
{
	(void)state;

	use_ets("\"discover\": true,");
	F->sync_result = 204;
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	assert_int_equal(F->n_sent, 6);
	assert_sent(0, LWM2M_OP_BOOTSTRAP_DISCOVER, "/");
	assert_sent(5, LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	assert_int_equal(count_events("BOOTSTRAP_STEP"), 6);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 1);

	fake_reset(F);
	F->sync_result = 400;
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	/* Discover's 400 only informs, the first write's 400 ends it */
	assert_int_equal(F->n_sent, 2);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
}

/* ---------- restart, swap, free ---------- */

static void test_restart_cancels_old(void **state)
{
	json_t *arr;
	(void)state;

	start_ets();
	answer(0, 204);
	assert_int_equal(F->n_sent, 2);
	/* the device asks again while /1/1 is in flight */
	assert_int_equal(request(NULL, "ets-ep", LWM2M_CF_SENML_JSON, NULL, 0), 204);
	assert_true(F->sent[1].cancelled);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 1);
	assert_string_equal(jstr(last_event("BOOTSTRAP_FAILED")->data, "reason"), "superseded by a new Bootstrap-Request");
	bootstrap_start(fx.bs, NULL, "ets-ep");
	assert_int_equal(F->n_sent, 3);
	assert_sent(2, LWM2M_OP_BOOTSTRAP_WRITE, "/0/1");
	assert_int_equal(F->sent[2].ct, LWM2M_CF_SENML_JSON);
	arr = sessions();
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(jstr(json_array_get(arr, 0), "state"), "running");
	assert_string_equal(jstr(json_array_get(arr, 1), "state"), "failed");
	json_decref(arr);
	/* a prepared session is replaced too (the device asked twice before the answer went out) */
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 204);
	assert_int_equal(count_events("BOOTSTRAP_FAILED"), 3);
	bootstrap_start(fx.bs, NULL, "ets-ep");
	assert_int_equal(F->n_sent, 4);
	assert_int_equal(F->sent[3].ct, LWM2M_CF_SENML_CBOR);
}

/* A reload frees the configuration a running session came from: it carries on. */
static void test_endpoints_swapped(void **state)
{
	static const char *const paths[] = { "/0/1", "/1/1", "/23/1", "/24/1" };
	(void)state;

	start_ets();
	answer(0, 204);
	use_eps("{\"endpoints\": {}}");
	for(size_t i = 1; i < 4; i++){
		assert_sent(i, LWM2M_OP_BOOTSTRAP_WRITE, paths[i]);
		assert_int_equal(F->sent[i].ct, LWM2M_CF_TLV);
		assert_true(F->sent[i].payload_len > 0);
		answer(i, 204);
	}
	answer(4, 204);
	assert_int_equal(count_events("BOOTSTRAP_FINISHED"), 1);
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 400);
	bootstrap_set_endpoints(fx.bs, NULL);
	assert_int_equal(request(NULL, "ets-ep", -1, NULL, 0), 400);
}

static void test_free_in_flight(void **state)
{
	size_t events, logs;
	(void)state;

	use_eps("{\"endpoints\": {\"*\": {\"bootstrap\": {\"delete\": [\"/0\"]}}}}");
	assert_int_equal(request(NULL, "a", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "a");
	assert_int_equal(request(NULL, "b", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "b");
	answer(1, 202);
	assert_int_equal(request(NULL, "c", -1, NULL, 0), 204);   /* prepared only */
	assert_int_equal(request(NULL, "d", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, NULL, "d");
	answer(3, 500);                                            /* d failed: in the history */
	assert_int_equal(F->n_sent, 4);
	events = F->n_events;
	logs = F->n_logs;
	bootstrap_free(fx.bs);
	fx.bs = NULL;
	/* the two requests in flight (a's Delete, b's Finish) are cancelled, nothing else */
	assert_true(F->sent[0].cancelled);
	assert_true(F->sent[2].cancelled);
	assert_false(F->sent[1].cancelled);
	assert_false(F->sent[3].cancelled);
	assert_int_equal(F->n_events, events);
	assert_int_equal(F->n_logs, logs);
	fx.bs = new_engine();
}

/* ---------- Bootstrap-Pack ---------- */

static uint16_t pack(const char *ep, const char *acc, int pct, uint16_t accept, struct lwm2m_buf *out,
		uint16_t *ct, char *why, size_t why_size)
{
	struct lwm2m_op op;

	op_init(&op);
	op.kind = LWM2M_OP_BOOTSTRAP_PACK_REQUEST;
	if(acc){
		op.payload = op_view_str(acc);
		op.fields |= LWM2M_F_PAYLOAD;
	}
	if(pct >= 0){
		op.pct = (uint16_t)pct;
		op.fields |= LWM2M_F_PCT;
	}
	return bootstrap_pack(fx.bs, ep, &op, accept, out, ct, why, why_size);
}

static int node_ptr_cmp(const void *a, const void *b)
{
	const struct lwm2m_node *x = *(const struct lwm2m_node *const *)a, *y = *(const struct lwm2m_node *const *)b;
	return path_compare(&x->path, &y->path);
}

/* The pack decoded at "/" holds exactly the configured nodes of the instances not in skip. */
static void assert_pack(const struct lwm2m_buf *out, uint16_t ct, const char *ep, const char *const *skip)
{
	const struct endpoint_bootstrap *conf = conf_of(ep);
	const struct lwm2m_node **want;
	struct lwm2m_nodes got;
	struct lwm2m_error err = { 0 };
	size_t n = 0, total = 0;

	for(size_t i = 0; i < conf->write_count; i++) total += conf->writes[i].nodes.count;
	want = calloc(total + 1, sizeof(*want));
	assert_non_null(want);
	for(size_t i = 0; i < conf->write_count; i++){
		char path[LWM2M_PATH_STR_MAX];
		bool skipped = false;

		path_format(&conf->writes[i].path, path, sizeof(path));
		for(size_t k = 0; skip && skip[k]; k++) skipped |= strcmp(skip[k], path) == 0;
		if(skipped) continue;
		for(size_t k = 0; k < conf->writes[i].nodes.count; k++) want[n++] = &conf->writes[i].nodes.items[k];
	}
	qsort(want, n, sizeof(*want), node_ptr_cmp);
	nodes_init(&got);
	if(fmt_decode(ct, out->data, out->len, NULL, &fx.typer, NULL, &got, &err) != 0) fail_msg("pack: %s", err.msg);
	assert_same_nodes(&got, want, n);
	nodes_free(&got);
	free(want);
}

static void test_pack_formats(void **state)
{
	static const uint16_t formats[] = { LWM2M_CF_SENML_CBOR, LWM2M_CF_SENML_JSON, LWM2M_CF_LWM2M_CBOR };
	struct lwm2m_buf out;
	uint16_t ct = 0;
	char why[200];
	(void)state;

	use_ets("\"discover\": true, \"delete\": [\"/0/1\", \"/1\"],");
	for(size_t i = 0; i < 3; i++){
		/* by accept */
		buf_init(&out, 0);
		assert_int_equal(pack("ets-ep", NULL, -1, formats[i], &out, &ct, why, sizeof(why)), 205);
		assert_string_equal(why, "");
		assert_int_equal(ct, formats[i]);
		assert_pack(&out, ct, "ets-ep", NULL);
		buf_free(&out);
		/* by the request's pct */
		buf_init(&out, 0);
		assert_int_equal(pack("ets-ep", NULL, formats[i], 0, &out, &ct, why, sizeof(why)), 205);
		assert_int_equal(ct, formats[i]);
		assert_pack(&out, ct, "ets-ep", NULL);
		buf_free(&out);
	}
	/* neither: SenML CBOR; the entry's format when it is a pack format */
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 205);
	assert_int_equal(ct, LWM2M_CF_SENML_CBOR);
	assert_pack(&out, ct, "ets-ep", NULL);
	buf_free(&out);
	use_ets("\"format\": \"senml-json\",");
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 205);
	assert_int_equal(ct, LWM2M_CF_SENML_JSON);
	assert_pack(&out, ct, "ets-ep", NULL);
	buf_free(&out);
	use_ets("\"format\": \"tlv\",");
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 205);
	assert_int_equal(ct, LWM2M_CF_SENML_CBOR);
	buf_free(&out);
	/* what the pack is appended to stays */
	buf_init(&out, 0);
	assert_int_equal(buf_append(&out, "xy", 2), 0);
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 205);
	assert_memory_equal(out.data, "xy", 2);
	assert_true(out.len > 2);
	buf_free(&out);

	/* TLV or plain CBOR cannot be a pack */
	buf_init(&out, 0);
	ct = 0;
	assert_int_equal(pack("ets-ep", NULL, -1, LWM2M_CF_TLV, &out, &ct, why, sizeof(why)), 406);
	assert_non_null(strstr(why, "not a Bootstrap-Pack format"));
	assert_int_equal(pack("ets-ep", NULL, LWM2M_CF_CBOR, 0, &out, &ct, why, sizeof(why)), 406);
	assert_int_equal(out.len, 0);
	assert_int_equal(ct, 0);
	buf_free(&out);
	/* a pack sends nothing; each one is recorded as a one-step session with its event */
	assert_int_equal(F->n_sent, 0);
	assert_int_equal(count_events("BOOTSTRAP_STARTED"), 0);
	assert_true(count_events("BOOTSTRAP_FINISHED") >= 1);
	assert_string_equal(json_string_value(json_object_get(last_event("BOOTSTRAP_FAILED")->data, "step")),
			"Bootstrap-Pack-Request");
	{
		json_t *j = bootstrap_sessions_json(fx.bs);
		/* newest first */
		json_t *last = json_array_get(json_object_get(j, "sessions"), 0);
		assert_string_equal(json_string_value(json_object_get(last, "state")), "failed");
		assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(last, "steps"), 0), "result")), 406);
		json_decref(j);
	}

	/* an empty multi-instance resource: LwM2M CBOR carries it, SenML leaves it out and says so */
	use_eps("{\"endpoints\": {\"e\": {\"bootstrap\": {\"write\": {\"/2/3\": {},"
			" \"/0/4\": {\"0\": \"coap://h\", \"27\": {}, \"5\": {\"hex\": \"\"}}}}}}}");
	buf_init(&out, 0);
	assert_int_equal(pack("e", NULL, -1, LWM2M_CF_LWM2M_CBOR, &out, &ct, why, sizeof(why)), 205);
	assert_pack(&out, ct, "e", NULL);
	assert_false(log_contains("leaves out"));
	buf_free(&out);
	buf_init(&out, 0);
	assert_int_equal(pack("e", NULL, -1, LWM2M_CF_SENML_CBOR, &out, &ct, why, sizeof(why)), 205);
	assert_int_equal(ct, LWM2M_CF_SENML_CBOR);
	assert_true(log_contains("bootstrap e: Bootstrap-Pack as senml-cbor leaves out"));
	buf_free(&out);
}

static void test_pack_accounts(void **state)
{
	static const char *const skip[] = { "/24/1", NULL };
	static const char *const skip_both[] = { "/24/1", "/0/1", NULL };
	struct lwm2m_buf out;
	uint16_t ct = 0;
	char why[200];
	(void)state;

	use_ets("");
	/* the device's own account is /0/0 + /24/1: the configured /24/1 is left out */
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", "</0/0>,</24/1>", -1, LWM2M_CF_SENML_JSON, &out, &ct, why, sizeof(why)), 205);
	assert_pack(&out, ct, "ets-ep", skip);
	assert_true(log_contains("bootstrap ets-ep: Bootstrap-Pack: /24/1 is an instance of the device's "
			"Bootstrap-Server account"));
	buf_free(&out);
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", "</0/1>, </24/1>", -1, LWM2M_CF_LWM2M_CBOR, &out, &ct, why, sizeof(why)), 205);
	assert_pack(&out, ct, "ets-ep", skip_both);
	buf_free(&out);
	/* an account that is no configured write changes nothing */
	buf_init(&out, 0);
	assert_int_equal(pack("ets-ep", "</0/7>", -1, 0, &out, &ct, why, sizeof(why)), 205);
	assert_pack(&out, ct, "ets-ep", NULL);
	buf_free(&out);

	buf_init(&out, 0);
	/* malformed acc */
	assert_int_equal(pack("ets-ep", "</0/0", -1, 0, &out, &ct, why, sizeof(why)), 400);
	assert_non_null(strstr(why, "acc: "));
	assert_int_equal(pack("ets-ep", "</0>", -1, 0, &out, &ct, why, sizeof(why)), 400);
	assert_string_equal(why, "acc: \"/0\" is not an object instance");
	assert_int_equal(pack("ets-ep", "</0/0/1>", -1, 0, &out, &ct, why, sizeof(why)), 400);
	/* every write is the device's account: nothing left */
	assert_int_equal(pack("ets-ep", "</0/1>,</1/1>,</23/1>,</24/1>", -1, 0, &out, &ct, why, sizeof(why)), 405);
	assert_non_null(strstr(why, "nothing to write"));
	assert_int_equal(out.len, 0);

	/* deletes a pack cannot express */
	use_ets("\"delete\": [\"/\"],");
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 405);
	assert_string_equal(why, "the delete of / cannot be expressed in a Bootstrap-Pack (use Bootstrap-Request)");
	use_ets("\"delete\": [\"/0\", \"/5/0\"],");
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 405);
	assert_non_null(strstr(why, "/5/0"));
	use_ets("\"delete\": [\"/24/0\"],");
	assert_int_equal(pack("ets-ep", "</24/1>", -1, 0, &out, &ct, why, sizeof(why)), 405);
	assert_int_equal(pack("ets-ep", NULL, -1, 0, &out, &ct, why, sizeof(why)), 205);
	buf_free(&out);

	/* no entry, another endpoint claimed */
	buf_init(&out, 0);
	assert_int_equal(pack("nobody", NULL, -1, 0, &out, &ct, why, sizeof(why)), 400);
	assert_string_equal(why, "no bootstrap configuration for endpoint \"nobody\"");
	{
		struct lwm2m_op op;
		op_init(&op);
		op.kind = LWM2M_OP_BOOTSTRAP_PACK_REQUEST;
		op.ep = op_view_str("nobody");
		op.fields |= LWM2M_F_EP;
		assert_int_equal(bootstrap_pack(fx.bs, "ets-ep", &op, 0, &out, &ct, NULL, 0), 400);
		assert_int_equal(bootstrap_pack(fx.bs, "ets-ep", NULL, 0, &out, &ct, NULL, 0), 205);
	}
	buf_free(&out);
}

/* ---------- sessions JSON ---------- */

static void test_sessions_json_running(void **state)
{
	json_t *arr, *s, *steps;
	(void)state;

	use_eps("{\"endpoints\": {\"p-*\": {\"bootstrap\": {\"delete\": [\"/1\"], \"write\": {\"/1/1\": {\"0\": 5}}}}}}");
	F->now = 1000;
	assert_int_equal(bootstrap_request(fx.bs, "t", "p-1", "http", NULL, NULL, 0), 204);
	F->now = 2000;
	assert_int_equal(request(NULL, "p-2", -1, NULL, 0), 204);
	bootstrap_start(fx.bs, "t", "p-1");
	answer(0, 202);

	arr = sessions();
	assert_int_equal(json_array_size(arr), 2);
	/* running sessions oldest first */
	s = json_array_get(arr, 0);
	assert_string_equal(jstr(s, "ep"), "p-1");
	assert_string_equal(jstr(s, "prefix"), "t");
	assert_string_equal(jstr(s, "transport"), "http");
	assert_string_equal(jstr(s, "state"), "running");
	assert_string_equal(jstr(s, "step"), "Bootstrap-Write /1/1");
	assert_int_equal(jint(s, "stepsTotal"), 3);
	assert_int_equal(jint(s, "contentFormat"), LWM2M_CF_SENML_CBOR);
	assert_int_equal(jint(s, "startedAt"), 1000);
	assert_null_member(s, "finishedAt");
	assert_null_member(s, "reason");
	steps = json_object_get(s, "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_string_equal(jstr(json_array_get(steps, 0), "op"), "Bootstrap-Delete");
	assert_string_equal(jstr(json_array_get(steps, 0), "path"), "/1");
	assert_int_equal(jint(json_array_get(steps, 0), "result"), 202);
	assert_string_equal(jstr(json_array_get(steps, 1), "path"), "/1/1");
	assert_int_equal(jint(json_array_get(steps, 1), "contentFormat"), LWM2M_CF_SENML_CBOR);
	assert_null_member(json_array_get(steps, 1), "result");      /* in flight */
	/* prepared, not started yet */
	s = json_array_get(arr, 1);
	assert_string_equal(jstr(s, "ep"), "p-2");
	assert_null_member(s, "prefix");
	assert_string_equal(jstr(s, "state"), "running");
	assert_null_member(s, "step");
	assert_int_equal(json_array_size(json_object_get(s, "steps")), 0);
	assert_int_equal(jint(s, "startedAt"), 2000);
	json_decref(arr);
}

static void test_bounded_history(void **state)
{
	json_t *arr;
	size_t total = BOOTSTRAP_HISTORY_MAX + 7;
	(void)state;

	use_eps("{\"endpoints\": {\"*\": {\"bootstrap\": {}}}}");
	for(size_t i = 0; i < total; i++){
		char ep[32];
		snprintf(ep, sizeof(ep), "dev-%zu", i);
		assert_int_equal(request(NULL, ep, -1, NULL, 0), 204);
		bootstrap_start(fx.bs, NULL, ep);
		answer(i, i % 2 ? 204 : 400);
	}
	arr = sessions();
	assert_int_equal(json_array_size(arr), BOOTSTRAP_HISTORY_MAX);
	/* newest first, the oldest dropped */
	for(size_t k = 0; k < BOOTSTRAP_HISTORY_MAX; k++){
		char ep[32];
		size_t i = total - 1 - k;
		json_t *s = json_array_get(arr, k);

		snprintf(ep, sizeof(ep), "dev-%zu", i);
		assert_string_equal(jstr(s, "ep"), ep);
		assert_string_equal(jstr(s, "state"), i % 2 ? "finished" : "failed");
	}
	json_decref(arr);
}

static void test_running_bound(void **state)
{
	char why[200];
	(void)state;

	use_eps("{\"endpoints\": {\"*\": {\"bootstrap\": {}}}}");
	for(unsigned i = 0; i < BOOTSTRAP_RUNNING_MAX; i++){
		char ep[32];
		snprintf(ep, sizeof(ep), "dev-%u", i);
		assert_int_equal(request(NULL, ep, -1, NULL, 0), 204);
	}
	assert_int_equal(request(NULL, "one-more", -1, why, sizeof(why)), 503);
	assert_non_null(strstr(why, "running already"));
	/* a device already counted may still restart */
	assert_int_equal(request(NULL, "dev-0", -1, NULL, 0), 204);
	/* one ends: room again */
	bootstrap_start(fx.bs, NULL, "dev-5");
	answer(0, 204);
	assert_int_equal(request(NULL, "one-more", -1, NULL, 0), 204);
}

static void test_new_refuses_bad_io(void **state)
{
	struct bootstrap_io io = { .send = fake_send };
	(void)state;

	assert_null(bootstrap_new(&io, fx.model, 0));
	io.cancel = fake_cancel;
	assert_null(bootstrap_new(&io, NULL, 0));
	assert_null(bootstrap_new(NULL, fx.model, 0));
	bootstrap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ets_int19_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_reads_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pct_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_parts_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_gone_and_send_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_inside_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_cancels_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_json_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_refuses_bad_io, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
