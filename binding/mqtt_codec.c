/* MQTT binding codec: topics and the CBOR message map (Transport TS section 8).
 * See mqtt_codec.h for the choices made where the specification leaves room. */
#include "mqtt_codec.h"
#include "cbor_pull.h"
#include "utf8.h"

#include <cbor.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ===================================================================== Topics ===== */

#define ENDPOINT_MAX_LEN 255

/* Why a topic level cannot be an endpoint name or prefix, or NULL when it can. */
static const char *level_problem(const uint8_t *s, size_t n, size_t max_len)
{
	if(n == 0) return "is empty";
	if(max_len && n > max_len) return "is longer than 255 bytes";
	if(s[0] == '$') return "starts with '$' (reserved for the broker)";
	for(size_t i = 0; i < n; i++){
		switch(s[i]){
			case '/': return "contains '/'";
			case '+': return "contains the wildcard '+'";
			case '#': return "contains the wildcard '#'";
			case '\0': return "contains a NUL byte";
		}
	}
	if(!binding_utf8_valid(s, n)) return "is not valid UTF-8";
	return NULL;
}

bool mqtt_endpoint_name_valid(const char *ep, size_t len)
{
	return ep && level_problem((const uint8_t *)ep, len, ENDPOINT_MAX_LEN) == NULL;
}

static const char *iface_level(enum lwm2m_iface iface)
{
	return iface == LWM2M_IFACE_BS ? "bs" : "rd";
}

static bool level_is(const uint8_t *t, size_t start, size_t end, const char *word)
{
	size_t n = strlen(word);
	return end - start == n && memcmp(t + start, word, n) == 0;
}

int mqtt_topic_parse(const char *topic, size_t len, struct mqtt_topic *out,
	struct lwm2m_error *err)
{
	const uint8_t *t = (const uint8_t *)topic;
	size_t start[4], end[4], s = 0;
	unsigned n = 0, base;
	const char *why;

	memset(out, 0, sizeof(*out));
	if(!topic) return lwm2m_fail(err, LWM2M_EINVAL, -1, "topic: missing");
	for(size_t i = 0; i <= len; i++){
		if(i < len && t[i] != '/') continue;
		if(n == 4){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)i,
				"topic: more than 4 levels at byte %zu (the prefix is a single level)", i);
		}
		start[n] = s;
		end[n] = i;
		n++;
		s = i + 1;
	}
	if(n < 3){
		return lwm2m_fail(err, LWM2M_EINVAL, 0,
			"topic: %u level(s); expected [prefix/]lwm2m/{rd|bs}/{endpoint}", n);
	}
	base = n - 3;
	if(start[n - 1] == end[n - 1]){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)start[n - 1],
			"topic: empty endpoint at byte %zu", start[n - 1]);
	}
	if(base == 1){
		why = level_problem(t + start[0], end[0] - start[0], 0);
		if(why) return lwm2m_fail(err, LWM2M_EINVAL, 0, "topic: prefix %s", why);
		out->has_prefix = true;
		out->prefix.ptr = t;
		out->prefix.len = end[0];
	}
	if(!level_is(t, start[base], end[base], "lwm2m")){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)start[base],
			"topic: expected \"lwm2m\" at byte %zu", start[base]);
	}
	if(level_is(t, start[base + 1], end[base + 1], "rd")){
		out->iface = LWM2M_IFACE_RD;
	}else if(level_is(t, start[base + 1], end[base + 1], "bs")){
		out->iface = LWM2M_IFACE_BS;
	}else{
		return lwm2m_fail(err, LWM2M_EINVAL, (long)start[base + 1],
			"topic: expected \"rd\" or \"bs\" at byte %zu", start[base + 1]);
	}
	why = level_problem(t + start[base + 2], end[base + 2] - start[base + 2], ENDPOINT_MAX_LEN);
	if(why){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)start[base + 2],
			"topic: endpoint at byte %zu %s", start[base + 2], why);
	}
	out->endpoint.ptr = t + start[base + 2];
	out->endpoint.len = end[base + 2] - start[base + 2];
	return 0;
}

bool mqtt_prefix_allowed(struct lwm2m_view prefix, bool has_prefix,
	const char *const *allowed, size_t n_allowed, bool allow_none)
{
	if(!has_prefix) return allow_none;
	for(size_t i = 0; i < n_allowed; i++){
		if(allowed && allowed[i] && op_view_eq_str(prefix, allowed[i])) return true;
	}
	return false;
}

int mqtt_topic_format(struct lwm2m_buf *out, const char *prefix, enum lwm2m_iface iface,
	const char *endpoint, size_t ep_len)
{
	size_t plen = 0, total;
	char *p;
	int rc;

	if(prefix){
		plen = strlen(prefix);
		if(level_problem((const uint8_t *)prefix, plen, 0)) return -LWM2M_EINVAL;
	}
	if(!mqtt_endpoint_name_valid(endpoint, ep_len)) return -LWM2M_EINVAL;
	/* "lwm2m/" + "rd/" + endpoint (+ prefix + "/") + NUL */
	total = 6 + 3 + ep_len + (prefix ? plen + 1 : 0);
	rc = buf_reserve(out, total + 1);
	if(rc) return rc;
	p = (char *)out->data + out->len;
	if(prefix){
		memcpy(p, prefix, plen);
		p[plen] = '/';
		p += plen + 1;
	}
	memcpy(p, "lwm2m/", 6);
	memcpy(p + 6, iface_level(iface), 2);
	p[8] = '/';
	memcpy(p + 9, endpoint, ep_len);
	p[9 + ep_len] = '\0';
	out->len += total;
	return 0;
}

/* ================================================================ Key table ======= */

enum key_type { KT_NONE, KT_UINT, KT_TSTR, KT_BSTR, KT_PAYLOAD, KT_NUMBER };

enum {
	K_OPERATION = 1, K_TOKEN = 2, K_EP = 3, K_PCT = 4, K_URI = 5, K_PATHS = 6,
	K_PAYLOAD = 7, K_LIFETIME = 8, K_VERSION = 9, K_BINDING = 10, K_SMS = 11,
	K_PMIN = 12, K_PMAX = 13, K_GT = 14, K_ST = 15, K_EPMIN = 16, K_EPMAX = 17,
	K_RESULT = 18, K_CT = 19, K_EDGE = 20, K_HQMAX = 21, K_DEPTH = 22,
	K_LAST = K_DEPTH
};

#define KEY_BIT(k) (1u << (k))

static const struct key_info {
	const char *name;
	enum key_type type;
} key_table[K_LAST + 1] = {
	[K_OPERATION] = { "operation", KT_UINT },
	[K_TOKEN] = { "token", KT_UINT },
	[K_EP] = { "ep", KT_TSTR },
	[K_PCT] = { "pct", KT_UINT },
	[K_URI] = { "uri", KT_TSTR },
	[K_PATHS] = { "paths", KT_BSTR },
	[K_PAYLOAD] = { "payload", KT_PAYLOAD },
	[K_LIFETIME] = { "lifetime", KT_UINT },
	[K_VERSION] = { "version", KT_TSTR },
	[K_BINDING] = { "b", KT_TSTR },
	[K_SMS] = { "sms", KT_TSTR },
	[K_PMIN] = { "pmin", KT_UINT },
	[K_PMAX] = { "pmax", KT_UINT },
	[K_GT] = { "gt", KT_NUMBER },
	[K_ST] = { "st", KT_NUMBER },
	[K_EPMIN] = { "epmin", KT_UINT },
	[K_EPMAX] = { "epmax", KT_UINT },
	[K_RESULT] = { "result", KT_UINT },
	[K_CT] = { "ct", KT_UINT },
	[K_EDGE] = { "edge", KT_UINT },
	[K_HQMAX] = { "hqmax", KT_UINT },
	[K_DEPTH] = { "depth", KT_UINT },
};

static const char *key_name(unsigned key)
{
	return key <= K_LAST && key_table[key].name ? key_table[key].name : "unknown";
}

/* The attribute carried by a key, or LWM2M_ATTR_COUNT when none. */
static enum lwm2m_attr_id key_attr(unsigned key)
{
	switch(key){
		case K_PMIN: return LWM2M_ATTR_PMIN;
		case K_PMAX: return LWM2M_ATTR_PMAX;
		case K_GT: return LWM2M_ATTR_GT;
		case K_ST: return LWM2M_ATTR_ST;
		case K_EPMIN: return LWM2M_ATTR_EPMIN;
		case K_EPMAX: return LWM2M_ATTR_EPMAX;
		case K_EDGE: return LWM2M_ATTR_EDGE;
		case K_HQMAX: return LWM2M_ATTR_HQMAX;
		default: return LWM2M_ATTR_COUNT;
	}
}

/* ========================================================= Operation codes ======== */

int mqtt_codec_wire_op(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_BOOTSTRAP_REQUEST: return 0;
		case LWM2M_OP_BOOTSTRAP_WRITE: return 1;
		case LWM2M_OP_BOOTSTRAP_READ: return 2;
		case LWM2M_OP_BOOTSTRAP_DELETE: return 3;
		case LWM2M_OP_BOOTSTRAP_DISCOVER: return 4;
		case LWM2M_OP_BOOTSTRAP_FINISH: return 5;
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST: return 6;
		case LWM2M_OP_REGISTER: return 6;
		case LWM2M_OP_UPDATE: return 7;
		case LWM2M_OP_DEREGISTER: return 8;
		case LWM2M_OP_READ: return 9;
		case LWM2M_OP_READ_COMPOSITE: return 10;
		case LWM2M_OP_DISCOVER: return 11;
		case LWM2M_OP_WRITE: return 12;
		case LWM2M_OP_WRITE_PARTIAL: return 13;
		case LWM2M_OP_WRITE_ATTRIBUTES: return 14;
		case LWM2M_OP_WRITE_COMPOSITE: return 15;
		case LWM2M_OP_EXECUTE: return 16;
		case LWM2M_OP_CREATE: return 17;
		case LWM2M_OP_DELETE: return 18;
		case LWM2M_OP_OBSERVE: return 20;
		case LWM2M_OP_OBSERVE_COMPOSITE: return 21;
		case LWM2M_OP_CANCEL_OBSERVE: return 22;
		case LWM2M_OP_NOTIFY: return 23;
		case LWM2M_OP_SEND: return 24;
		default: return -1;
	}
}

enum lwm2m_op_kind mqtt_codec_kind(int code, enum lwm2m_iface iface)
{
	static const enum lwm2m_op_kind bs[] = {
		LWM2M_OP_BOOTSTRAP_REQUEST, LWM2M_OP_BOOTSTRAP_WRITE, LWM2M_OP_BOOTSTRAP_READ,
		LWM2M_OP_BOOTSTRAP_DELETE, LWM2M_OP_BOOTSTRAP_DISCOVER, LWM2M_OP_BOOTSTRAP_FINISH,
		LWM2M_OP_BOOTSTRAP_PACK_REQUEST,
	};
	static const enum lwm2m_op_kind rd[] = {
		[6] = LWM2M_OP_REGISTER, [7] = LWM2M_OP_UPDATE, [8] = LWM2M_OP_DEREGISTER,
		[9] = LWM2M_OP_READ, [10] = LWM2M_OP_READ_COMPOSITE, [11] = LWM2M_OP_DISCOVER,
		[12] = LWM2M_OP_WRITE, [13] = LWM2M_OP_WRITE_PARTIAL,
		[14] = LWM2M_OP_WRITE_ATTRIBUTES, [15] = LWM2M_OP_WRITE_COMPOSITE,
		[16] = LWM2M_OP_EXECUTE, [17] = LWM2M_OP_CREATE, [18] = LWM2M_OP_DELETE,
		[19] = LWM2M_OP_NONE, [20] = LWM2M_OP_OBSERVE, [21] = LWM2M_OP_OBSERVE_COMPOSITE,
		[22] = LWM2M_OP_CANCEL_OBSERVE, [23] = LWM2M_OP_NOTIFY, [24] = LWM2M_OP_SEND,
	};
	if(code < 0) return LWM2M_OP_NONE;
	if(iface == LWM2M_IFACE_BS){
		return (size_t)code < sizeof(bs) / sizeof(bs[0]) ? bs[code] : LWM2M_OP_NONE;
	}
	return (size_t)code < sizeof(rd) / sizeof(rd[0]) ? rd[code] : LWM2M_OP_NONE;
}

/* Keys a request of this kind must carry besides the operation and the token
 * (spec tables 8.3.1-1 .. 8.3.4-1). */
static uint32_t required_keys(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_BOOTSTRAP_WRITE: return KEY_BIT(K_CT) | KEY_BIT(K_PAYLOAD);
		case LWM2M_OP_BOOTSTRAP_READ:
		case LWM2M_OP_BOOTSTRAP_DELETE:
		case LWM2M_OP_BOOTSTRAP_DISCOVER: return KEY_BIT(K_URI);
		case LWM2M_OP_REGISTER: return KEY_BIT(K_LIFETIME) | KEY_BIT(K_VERSION);
		case LWM2M_OP_READ:
		case LWM2M_OP_DISCOVER:
		case LWM2M_OP_WRITE_ATTRIBUTES:
		case LWM2M_OP_EXECUTE:
		case LWM2M_OP_DELETE:
		case LWM2M_OP_OBSERVE: return KEY_BIT(K_URI);
		case LWM2M_OP_READ_COMPOSITE:
		case LWM2M_OP_OBSERVE_COMPOSITE: return KEY_BIT(K_PATHS);
		case LWM2M_OP_WRITE:
		case LWM2M_OP_WRITE_PARTIAL:
		case LWM2M_OP_CREATE: return KEY_BIT(K_URI) | KEY_BIT(K_CT) | KEY_BIT(K_PAYLOAD);
		case LWM2M_OP_WRITE_COMPOSITE:
		case LWM2M_OP_NOTIFY:
		case LWM2M_OP_SEND: return KEY_BIT(K_CT) | KEY_BIT(K_PAYLOAD);
		default: return 0;
	}
}

/* The op field that a key fills (0 for operation, result and the attribute keys). */
static uint32_t key_field(unsigned key)
{
	switch(key){
		case K_TOKEN: return LWM2M_F_TOKEN;
		case K_EP: return LWM2M_F_EP;
		case K_PCT: return LWM2M_F_PCT;
		case K_URI: return LWM2M_F_URI;
		case K_PATHS: return LWM2M_F_PATHS;
		case K_PAYLOAD: return LWM2M_F_PAYLOAD;
		case K_LIFETIME: return LWM2M_F_LIFETIME;
		case K_VERSION: return LWM2M_F_VERSION;
		case K_BINDING: return LWM2M_F_BINDING;
		case K_SMS: return LWM2M_F_SMS;
		case K_CT: return LWM2M_F_CT;
		case K_DEPTH: return LWM2M_F_DEPTH;
		default: return 0;
	}
}

/* ========================================================= Message decoding ======= */

/* The map is walked with the binding's CBOR pull reader (cbor_pull.h), in this codec's
 * words. */
static const char *item_kind_name(enum pull_kind k)
{
	return pull_kind_name(PULL_WORDS_MQTT, k);
}

struct dec {
	enum lwm2m_iface iface;
	size_t max_payload;
	struct lwm2m_error *err;     /* the caller's; holds the first error */
	struct lwm2m_error scratch;  /* structural errors before they are known to be first */
	int first_rc;
};

/* What one map walk found. */
struct msg {
	struct lwm2m_op op;
	size_t map_off;
	uint64_t seen;               /* keys 0..63 met */
	uint64_t opcode;
	bool has_op, has_result, token_ok;
	size_t off[K_LAST + 1];      /* value offset of each known key */
	/* signs of the COSE wrapper {1: null / bstr, 2: {...}}, decided after the walk */
	enum pull_kind key1_kind, key2_kind;
	size_t inner_off, inner_end;
	bool other_key;              /* a key other than 1 and 2 */
	size_t other_off;
};

/* Record an error when it is the first one; the walk goes on to find the token. */
static void note(struct dec *d, int code, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note(struct dec *d, int code, size_t off, const char *fmt, ...)
{
	char text[LWM2M_ERROR_MSG_MAX];
	va_list ap;

	if(d->first_rc) return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	d->first_rc = lwm2m_fail(d->err, code, (long)off, "%s", text);
}

/* A structural error (the walk cannot go on): keep it unless an earlier one was noted. */
static int structural(struct dec *d, int rc)
{
	if(!d->first_rc){
		d->first_rc = rc;
		if(d->err) *d->err = d->scratch;
	}
	return d->first_rc;
}

static void note_type(struct dec *d, unsigned key, const char *want,
	const struct pull_item *v)
{
	note(d, LWM2M_EINVAL, v->off, "key %u (%s): expected %s at byte %zu (found %s)", key,
		key_name(key), want, v->off, item_kind_name(v->kind));
}

static bool take_uint(struct dec *d, unsigned key, const struct pull_item *v, uint64_t max,
	uint64_t *out)
{
	if(v->kind != PULL_UINT){
		note_type(d, key, "uint", v);
		return false;
	}
	if(v->u > max){
		note(d, LWM2M_EINVAL, v->off, "key %u (%s): %llu out of range 0..%llu at byte %zu",
			key, key_name(key), (unsigned long long)v->u, (unsigned long long)max, v->off);
		return false;
	}
	*out = v->u;
	return true;
}

static bool take_string(struct dec *d, unsigned key, const struct pull_item *v,
	bool text_ok, bool bytes_ok, struct lwm2m_view *out)
{
	const char *want = text_ok && bytes_ok ? "byte or text string"
		: text_ok ? "text string" : "byte string";

	if((v->kind == PULL_TSTR_INDEF && text_ok) || (v->kind == PULL_BSTR_INDEF && bytes_ok)){
		note(d, LWM2M_EINVAL, v->off,
			"key %u (%s): indefinite-length strings are not supported at byte %zu", key,
			key_name(key), v->off);
		return false;
	}
	if(!((v->kind == PULL_TSTR && text_ok) || (v->kind == PULL_BSTR && bytes_ok))){
		note_type(d, key, want, v);
		return false;
	}
	if(v->kind == PULL_TSTR && !bytes_ok && !binding_utf8_valid(v->ptr, v->len)){
		note(d, LWM2M_EINVAL, v->off, "key %u (%s): invalid UTF-8 at byte %zu", key,
			key_name(key), v->off);
		return false;
	}
	out->ptr = v->ptr;
	out->len = v->len;
	return true;
}

static bool take_number(struct dec *d, unsigned key, const struct pull_item *v, double *out)
{
	double x;

	switch(v->kind){
		case PULL_UINT: x = (double)v->u; break;
		case PULL_NEGINT:
			/* -(n + 1) rounded once, so every integral double survives a round trip */
			x = v->u == UINT64_MAX ? -0x1p64 : -(double)(v->u + 1);
			break;
		case PULL_FLOAT: x = v->f; break;
		default:
			note_type(d, key, "number", v);
			return false;
	}
	if(!isfinite(x)){
		note(d, LWM2M_EINVAL, v->off, "key %u (%s): number must be finite at byte %zu",
			key, key_name(key), v->off);
		return false;
	}
	*out = x;
	return true;
}

static void set_attr_uint(struct lwm2m_attrs *a, enum lwm2m_attr_id id, uint64_t v)
{
	switch(id){
		case LWM2M_ATTR_PMIN: a->pmin = v; break;
		case LWM2M_ATTR_PMAX: a->pmax = v; break;
		case LWM2M_ATTR_EPMIN: a->epmin = v; break;
		case LWM2M_ATTR_EPMAX: a->epmax = v; break;
		case LWM2M_ATTR_HQMAX: a->hqmax = v; break;
		case LWM2M_ATTR_EDGE: a->edge = (uint8_t)v; break;
		default: return;
	}
	a->set |= LWM2M_ATTR_BIT(id);
}

/* Interpret the value v of a known key into m. Type problems are noted, not returned. */
static void take_known(struct dec *d, struct msg *m, unsigned key,
	const struct pull_item *v)
{
	struct lwm2m_op *op = &m->op;
	struct lwm2m_view *view = NULL;
	uint64_t u = 0;
	double x = 0;
	bool ok = false;

	switch(key){
		case K_OPERATION:
			m->has_op = true;
			take_uint(d, key, v, UINT64_MAX, &m->opcode);
			return;
		case K_RESULT:
			m->has_result = true;
			if(!take_uint(d, key, v, UINT64_MAX, &u)) return;
			if(u < 100 || u > 699){
				note(d, LWM2M_EINVAL, v->off,
					"key 18 (result): %llu is not a result code (100..699) at byte %zu",
					(unsigned long long)u, v->off);
				return;
			}
			op->result = (uint16_t)u;
			op->fields |= LWM2M_F_RESULT;
			return;
		case K_TOKEN:
			ok = take_uint(d, key, v, UINT64_MAX, &op->token);
			m->token_ok = ok;
			break;
		case K_PCT:
			ok = take_uint(d, key, v, UINT16_MAX, &u);
			if(ok) op->pct = (uint16_t)u;
			break;
		case K_CT:
			ok = take_uint(d, key, v, UINT16_MAX, &u);
			if(ok) op->content_format = (uint16_t)u;
			break;
		case K_LIFETIME:
			ok = take_uint(d, key, v, UINT64_MAX, &op->lifetime);
			break;
		case K_DEPTH:
			ok = take_uint(d, key, v, 3, &u);
			if(ok) op->depth = (uint8_t)u;
			break;
		case K_EP: view = &op->ep; break;
		case K_URI: view = &op->uri; break;
		case K_VERSION: view = &op->version; break;
		case K_BINDING: view = &op->binding; break;
		case K_SMS: view = &op->sms; break;
		case K_PATHS:
		case K_PAYLOAD:
			ok = take_string(d, key, v, key == K_PAYLOAD, true,
				key == K_PAYLOAD ? &op->payload : &op->paths);
			if(ok && d->max_payload && v->len > d->max_payload){
				note(d, LWM2M_ETOOBIG, v->off,
					"key %u (%s): %zu bytes exceed the limit of %zu at byte %zu", key,
					key_name(key), v->len, d->max_payload, v->off);
				ok = false;
			}
			break;
		case K_GT:
		case K_ST:
			if(take_number(d, key, v, &x)){
				if(key == K_GT) op->attrs.gt = x; else op->attrs.st = x;
				op->attrs.set |= LWM2M_ATTR_BIT(key_attr(key));
			}
			return;
		default:
			/* pmin, pmax, epmin, epmax, edge, hqmax */
			if(take_uint(d, key, v, key == K_EDGE ? 1 : UINT64_MAX, &u)){
				set_attr_uint(&op->attrs, key_attr(key), u);
			}
			return;
	}
	if(view) ok = take_string(d, key, v, true, false, view);
	if(ok) op->fields |= key_field(key);
}

/* Walk the map whose head is mh, at nesting level `level` (outermost = 1). Semantic
 * problems are noted and the walk continues; a structural one ends it (returned). */
static int walk_map(struct dec *d, struct pull_reader *r, const struct pull_item *mh,
	unsigned level, bool top, struct msg *m)
{
	struct pull_members members;
	struct pull_item k, v;
	bool done;
	int rc;

	memset(m, 0, sizeof(*m));
	m->map_off = mh->off;
	m->key1_kind = m->key2_kind = PULL_UNDEF;
	rc = pull_members_start(r, mh, &members, &d->scratch);
	if(rc) return rc;
	for(;;){
		bool dup = false, known = false;
		unsigned key = 0;

		rc = pull_members_next(r, &members, &k, &done, &d->scratch);
		if(rc) return rc;
		if(done) return 0;
		if(!members.indef) members.left--;   /* the value is read below, not as a member */
		if(k.kind != PULL_UINT && k.kind != PULL_NEGINT){
			note(d, LWM2M_EINVAL, k.off, "map key at byte %zu is a %s, not an integer",
				k.off, item_kind_name(k.kind));
			rc = pull_skip(r, &k, level, &d->scratch);
			if(rc) return rc;
		}else if(k.kind == PULL_UINT && k.u < 64){
			key = (unsigned)k.u;
			dup = (m->seen >> key) & 1u;
			m->seen |= 1ull << key;
			known = key >= 1 && key <= K_LAST;
			if(dup){
				note(d, LWM2M_EINVAL, k.off, "duplicate key %u (%s) at byte %zu", key,
					key_name(key), k.off);
			}
		}
		if((k.kind != PULL_UINT || (k.u != 1 && k.u != 2)) && !m->other_key){
			m->other_key = true;
			m->other_off = k.off;
		}
		rc = pull_next(r, &v, &d->scratch);
		if(rc) return rc;
		if(v.kind == PULL_BREAK){
			return lwm2m_fail(&d->scratch, LWM2M_EINVAL, (long)v.off,
				"malformed CBOR: break instead of a value at byte %zu", v.off);
		}
		if(known && !dup){
			m->off[key] = v.off;
			if(key == K_OPERATION) m->key1_kind = v.kind;
			if(key == K_TOKEN) m->key2_kind = v.kind;
			/* The outermost map may be a COSE wrapper {1: null / bstr, 2: {...}}: those
			 * two values are judged after the walk (note_deferred / is_wrapper). */
			if(!(top && key == K_TOKEN && (v.kind == PULL_MAP || v.kind == PULL_MAP_INDEF)) &&
				!(top && key == K_OPERATION && (v.kind == PULL_NULL || v.kind == PULL_BSTR))){
				take_known(d, m, key, &v);
			}
		}
		rc = pull_skip(r, &v, level, &d->scratch);
		if(rc) return rc;
		if(known && !dup && key == K_TOKEN){
			m->inner_off = v.off;
			m->inner_end = r->pos;
		}
	}
}

/* A map that holds the COSE Outer_Wrapper rather than a message. */
static bool is_wrapper(const struct msg *m)
{
	return (m->key2_kind == PULL_MAP || m->key2_kind == PULL_MAP_INDEF) &&
		(m->key1_kind == PULL_NULL || m->key1_kind == PULL_BSTR);
}

/* Type errors that walk_map deferred while it could not tell a wrapper from a message. */
static void note_deferred(struct dec *d, struct msg *m)
{
	struct pull_item v = { 0 };

	if(m->key1_kind == PULL_NULL || m->key1_kind == PULL_BSTR){
		v.kind = m->key1_kind;
		v.off = m->off[K_OPERATION];
		note_type(d, K_OPERATION, "uint", &v);
		m->has_op = true;
	}
	if(m->key2_kind == PULL_MAP || m->key2_kind == PULL_MAP_INDEF){
		v.kind = m->key2_kind;
		v.off = m->off[K_TOKEN];
		note_type(d, K_TOKEN, "uint", &v);
	}
}

/* Checks that need the whole map: request or response, the op code, required keys. */
static void check_message(struct dec *d, struct msg *m)
{
	struct lwm2m_op *op = &m->op;
	uint32_t need;

	if(m->has_op && m->has_result){
		note(d, LWM2M_EINVAL, m->map_off,
			"map at byte %zu has both key 1 (operation) and key 18 (result)", m->map_off);
		return;
	}
	if(!m->has_op && !m->has_result){
		note(d, LWM2M_EINVAL, m->map_off,
			"map at byte %zu has neither key 1 (operation) nor key 18 (result)", m->map_off);
		return;
	}
	if(m->has_op){
		op->kind = mqtt_codec_kind(m->opcode > 24 ? -1 : (int)m->opcode, d->iface);
		if(op->kind == LWM2M_OP_NONE){
			note(d, LWM2M_ENOTSUP, m->off[K_OPERATION],
				"key 1 (operation): code %llu is not valid on the %s interface at byte %zu",
				(unsigned long long)m->opcode, iface_level(d->iface), m->off[K_OPERATION]);
			return;
		}
	}else{
		op->is_response = true;
	}
	if(!(m->seen & KEY_BIT(K_TOKEN))){
		note(d, LWM2M_EINVAL, m->map_off, "missing key 2 (token) in the map at byte %zu",
			m->map_off);
		return;
	}
	need = m->has_op ? required_keys(op->kind) : 0;
	for(unsigned key = 1; key <= K_LAST; key++){
		if((need & KEY_BIT(key)) && !(m->seen & KEY_BIT(key))){
			note(d, LWM2M_EINVAL, m->map_off,
				"%s: missing key %u (%s) in the map at byte %zu", op_kind_name(op->kind), key,
				key_name(key), m->map_off);
			return;
		}
	}
	if(op->attrs.set) op->fields |= LWM2M_F_ATTRS;
	if((op->fields & LWM2M_F_BINDING) && memchr(op->binding.ptr, 'Q', op->binding.len)){
		op->fields |= LWM2M_F_QUEUE;
	}
}

/* Decode the message map whose head is at r->pos (level 1 = outermost). */
static int decode_map(struct dec *d, struct pull_reader *r, unsigned level, bool top,
	struct msg *m)
{
	struct pull_item mh;
	int rc;

	rc = pull_next(r, &mh, &d->scratch);
	if(rc) return structural(d, rc);
	if(mh.kind != PULL_MAP && mh.kind != PULL_MAP_INDEF){
		note(d, LWM2M_EINVAL, mh.off, "expected a CBOR map at byte %zu (found %s)", mh.off,
			item_kind_name(mh.kind));
		return d->first_rc;
	}
	rc = walk_map(d, r, &mh, level, top, m);
	if(rc) return structural(d, rc);
	if(top && r->pos != r->end){
		note(d, LWM2M_EINVAL, r->pos, "%zu trailing bytes after the map at byte %zu",
			r->end - r->pos, r->pos);
	}
	if(top && is_wrapper(m)){
		if(m->other_key){
			note(d, LWM2M_EINVAL, m->other_off,
				"COSE wrapper: unexpected key at byte %zu (only keys 1 and 2 allowed)",
				m->other_off);
			return d->first_rc;
		}
		if(d->first_rc) return d->first_rc;
		if(m->key1_kind == PULL_BSTR){
			note(d, LWM2M_ENOTSUP, m->off[K_OPERATION],
				"COSE-protected message (key 1 at byte %zu)", m->off[K_OPERATION]);
			return d->first_rc;
		}
		/* unprotected: the message is the map under key 2 */
		struct pull_reader inner = *r;
		inner.pos = m->inner_off;
		inner.end = m->inner_end;
		return decode_map(d, &inner, level + 1, false, m);
	}
	note_deferred(d, m);
	if(!d->first_rc) check_message(d, m);
	return d->first_rc;
}

int mqtt_codec_decode(const uint8_t *buf, size_t len, enum lwm2m_iface iface,
	const struct mqtt_codec_limits *lim, struct lwm2m_op *op, struct lwm2m_error *err)
{
	struct dec d = { .iface = iface, .err = err };
	struct pull_reader r = { .buf = buf, .pos = 0, .end = buf ? len : 0,
		.words = PULL_WORDS_MQTT };
	struct msg m;
	int rc;

	op_init(op);
	r.max_depth = lim && lim->max_depth ? lim->max_depth : MQTT_CODEC_DEFAULT_MAX_DEPTH;
	if(r.max_depth > MQTT_CODEC_MAX_DEPTH_CAP) r.max_depth = MQTT_CODEC_MAX_DEPTH_CAP;
	d.max_payload = lim ? lim->max_payload : 0;
	memset(&m, 0, sizeof(m));

	rc = decode_map(&d, &r, 1, true, &m);
	if(rc == 0){
		*op = m.op;
		return 0;
	}
	/* keep what lets the caller answer: token, and request kind or response flag */
	if(m.token_ok){
		op->token = m.op.token;
		op->fields = LWM2M_F_TOKEN;
	}
	if(m.has_op && !m.has_result && m.key1_kind == PULL_UINT && m.opcode <= 24){
		op->kind = mqtt_codec_kind((int)m.opcode, iface);
	}
	op->is_response = m.has_result && !m.has_op;
	return rc;
}

/* ========================================================= Message encoding ======= */

enum enc_type { ET_UINT, ET_NEGINT, ET_NUMBER, ET_TSTR, ET_BSTR };

struct entry {
	uint8_t key;
	enum enc_type type;
	uint64_t u;
	double f;
	const uint8_t *p, *p2;   /* a string may come in two parts (binding + "Q") */
	size_t n, n2;
};

struct entries {
	struct entry e[K_LAST + 1];
	size_t count;
	size_t bound;            /* upper bound of the encoded size */
};

static void add_uint(struct entries *es, unsigned key, uint64_t v)
{
	struct entry *e = &es->e[es->count++];
	memset(e, 0, sizeof(*e));
	e->key = (uint8_t)key;
	e->type = ET_UINT;
	e->u = v;
	es->bound += 2 + 9;
}

static void add_number(struct entries *es, unsigned key, double v)
{
	add_uint(es, key, 0);
	es->e[es->count - 1].type = ET_NUMBER;
	es->e[es->count - 1].f = v;
}

static void add_str(struct entries *es, unsigned key, enum enc_type type,
	struct lwm2m_view v, const char *extra)
{
	struct entry *e = &es->e[es->count++];
	memset(e, 0, sizeof(*e));
	e->key = (uint8_t)key;
	e->type = type;
	e->p = v.ptr;
	e->n = v.len;
	if(extra){
		e->p2 = (const uint8_t *)extra;
		e->n2 = strlen(extra);
	}
	es->bound += 2 + 9 + e->n + e->n2;
}

/* The half-precision bits of v when a half represents v exactly. */
static bool half_exact(double v, uint16_t *bits)
{
	double a = fabs(v), m;
	int e;
	uint16_t sign = signbit(v) ? 0x8000 : 0;

	if(!(a > 0) || a > 65504.0) return false;
	m = frexp(a, &e);                                  /* a = m * 2^e, m in [0.5, 1) */
	if(ldexp(m, 11) != floor(ldexp(m, 11))) return false;   /* > 11 significant bits */
	if(ldexp(a, 24) != floor(ldexp(a, 24))) return false;   /* finer than 2^-24 */
	if(a >= 0x1p-14){
		*bits = (uint16_t)(sign | (unsigned)(e - 1 + 15) << 10 |
			(unsigned)((ldexp(m, 11) - 1024.0)));
	}else{
		*bits = (uint16_t)(sign | (unsigned)ldexp(a, 24));   /* subnormal */
	}
	return true;
}

/* gt/st: integers as uint/negint, otherwise the shortest float that is exact. */
static size_t encode_number(double v, uint8_t *p, size_t cap)
{
	uint16_t half;

	if(v == floor(v) && v >= 0 && v < 0x1p64) return cbor_encode_uint((uint64_t)v, p, cap);
	if(v == floor(v) && v < 0 && v >= -0x1p64){
		uint64_t n = v == -0x1p64 ? UINT64_MAX : (uint64_t)(-v) - 1;
		return cbor_encode_negint(n, p, cap);
	}
	if(half_exact(v, &half)){
		/* written by hand: libcbor 0.8's cbor_encode_half drops the low bits of
		 * subnormal halves */
		if(cap < 3) return 0;
		p[0] = 0xf9;
		p[1] = (uint8_t)(half >> 8);
		p[2] = (uint8_t)half;
		return 3;
	}
	if(fabs(v) <= FLT_MAX && (double)(float)v == v) return cbor_encode_single((float)v, p, cap);
	return cbor_encode_double(v, p, cap);
}

static size_t encode_entry(const struct entry *e, uint8_t *p, size_t cap)
{
	size_t n = cbor_encode_uint(e->key, p, cap), m = 0;

	if(n == 0) return 0;
	switch(e->type){
		case ET_UINT: m = cbor_encode_uint(e->u, p + n, cap - n); break;
		case ET_NEGINT: m = cbor_encode_negint(e->u, p + n, cap - n); break;
		case ET_NUMBER: m = encode_number(e->f, p + n, cap - n); break;
		case ET_TSTR: m = cbor_encode_string_start(e->n + e->n2, p + n, cap - n); break;
		case ET_BSTR: m = cbor_encode_bytestring_start(e->n + e->n2, p + n, cap - n); break;
	}
	if(m == 0) return 0;
	n += m;
	if(e->type == ET_TSTR || e->type == ET_BSTR){
		if(cap - n < e->n + e->n2) return 0;
		if(e->n) memcpy(p + n, e->p, e->n);
		if(e->n2) memcpy(p + n + e->n, e->p2, e->n2);
		n += e->n + e->n2;
	}
	return n;
}

static int check_text(const struct lwm2m_op *op, uint32_t field, struct lwm2m_view v,
	unsigned key, struct lwm2m_error *err)
{
	if(!(op->fields & field)) return 0;
	if(v.len && !v.ptr) return lwm2m_fail(err, LWM2M_EINVAL, -1, "key %u (%s): no data", key,
		key_name(key));
	if(!binding_utf8_valid(v.ptr, v.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "key %u (%s): not valid UTF-8", key,
			key_name(key));
	}
	return 0;
}

/* What MQTT cannot carry, and what the decoder would refuse. */
static int check_request(const struct lwm2m_op *op, enum lwm2m_iface iface,
	struct lwm2m_error *err)
{
	const struct lwm2m_attrs *a = &op->attrs;
	uint32_t need = required_keys(op->kind);
	static const struct { uint32_t field; unsigned key; } texts[] = {
		{ LWM2M_F_EP, K_EP }, { LWM2M_F_URI, K_URI }, { LWM2M_F_VERSION, K_VERSION },
		{ LWM2M_F_BINDING, K_BINDING }, { LWM2M_F_SMS, K_SMS },
	};
	int rc;

	if(mqtt_codec_wire_op(op->kind) < 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "no operation to encode (kind %d)",
			(int)op->kind);
	}
	if(op_kind_iface(op->kind) != iface){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot be sent on the %s interface",
			op_kind_name(op->kind), iface_level(iface));
	}
	if(op->fields & LWM2M_F_PID){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "MQTT has no key for pid");
	}
	if(op->fields & LWM2M_F_ATTRS){
		if(a->unset){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"MQTT cannot express unsetting an attribute");
		}
		if(a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_LT)){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "MQTT has no key for the lt attribute");
		}
		if(a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_CON)){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "MQTT has no key for the con attribute");
		}
		if((a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_GT) && !isfinite(a->gt)) ||
			(a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_ST) && !isfinite(a->st))){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "gt/st must be finite numbers");
		}
		if(a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE) && a->edge > 1){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "edge must be 0 or 1");
		}
	}
	if((op->fields & LWM2M_F_DEPTH) && op->depth > 3){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "depth %u out of range 0..3", op->depth);
	}
	for(unsigned key = 1; key <= K_LAST; key++){
		if((need & KEY_BIT(key)) && !(op->fields & key_field(key))){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s needs key %u (%s)",
				op_kind_name(op->kind), key, key_name(key));
		}
	}
	for(size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++){
		const struct lwm2m_view *v = texts[i].key == K_EP ? &op->ep
			: texts[i].key == K_URI ? &op->uri : texts[i].key == K_VERSION ? &op->version
			: texts[i].key == K_BINDING ? &op->binding : &op->sms;
		rc = check_text(op, texts[i].field, *v, texts[i].key, err);
		if(rc) return rc;
	}
	return 0;
}

static void collect_attrs(const struct lwm2m_attrs *a, struct entries *es, unsigned lo,
	unsigned hi)
{
	for(unsigned key = lo; key <= hi; key++){
		enum lwm2m_attr_id id = key_attr(key);
		if(id == LWM2M_ATTR_COUNT || !(a->set & LWM2M_ATTR_BIT(id))) continue;
		switch(id){
			case LWM2M_ATTR_PMIN: add_uint(es, key, a->pmin); break;
			case LWM2M_ATTR_PMAX: add_uint(es, key, a->pmax); break;
			case LWM2M_ATTR_GT: add_number(es, key, a->gt); break;
			case LWM2M_ATTR_ST: add_number(es, key, a->st); break;
			case LWM2M_ATTR_EPMIN: add_uint(es, key, a->epmin); break;
			case LWM2M_ATTR_EPMAX: add_uint(es, key, a->epmax); break;
			case LWM2M_ATTR_EDGE: add_uint(es, key, a->edge); break;
			case LWM2M_ATTR_HQMAX: add_uint(es, key, a->hqmax); break;
			default: break;
		}
	}
}

/* The entries of a request, in ascending key order. */
static void collect_request(const struct lwm2m_op *op, struct entries *es)
{
	uint32_t f = op->fields;
	bool attrs = f & LWM2M_F_ATTRS;

	add_uint(es, K_OPERATION, (uint64_t)mqtt_codec_wire_op(op->kind));
	add_uint(es, K_TOKEN, op->token);
	if(f & LWM2M_F_EP) add_str(es, K_EP, ET_TSTR, op->ep, NULL);
	if(f & LWM2M_F_PCT) add_uint(es, K_PCT, op->pct);
	if(f & LWM2M_F_URI) add_str(es, K_URI, ET_TSTR, op->uri, NULL);
	if(f & LWM2M_F_PATHS) add_str(es, K_PATHS, ET_BSTR, op->paths, NULL);
	if(f & LWM2M_F_PAYLOAD) add_str(es, K_PAYLOAD, ET_BSTR, op->payload, NULL);
	if(f & LWM2M_F_LIFETIME) add_uint(es, K_LIFETIME, op->lifetime);
	if(f & LWM2M_F_VERSION) add_str(es, K_VERSION, ET_TSTR, op->version, NULL);
	if(f & (LWM2M_F_BINDING | LWM2M_F_QUEUE)){
		/* MQTT has no queue key: queue mode is the 'Q' in the binding */
		struct lwm2m_view b = (f & LWM2M_F_BINDING) ? op->binding : op_view_str("M");
		bool has_q = b.len && memchr(b.ptr, 'Q', b.len);
		add_str(es, K_BINDING, ET_TSTR, b, (f & LWM2M_F_QUEUE) && !has_q ? "Q" : NULL);
	}
	if(f & LWM2M_F_SMS) add_str(es, K_SMS, ET_TSTR, op->sms, NULL);
	if(attrs) collect_attrs(&op->attrs, es, K_PMIN, K_EPMAX);
	if(f & LWM2M_F_CT) add_uint(es, K_CT, op->content_format);
	if(attrs) collect_attrs(&op->attrs, es, K_EDGE, K_HQMAX);
	if(f & LWM2M_F_DEPTH) add_uint(es, K_DEPTH, op->depth);
}

int mqtt_codec_encode(const struct lwm2m_op *op, enum lwm2m_iface iface,
	struct lwm2m_buf *out, struct lwm2m_error *err)
{
	struct entries es;
	size_t n, cap, start = out->len;
	uint8_t *p;
	int rc;

	memset(&es, 0, sizeof(es));
	es.bound = 9;   /* map head */
	if(op->is_response){
		if(op->result < 100 || op->result > 699){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "result %u is not a result code",
				op->result);
		}
		add_uint(&es, K_TOKEN, op->token);
		if(op->fields & LWM2M_F_PAYLOAD) add_str(&es, K_PAYLOAD, ET_BSTR, op->payload, NULL);
		add_uint(&es, K_RESULT, op->result);
		if(op->fields & LWM2M_F_CT) add_uint(&es, K_CT, op->content_format);
	}else{
		rc = check_request(op, iface, err);
		if(rc) return rc;
		collect_request(op, &es);
	}
	rc = buf_reserve(out, es.bound);
	if(rc) return lwm2m_fail(err, rc, -1, "output buffer: %s", lwm2m_strerror(rc));
	p = out->data + start;
	cap = out->cap - start;
	n = cbor_encode_map_start(es.count, p, cap);
	for(size_t i = 0; i < es.count && n; i++){
		size_t m = encode_entry(&es.e[i], p + n, cap - n);
		n = m ? n + m : 0;
	}
	if(n == 0) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "encoder: size bound too small");
	out->len = start + n;
	return 0;
}
