/* HTTP binding codec (Transport TS section 7). See http_codec.h for the choices made where
 * the specification leaves room. */
#include "http_codec.h"
#include "mqtt_codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../objects/attributes.h"
#include "../objects/fmt.h"
#include "../objects/path.h"

/* ============================================================== small helpers ===== */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool all_digits(const uint8_t *s, size_t n)
{
	if(n == 0) return false;
	for(size_t i = 0; i < n; i++){
		if(!is_digit(s[i])) return false;
	}
	return true;
}

static int hex_value(uint8_t c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decimal digits to uint64; false on anything else or overflow. */
static bool parse_u64(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if(!all_digits(s, n)) return false;
	for(size_t i = 0; i < n; i++){
		unsigned d = (unsigned)(s[i] - '0');
		if(v > (UINT64_MAX - d) / 10) return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* A copy of s[0..n) that a log line can carry: at most 32 bytes, '?' for anything not
 * printable ASCII (or a quote), "..." when cut. */
static const char *printable(const char *s, size_t n, char out[40])
{
	size_t k = 0;

	for(size_t i = 0; i < n && k < 32; i++){
		uint8_t c = (uint8_t)s[i];
		out[k++] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
	}
	if(n > 32){
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

/* lwm2m_fail that also records the HTTP status to answer. */
static int refuse(struct http_uplink *x, uint16_t status, struct lwm2m_error *err, int code,
	long offset, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int refuse(struct http_uplink *x, uint16_t status, struct lwm2m_error *err, int code,
	long offset, const char *fmt, ...)
{
	x->status = status;
	if(err){
		va_list ap;
		err->code = code;
		err->has_offset = offset >= 0;
		err->offset = offset >= 0 ? (size_t)offset : 0;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

/* ======================================================= content formats ====== */

static bool is_bootstrap_format(int cf)
{
	return cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_LWM2M_CBOR
		|| cf == LWM2M_CF_TLV;
}

static bool is_pack_format(int cf)
{
	return cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_LWM2M_CBOR;
}

/* Send takes the same three formats as a Bootstrap-Pack (T 7.1.5). */
static bool is_send_format(int cf)
{
	return is_pack_format(cf);
}

/* "type/subtype" of a header value, without parameters and surrounding blanks. */
static size_t media_base(const char *s, const char **start)
{
	size_t n;

	while(*s == ' ' || *s == '\t') s++;
	*start = s;
	n = strcspn(s, ";,");
	while(n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
	return n;
}

static bool base_is(const char *base, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(base, word, n) == 0;
}

int http_codec_cf_from_content_type(const char *content_type)
{
	const char *base;
	size_t n;
	uint64_t v;
	int cf;

	if(!content_type) return -1;
	cf = fmt_cf_from_media_type(content_type);
	if(cf >= 0) return cf;
	n = media_base(content_type, &base);
	/* Tolerated labels of older clients (spec 2.4). */
	if(base_is(base, n, "application/json")) return LWM2M_CF_OMA_JSON;
	if(base_is(base, n, "application/vnd.oma.lwm2m+text")) return LWM2M_CF_TEXT;
	if(base_is(base, n, "application/vnd.oma.lwm2m+opaque")) return LWM2M_CF_OPAQUE;
	if(n == 0 || n > 5 || !parse_u64((const uint8_t *)base, n, &v)) return -1;
	switch(v){
		case 1541: return LWM2M_CF_TEXT;
		case 1542: return LWM2M_CF_TLV;
		case 1543: return LWM2M_CF_OMA_JSON;
		case 1544: return LWM2M_CF_OPAQUE;
	}
	return v <= 65535 && fmt_cf_name((uint16_t)v) ? (int)v : -1;
}

/* Content format of an uplink request's Content-Type: the IANA media types only. */
static int request_cf(const char *content_type)
{
	return content_type ? fmt_cf_from_media_type(content_type) : -1;
}

static bool header_absent(const char *h)
{
	if(!h) return true;
	while(*h == ' ' || *h == '\t') h++;
	return *h == '\0';
}

/* q parameter of one Accept item, in thousandths; -1 when malformed. 1000 when absent. */
static int accept_q(const char *params, size_t n)
{
	size_t i = 0;

	while(i < n){
		size_t start, k;
		int q = 0, digits = 0;

		while(i < n && (params[i] == ';' || params[i] == ' ' || params[i] == '\t')) i++;
		start = i;
		while(i < n && params[i] != ';') i++;
		if(i - start < 2 || (params[start] != 'q' && params[start] != 'Q')
				|| params[start + 1] != '='){
			continue;
		}
		k = start + 2;
		if(k >= i || (params[k] != '0' && params[k] != '1')) return -1;
		q = (params[k] - '0') * 1000;
		k++;
		if(k < i && params[k] == '.'){
			int scale = 100;
			k++;
			while(k < i && is_digit((uint8_t)params[k]) && digits < 3){
				q += (params[k] - '0') * scale;
				scale /= 10;
				digits++;
				k++;
			}
		}
		while(k < i && (params[k] == ' ' || params[k] == '\t')) k++;
		if(k != i || q > 1000) return -1;
		return q;
	}
	return 1000;
}

/* The Bootstrap-Pack format an Accept header asks for: 0 with *cf = the format, or -1 for
 * "any of them"; -1 return when nothing in it is a Pack format. */
static int pick_pack_format(const char *accept, int *cf)
{
	int best_q = 0, best_cf = -2;
	const char *p = accept;

	*cf = -1;
	if(header_absent(accept)) return 0;
	while(*p){
		size_t item = strcspn(p, ",");
		const char *base;
		size_t bn = media_base(p, &base);
		const char *params = memchr(p, ';', item);
		int q = params ? accept_q(params, item - (size_t)(params - p)) : 1000;
		int this_cf = -2;
		char mt[64];

		if(bn > item - (size_t)(base - p)) bn = 0;
		if(base_is(base, bn, "*/*") || base_is(base, bn, "application/*")){
			this_cf = -1;
		}else if(bn > 0 && bn < sizeof(mt)){
			memcpy(mt, base, bn);
			mt[bn] = '\0';
			int c = fmt_cf_from_media_type(mt);
			if(is_pack_format(c)) this_cf = c;
		}
		if(this_cf != -2 && q > best_q){
			best_q = q;
			best_cf = this_cf;
		}
		p += item;
		if(*p == ',') p++;
	}
	if(best_cf == -2) return -1;
	*cf = best_cf;
	return 0;
}

/* ================================================================ values ======== */

/* Why an endpoint name cannot be used, or NULL. */
static const char *ep_problem(const uint8_t *s, size_t n)
{
	if(n == 0) return "is empty";
	if(n > HTTP_CODEC_EP_MAX) return "is longer than 255 bytes";
	for(size_t i = 0; i < n; i++){
		if(s[i] < 0x20 || s[i] == 0x7f) return "contains a control byte";
	}
	if(!mqtt_endpoint_name_valid((const char *)s, n)){
		return "is not a valid endpoint name (UTF-8, no '/', '+', '#', no leading '$')";
	}
	return NULL;
}

/* "1*DIGIT . 1*DIGIT" (at most 5 digits each). */
static bool version_valid(const uint8_t *s, size_t n)
{
	const uint8_t *dot = memchr(s, '.', n);
	size_t major, minor;

	if(!dot) return false;
	major = (size_t)(dot - s);
	minor = n - major - 1;
	return major >= 1 && major <= 5 && minor >= 1 && minor <= 5 && all_digits(s, major)
		&& all_digits(dot + 1, minor);
}

/* Letters U M H T S N Q, each at most once. */
static bool binding_valid(const uint8_t *s, size_t n)
{
	static const char letters[] = "UMHTSNQ";
	unsigned seen = 0;

	if(n == 0) return false;
	for(size_t i = 0; i < n; i++){
		const char *pos = s[i] ? strchr(letters, s[i]) : NULL;
		unsigned bit;
		if(!pos) return false;
		bit = 1u << (pos - letters);
		if(seen & bit) return false;
		seen |= bit;
	}
	return true;
}

static bool sms_valid(const uint8_t *s, size_t n)
{
	return n >= 1 && n <= 15 && all_digits(s, n);
}

/* profileID = 1*DIGIT ":" 1*(DIGIT / "a"-"f") / ("oma" / "v") ":" 1*(ALPHA / DIGIT / "-") */
static bool profile_id_valid(const uint8_t *s, size_t n)
{
	const uint8_t *colon = memchr(s, ':', n);
	size_t head, tail;

	if(!colon) return false;
	head = (size_t)(colon - s);
	tail = n - head - 1;
	if(tail == 0) return false;
	if(all_digits(s, head)){
		for(size_t i = 0; i < tail; i++){
			uint8_t c = colon[1 + i];
			if(!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
		}
		return true;
	}
	if((head == 3 && memcmp(s, "oma", 3) == 0) || (head == 1 && s[0] == 'v')){
		for(size_t i = 0; i < tail; i++){
			uint8_t c = colon[1 + i];
			if(!is_digit(c) && !is_alpha(c) && c != '-') return false;
		}
		return true;
	}
	return false;
}

/* value = profileID / DQUOTE profileID *("," profileID) DQUOTE */
static bool pid_valid(const uint8_t *s, size_t n)
{
	size_t start;

	if(n == 0 || n > 255) return false;
	if(s[0] != '"') return profile_id_valid(s, n);
	if(n < 3 || s[n - 1] != '"') return false;
	start = 1;
	for(size_t i = 1; i < n; i++){
		if(s[i] != ',' && i != n - 1) continue;
		if(!profile_id_valid(s + start, i - start)) return false;
		start = i + 1;
	}
	return true;
}

/* "</o/i>" exactly: instance paths, no parameters, ',' between links. */
static bool acc_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	if(n == 0) return false;
	for(;;){
		const uint8_t *close;
		struct lwm2m_path p;
		size_t inner;

		if(i >= n || s[i] != '<') return false;
		close = memchr(s + i, '>', n - i);
		if(!close) return false;
		inner = (size_t)(close - (s + i + 1));
		if(inner < 4 || s[i + 1] != '/' || s[i + inner] == '/') return false;
		if(path_parse((const char *)s + i + 1, inner, &p, NULL) != 0 || p.len != 2) return false;
		i += inner + 2;
		if(i == n) return true;
		if(s[i] != ',') return false;
		i++;
	}
}

/* pct: a content-format number or a media type. -1 when malformed, -2 for a well-formed
 * but unknown media type, else the format (which may still not be a bootstrap format). */
static int pct_value(const uint8_t *s, size_t n)
{
	uint64_t v;
	char mt[64];
	int cf;

	if(all_digits(s, n)) return n <= 5 && parse_u64(s, n, &v) && v <= 65535 ? (int)v : -1;
	if(n == 0 || n >= sizeof(mt) || !memchr(s, '/', n)) return -1;
	memcpy(mt, s, n);
	mt[n] = '\0';
	cf = fmt_cf_from_media_type(mt);
	return cf >= 0 ? cf : -2;
}

/* ================================================================= routes ======= */

enum route { R_NONE, R_RD, R_RD_ID, R_DP, R_BS, R_BSPACK };

static bool reg_id_valid(const char *s)
{
	size_t n = strlen(s);

	if(n != HTTP_CODEC_REG_ID_LEN) return false;
	for(size_t i = 0; i < n; i++){
		if(!is_digit((uint8_t)s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) return false;
	}
	return true;
}

static int route_request(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *x, struct lwm2m_error *err)
{
	const char *path = req->path, *m = req->method;
	enum route r = R_NONE;
	char shown[40];

	if(!strcmp(path, "/rd")) r = R_RD;
	else if(!strncmp(path, "/rd/", 4)) r = R_RD_ID;
	else if(!strcmp(path, "/dp")) r = R_DP;
	else if(!strcmp(path, "/bs")) r = R_BS;
	else if(!strcmp(path, "/bspack")) r = R_BSPACK;
	if(r == R_NONE){
		return refuse(x, 404, err, LWM2M_ENOENT, -1, "no LwM2M resource at '%s'",
			printable(path, strlen(path), shown));
	}
	if(r == R_RD_ID){
		if(!reg_id_valid(path + 4)){
			return refuse(x, 404, err, LWM2M_ENOENT, -1,
				"no registration '%s' (ids are 32 lowercase hex digits)",
				printable(path + 4, strlen(path + 4), shown));
		}
		memcpy(x->reg_id, path + 4, HTTP_CODEC_REG_ID_LEN + 1);
		x->has_reg_id = true;
		if(!strcmp(m, "POST")) op->kind = LWM2M_OP_UPDATE;
		else if(!strcmp(m, "DELETE")) op->kind = LWM2M_OP_DEREGISTER;
		else x->allow = "POST, DELETE";
	}else if(r == R_BSPACK){
		if(!strcmp(m, "GET")) op->kind = LWM2M_OP_BOOTSTRAP_PACK_REQUEST;
		else x->allow = "GET";
	}else if(!strcmp(m, "POST")){
		op->kind = r == R_RD ? LWM2M_OP_REGISTER
			: r == R_DP ? LWM2M_OP_SEND : LWM2M_OP_BOOTSTRAP_REQUEST;
	}else{
		x->allow = "POST";
	}
	if(x->allow){
		return refuse(x, 405, err, LWM2M_ENOTSUP, -1, "method '%s' not allowed on %s (allowed: %s)",
			printable(m, strlen(m), shown), r == R_RD_ID ? "/rd/{id}" : path, x->allow);
	}
	return 0;
}

/* ========================================================= query parameters ===== */

enum qparam { QP_EP, QP_LT, QP_LWM2M, QP_B, QP_Q, QP_SMS, QP_PID, QP_PCT, QP_ACC, QP_RID, QP_COUNT };

#define QP_BIT(p) (1u << (p))

static const char *const qp_names[QP_COUNT] = {
	[QP_EP] = "ep", [QP_LT] = "lt", [QP_LWM2M] = "lwm2m", [QP_B] = "b", [QP_Q] = "Q",
	[QP_SMS] = "sms", [QP_PID] = "pid", [QP_PCT] = "pct", [QP_ACC] = "acc", [QP_RID] = "rid",
};

static bool reg_id_valid(const char *s);

static uint32_t allowed_params(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_REGISTER:
			return QP_BIT(QP_EP) | QP_BIT(QP_LT) | QP_BIT(QP_LWM2M) | QP_BIT(QP_B)
				| QP_BIT(QP_Q) | QP_BIT(QP_SMS) | QP_BIT(QP_PID);
		case LWM2M_OP_UPDATE:
			return QP_BIT(QP_LT) | QP_BIT(QP_B) | QP_BIT(QP_Q) | QP_BIT(QP_SMS) | QP_BIT(QP_PID);
		case LWM2M_OP_BOOTSTRAP_REQUEST: return QP_BIT(QP_EP) | QP_BIT(QP_PCT);
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST: return QP_BIT(QP_EP) | QP_BIT(QP_ACC);
		case LWM2M_OP_SEND: return QP_BIT(QP_EP) | QP_BIT(QP_RID);
		default: return 0;
	}
}

static uint32_t required_params(enum lwm2m_op_kind kind)
{
	return kind == LWM2M_OP_REGISTER ? QP_BIT(QP_LT) | QP_BIT(QP_LWM2M) : 0;
}

struct qparse {
	const char *q;            /* the raw query */
	size_t len;
	struct http_uplink *x;
	size_t used;              /* bytes of x->scratch taken */
	uint32_t seen;
};

/* Percent-decode the value raw[0..n) (at query offset off) of parameter name. Values
 * without '%' are used in place; others are decoded into the scratch area, which cannot
 * overflow: decoding never lengthens, and the query is at most as long as the scratch. */
static int decode_value(struct qparse *p, const char *name, size_t off, size_t n,
	struct lwm2m_view *out, struct lwm2m_error *err)
{
	const uint8_t *raw = (const uint8_t *)p->q + off;
	uint8_t *dst;
	size_t k = 0;

	if(!memchr(raw, '%', n)){
		out->ptr = raw;
		out->len = n;
	}else{
		dst = (uint8_t *)p->x->scratch + p->used;
		for(size_t i = 0; i < n; i++){
			int hi, lo;
			if(raw[i] != '%'){
				dst[k++] = raw[i];
				continue;
			}
			hi = i + 2 < n ? hex_value(raw[i + 1]) : -1;
			lo = i + 2 < n ? hex_value(raw[i + 2]) : -1;
			if(hi < 0 || lo < 0){
				return refuse(p->x, 400, err, LWM2M_EINVAL, (long)(off + i),
					"query parameter '%s': bad percent-escape at byte %zu", name, off + i);
			}
			dst[k++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
		p->used += k;
		out->ptr = dst;
		out->len = k;
	}
	for(size_t i = 0; i < out->len; i++){
		if(out->ptr[i] < 0x20 || out->ptr[i] == 0x7f){
			return refuse(p->x, 400, err, LWM2M_EINVAL, (long)off,
				"query parameter '%s' at byte %zu: control byte 0x%02x in the value", name,
				off, out->ptr[i]);
		}
	}
	return 0;
}

/* Check one decoded value and store it in op. */
static int take_param(struct qparse *p, enum qparam qp, struct lwm2m_view v, size_t off,
	struct lwm2m_op *op, struct lwm2m_error *err)
{
	const char *name = qp_names[qp];
	const char *why;
	int cf;

#define BAD(...) refuse(p->x, 400, err, LWM2M_EINVAL, (long)off, __VA_ARGS__)
	switch(qp){
		case QP_RID:
			if(v.len != HTTP_CODEC_REG_ID_LEN){
				return BAD("query parameter 'rid' at byte %zu: expected 32 lowercase hex digits", off);
			}
			memcpy(p->x->reg_id, v.ptr, v.len);
			p->x->reg_id[v.len] = '\0';
			if(!reg_id_valid(p->x->reg_id)){
				p->x->reg_id[0] = '\0';
				return BAD("query parameter 'rid' at byte %zu: expected 32 lowercase hex digits", off);
			}
			p->x->has_reg_id = true;
			break;
		case QP_EP:
			why = ep_problem(v.ptr, v.len);
			if(why) return BAD("query parameter 'ep' at byte %zu: the endpoint name %s", off, why);
			op->ep = v;
			op->fields |= LWM2M_F_EP;
			break;
		case QP_LT:
			if(!parse_u64(v.ptr, v.len, &op->lifetime)){
				return BAD("query parameter 'lt' at byte %zu: expected an unsigned decimal number of "
					"seconds", off);
			}
			op->fields |= LWM2M_F_LIFETIME;
			break;
		case QP_LWM2M:
			if(!version_valid(v.ptr, v.len)){
				return BAD("query parameter 'lwm2m' at byte %zu: expected a version like 1.2", off);
			}
			op->version = v;
			op->fields |= LWM2M_F_VERSION;
			break;
		case QP_B:
			if(!binding_valid(v.ptr, v.len)){
				return BAD("query parameter 'b' at byte %zu: expected letters of U M H T S N Q, each "
					"at most once", off);
			}
			op->binding = v;
			op->fields |= LWM2M_F_BINDING;
			if(memchr(v.ptr, 'Q', v.len)) op->fields |= LWM2M_F_QUEUE;
			break;
		case QP_Q:
			op->fields |= LWM2M_F_QUEUE;
			break;
		case QP_SMS:
			if(!sms_valid(v.ptr, v.len)){
				return BAD("query parameter 'sms' at byte %zu: expected an MSISDN of 1 to 15 digits "
					"(no '+')", off);
			}
			op->sms = v;
			op->fields |= LWM2M_F_SMS;
			break;
		case QP_PID:
			if(!pid_valid(v.ptr, v.len)){
				return BAD("query parameter 'pid' at byte %zu: expected suite:hex, oma:id, v:id or a "
					"quoted comma list of them", off);
			}
			op->pid = v;
			op->fields |= LWM2M_F_PID;
			break;
		case QP_PCT:
			cf = pct_value(v.ptr, v.len);
			if(cf == -1){
				return BAD("query parameter 'pct' at byte %zu: expected a content-format number or "
					"media type", off);
			}
			if(!is_bootstrap_format(cf)){
				return refuse(p->x, 415, err, LWM2M_ENOTSUP, (long)off,
					"query parameter 'pct' at byte %zu: not a bootstrap format (SenML JSON 110, "
					"SenML CBOR 112, LwM2M CBOR 11544, TLV 11542)", off);
			}
			op->pct = (uint16_t)cf;
			op->fields |= LWM2M_F_PCT;
			break;
		case QP_ACC:
			if(!acc_valid(v.ptr, v.len)){
				return BAD("query parameter 'acc' at byte %zu: expected links to object instances "
					"without parameters, like </0/0>,</21/0>", off);
			}
			op->payload = v;
			op->content_format = LWM2M_CF_LINK;
			op->fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
			break;
		default:
			return BAD("query parameter '%s': not handled", name);
	}
#undef BAD
	return 0;
}

static int parse_item(struct qparse *p, size_t start, size_t end, struct lwm2m_op *op,
	struct lwm2m_error *err)
{
	const char *item = p->q + start;
	const char *eq = memchr(item, '=', end - start);
	size_t name_len = eq ? (size_t)(eq - item) : end - start;
	enum qparam qp = QP_COUNT;
	struct lwm2m_view v = { NULL, 0 };
	char shown[40];
	int rc;

	for(int i = 0; i < QP_COUNT; i++){
		if(strlen(qp_names[i]) == name_len && !memcmp(qp_names[i], item, name_len)){
			qp = (enum qparam)i;
			break;
		}
	}
	if(qp == QP_COUNT){
		return refuse(p->x, 400, err, LWM2M_EINVAL, (long)start,
			"unknown query parameter '%s' at byte %zu", printable(item, name_len, shown), start);
	}
	if(!(allowed_params(op->kind) & QP_BIT(qp))){
		return refuse(p->x, 400, err, LWM2M_EINVAL, (long)start,
			"query parameter '%s' at byte %zu is not allowed in %s", qp_names[qp], start,
			op_kind_name(op->kind));
	}
	if(p->seen & QP_BIT(qp)){
		return refuse(p->x, 400, err, LWM2M_EINVAL, (long)start,
			"query parameter '%s' repeated at byte %zu", qp_names[qp], start);
	}
	p->seen |= QP_BIT(qp);
	if(qp == QP_Q && eq){
		return refuse(p->x, 400, err, LWM2M_EINVAL, (long)start,
			"query parameter 'Q' at byte %zu takes no value", start);
	}
	if(qp != QP_Q){
		if(!eq){
			return refuse(p->x, 400, err, LWM2M_EINVAL, (long)start,
				"query parameter '%s' at byte %zu needs a value", qp_names[qp], start);
		}
		rc = decode_value(p, qp_names[qp], start + name_len + 1, end - start - name_len - 1, &v,
			err);
		if(rc) return rc;
	}
	return take_param(p, qp, v, start + name_len + 1, op, err);
}

static int parse_query(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *x, struct lwm2m_error *err)
{
	struct qparse p = { req->query ? req->query : "", 0, x, 0, 0 };
	uint32_t missing;
	size_t start = 0;

	p.len = strlen(p.q);
	if(p.len > HTTP_CODEC_QUERY_MAX){
		return refuse(x, 414, err, LWM2M_ETOOBIG, -1, "query of %zu bytes is longer than %u",
			p.len, HTTP_CODEC_QUERY_MAX);
	}
	while(start <= p.len && p.len > 0){
		const char *amp = memchr(p.q + start, '&', p.len - start);
		size_t end = amp ? (size_t)(amp - p.q) : p.len;

		if(end > start){
			int rc = parse_item(&p, start, end, op, err);
			if(rc) return rc;
		}
		start = end + 1;
	}
	missing = required_params(op->kind) & ~p.seen;
	for(int i = 0; i < QP_COUNT; i++){
		if(missing & QP_BIT(i)){
			return refuse(x, 400, err, LWM2M_EINVAL, -1, "%s without the query parameter '%s'",
				op_kind_name(op->kind), qp_names[i]);
		}
	}
	return 0;
}

/* =================================================== uplink request: body ======== */

static int check_body(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *x, struct lwm2m_error *err)
{
	const char *kind = op_kind_name(op->kind);
	bool has_ct = !header_absent(req->content_type);
	int cf = has_ct ? request_cf(req->content_type) : -1;
	char shown[40];

	switch(op->kind){
		case LWM2M_OP_REGISTER:
		case LWM2M_OP_UPDATE:
			if(req->body_len == 0){
				if(op->kind == LWM2M_OP_REGISTER){
					return refuse(x, 400, err, LWM2M_EINVAL, -1,
						"Register without the object list in the body");
				}
				return 0;
			}
			if(cf != LWM2M_CF_LINK){
				return refuse(x, 415, err, LWM2M_ENOTSUP, -1,
					"%s: the object list must be application/link-format (Content-Type %s)", kind,
					has_ct ? printable(req->content_type, strlen(req->content_type), shown)
						: "missing");
			}
			break;
		case LWM2M_OP_SEND:
			if(req->body_len == 0) return refuse(x, 400, err, LWM2M_EINVAL, -1, "Send without data");
			if(!is_send_format(cf)){
				return refuse(x, 415, err, LWM2M_ENOTSUP, -1,
					"Send: Content-Type %s is not LwM2M CBOR, SenML CBOR or SenML JSON",
					has_ct ? printable(req->content_type, strlen(req->content_type), shown)
						: "missing");
			}
			break;
		default:
			if(req->body_len > 0){
				return refuse(x, 400, err, LWM2M_EINVAL, -1, "%s carries no body (%zu bytes sent)",
					kind, req->body_len);
			}
			return 0;
	}
	if(!req->body) return refuse(x, 400, err, LWM2M_EINVAL, -1, "%s: body length without data", kind);
	op->payload.ptr = req->body;
	op->payload.len = req->body_len;
	op->content_format = (uint16_t)cf;
	op->fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
	return 0;
}

static int decode_request(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *x, struct lwm2m_error *err)
{
	int rc;

	if(!req || !req->method || !req->path){
		return refuse(x, 400, err, LWM2M_EINVAL, -1, "request without method or path");
	}
	rc = route_request(req, op, x, err);
	if(rc) return rc;
	if(req->max_body && req->body_len > req->max_body){
		return refuse(x, 413, err, LWM2M_ETOOBIG, -1, "%s body of %zu bytes is above the limit of %zu",
			op_kind_name(op->kind), req->body_len, req->max_body);
	}
	rc = parse_query(req, op, x, err);
	if(rc) return rc;
	if(op->kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST && pick_pack_format(req->accept, &x->accept_cf)){
		char shown[40];
		return refuse(x, 406, err, LWM2M_ENOTSUP, -1,
			"Bootstrap-Pack-Request: Accept '%s' names no Pack format (SenML CBOR, SenML JSON, "
			"LwM2M CBOR)", printable(req->accept, strlen(req->accept), shown));
	}
	return check_body(req, op, x, err);
}

int http_codec_decode_request(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *extra, struct lwm2m_error *err)
{
	int rc;

	op_init(op);
	extra->status = 0;
	extra->allow = NULL;
	extra->has_reg_id = false;
	extra->reg_id[0] = '\0';
	extra->accept_cf = -1;
	rc = decode_request(req, op, extra, err);
	if(rc){
		enum lwm2m_op_kind kind = op->kind;
		op_init(op);
		op->kind = kind;
	}
	return rc;
}

/* ==================================================== uplink answers ============ */

/* HTTP status of a success, per operation (spec 2.3 and the statuses pinned for uplinks). */
static int success_status(enum lwm2m_op_kind kind, uint16_t result)
{
	switch(kind){
		case LWM2M_OP_REGISTER:
		case LWM2M_OP_CREATE:
			return 201;
		case LWM2M_OP_BOOTSTRAP_REQUEST:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
		case LWM2M_OP_READ:
		case LWM2M_OP_DISCOVER:
		case LWM2M_OP_EXECUTE:
		case LWM2M_OP_BOOTSTRAP_READ:
		case LWM2M_OP_BOOTSTRAP_DISCOVER:
			return 200;
		case LWM2M_OP_UPDATE:
		case LWM2M_OP_DEREGISTER:
		case LWM2M_OP_SEND:
		case LWM2M_OP_WRITE:
		case LWM2M_OP_WRITE_PARTIAL:
		case LWM2M_OP_WRITE_ATTRIBUTES:
		case LWM2M_OP_DELETE:
		case LWM2M_OP_BOOTSTRAP_WRITE:
		case LWM2M_OP_BOOTSTRAP_DELETE:
		case LWM2M_OP_BOOTSTRAP_FINISH:
			return 204;
		default:
			/* operations HTTP does not carry: the plain CoAP -> HTTP reading */
			return result == 201 ? 201 : result == 205 ? 200 : 204;
	}
}

int http_codec_status_for(const struct lwm2m_op *req, uint16_t lwm2m_result)
{
	unsigned c = lwm2m_result / 100u, dd = lwm2m_result % 100u;

	if(c < 2 || c > 5 || c == 3 || dd > 31) return c >= 4 && c <= 5 ? (int)c * 100 : 500;
	if(c == 2) return lwm2m_result == 231 ? 500 : success_status(req ? req->kind : LWM2M_OP_NONE,
		lwm2m_result);
	switch(lwm2m_result){
		case 402: /* Bad Option: HTTP 402 is Payment Required */
		case 408: /* Request Entity Incomplete: HTTP 408 is Request Timeout */
			return 400;
		case 505: /* Proxying Not Supported: HTTP 505 is HTTP Version Not Supported */
			return 502;
	}
	return lwm2m_result;
}

void http_codec_reg_id_text(const uint8_t id[HTTP_CODEC_REG_ID_BYTES],
	char out[HTTP_CODEC_REG_ID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for(size_t i = 0; i < HTTP_CODEC_REG_ID_BYTES; i++){
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0x0f];
	}
	out[HTTP_CODEC_REG_ID_LEN] = '\0';
}

int http_codec_format_location(const uint8_t id[HTTP_CODEC_REG_ID_BYTES], struct lwm2m_buf *out)
{
	char text[HTTP_CODEC_REG_ID_LEN + 1];
	int rc;

	http_codec_reg_id_text(id, text);
	rc = buf_reserve(out, 4 + HTTP_CODEC_REG_ID_LEN + 1);
	if(rc) return rc;
	memcpy(out->data + out->len, "/rd/", 4);
	memcpy(out->data + out->len + 4, text, HTTP_CODEC_REG_ID_LEN + 1);
	out->len += 4 + HTTP_CODEC_REG_ID_LEN;
	return 0;
}

/* ============================================ uplink request: device side ======== */

/* Bytes kept as they are in a query value; everything else is %XX. '+' is escaped so that
 * form decoders cannot take it for a space. */
static bool keep_in_query(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("-._~:/,@", c));
}

static int append_param(struct lwm2m_buf *b, bool *first, const char *name,
	const struct lwm2m_view *v)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = buf_printf(b, "%s%s", *first ? "" : "&", name);

	*first = false;
	if(rc || !v) return rc;
	rc = buf_append_byte(b, '=');
	for(size_t i = 0; !rc && i < v->len; i++){
		uint8_t c = v->ptr[i];
		if(keep_in_query(c)){
			rc = buf_append_byte(b, c);
		}else{
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}

/* Which op fields each query parameter comes from. */
static const struct {
	enum qparam qp;
	uint32_t field;
} param_fields[] = {
	{ QP_EP, LWM2M_F_EP }, { QP_LT, LWM2M_F_LIFETIME }, { QP_LWM2M, LWM2M_F_VERSION },
	{ QP_B, LWM2M_F_BINDING }, { QP_Q, LWM2M_F_QUEUE }, { QP_SMS, LWM2M_F_SMS },
	{ QP_PID, LWM2M_F_PID }, { QP_PCT, LWM2M_F_PCT },
};

/* The checks of take_param, for an op built by hand. */
static int check_uplink_fields(const struct lwm2m_op *op, struct lwm2m_error *err)
{
	const char *kind = op_kind_name(op->kind);
	uint32_t allowed = allowed_params(op->kind), required = required_params(op->kind);
	const char *why;

	for(size_t i = 0; i < sizeof(param_fields) / sizeof(param_fields[0]); i++){
		bool present = (op->fields & param_fields[i].field) != 0;
		const char *name = qp_names[param_fields[i].qp];
		/* a Q inside b is carried by b */
		if(param_fields[i].qp == QP_Q && (op->fields & LWM2M_F_BINDING)) continue;
		if(present && !(allowed & QP_BIT(param_fields[i].qp))){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s cannot carry '%s'", kind, name);
		}
		if(!present && (required & QP_BIT(param_fields[i].qp))){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s needs '%s'", kind, name);
		}
	}
	if(op->fields & LWM2M_F_EP){
		why = ep_problem(op->ep.ptr, op->ep.len);
		if(why) return lwm2m_fail(err, LWM2M_EINVAL, -1, "the endpoint name %s", why);
	}
	if((op->fields & LWM2M_F_VERSION) && !version_valid(op->version.ptr, op->version.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "malformed lwm2m version");
	}
	if((op->fields & LWM2M_F_BINDING) && !binding_valid(op->binding.ptr, op->binding.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "malformed binding");
	}
	if((op->fields & LWM2M_F_SMS) && !sms_valid(op->sms.ptr, op->sms.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "malformed sms number");
	}
	if((op->fields & LWM2M_F_PID) && !pid_valid(op->pid.ptr, op->pid.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "malformed pid");
	}
	if((op->fields & LWM2M_F_PCT) && !is_bootstrap_format(op->pct)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "pct %u is not a bootstrap format", op->pct);
	}
	return 0;
}

/* Body rules of check_body, seen from the sender; sets the Content-Type. */
static int uplink_body(const struct lwm2m_op *op, struct http_request_view *out,
	struct lwm2m_error *err)
{
	const char *kind = op_kind_name(op->kind);
	bool has_payload = (op->fields & LWM2M_F_PAYLOAD) && op->payload.len > 0;
	bool has_ct = (op->fields & LWM2M_F_CT) != 0;

	switch(op->kind){
		case LWM2M_OP_REGISTER:
		case LWM2M_OP_UPDATE:
			if(!has_payload){
				if(op->kind == LWM2M_OP_REGISTER){
					return lwm2m_fail(err, LWM2M_EINVAL, -1, "Register needs the object list");
				}
				return 0;
			}
			if(has_ct && op->content_format != LWM2M_CF_LINK){
				return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: the object list is link-format, not %u",
					kind, op->content_format);
			}
			out->content_type = fmt_cf_media_type(LWM2M_CF_LINK);
			break;
		case LWM2M_OP_SEND:
			if(!has_payload || !has_ct || !is_send_format(op->content_format)){
				return lwm2m_fail(err, LWM2M_EINVAL, -1,
					"Send needs data in LwM2M CBOR, SenML CBOR or SenML JSON");
			}
			out->content_type = fmt_cf_media_type(op->content_format);
			break;
		default:
			return 0;
	}
	out->body = op->payload.ptr;
	out->body_len = op->payload.len;
	return 0;
}

static int uplink_query(const struct lwm2m_op *op, const struct http_uplink *extra, struct lwm2m_buf *b,
	struct lwm2m_error *err)
{
	char lt[24], pct[8];
	struct lwm2m_view v;
	bool first = true;
	int rc = 0;

	if(op->fields & LWM2M_F_EP) rc = append_param(b, &first, "ep", &op->ep);
	if(!rc && op->kind == LWM2M_OP_SEND && extra && extra->has_reg_id){
		v = op_view_str(extra->reg_id);
		rc = append_param(b, &first, "rid", &v);
	}
	if(!rc && (op->fields & LWM2M_F_LIFETIME)){
		snprintf(lt, sizeof(lt), "%llu", (unsigned long long)op->lifetime);
		v = op_view_str(lt);
		rc = append_param(b, &first, "lt", &v);
	}
	if(!rc && (op->fields & LWM2M_F_VERSION)) rc = append_param(b, &first, "lwm2m", &op->version);
	if(!rc && (op->fields & LWM2M_F_BINDING)) rc = append_param(b, &first, "b", &op->binding);
	if(!rc && (op->fields & LWM2M_F_QUEUE) && !((op->fields & LWM2M_F_BINDING)
			&& memchr(op->binding.ptr, 'Q', op->binding.len))){
		rc = append_param(b, &first, "Q", NULL);
	}
	if(!rc && (op->fields & LWM2M_F_SMS)) rc = append_param(b, &first, "sms", &op->sms);
	if(!rc && (op->fields & LWM2M_F_PID)) rc = append_param(b, &first, "pid", &op->pid);
	if(!rc && (op->fields & LWM2M_F_PCT)){
		snprintf(pct, sizeof(pct), "%u", op->pct);
		v = op_view_str(pct);
		rc = append_param(b, &first, "pct", &v);
	}
	if(!rc && op->kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST && (op->fields & LWM2M_F_PAYLOAD)
			&& op->payload.len > 0){
		if(!acc_valid(op->payload.ptr, op->payload.len)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "acc: expected links like </0/0>,</21/0>");
		}
		rc = append_param(b, &first, "acc", &op->payload);
	}
	if(rc) return lwm2m_fail(err, rc, -1, "cannot grow the request buffer");
	return 0;
}

int http_codec_encode_uplink(const struct lwm2m_op *op, const struct http_uplink *extra,
	struct lwm2m_buf *storage, struct http_request_view *out, struct lwm2m_error *err)
{
	size_t start = storage->len, query_at;
	bool with_id = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if(!op || op->is_response) return lwm2m_fail(err, LWM2M_EINVAL, -1, "not a request");
	switch(op->kind){
		case LWM2M_OP_REGISTER: out->method = "POST"; break;
		case LWM2M_OP_UPDATE: out->method = "POST"; with_id = true; break;
		case LWM2M_OP_DEREGISTER: out->method = "DELETE"; with_id = true; break;
		case LWM2M_OP_SEND: out->method = "POST"; break;
		case LWM2M_OP_BOOTSTRAP_REQUEST: out->method = "POST"; break;
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST: out->method = "GET"; break;
		default:
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s is not a device request over HTTP",
				op_kind_name(op->kind));
	}
	if(with_id && (!extra || !extra->has_reg_id || !reg_id_valid(extra->reg_id))){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s needs the registration id",
			op_kind_name(op->kind));
	}
	rc = check_uplink_fields(op, err);
	if(!rc) rc = uplink_body(op, out, err);
	if(rc){
		memset(out, 0, sizeof(*out));
		return rc;
	}
	if(op->kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST && extra && extra->accept_cf >= 0){
		if(!is_pack_format(extra->accept_cf)){
			memset(out, 0, sizeof(*out));
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "format %d is not a Pack format",
				extra->accept_cf);
		}
		out->accept = fmt_cf_media_type((uint16_t)extra->accept_cf);
	}
	switch(op->kind){
		case LWM2M_OP_REGISTER: rc = buf_append(storage, "/rd", 3); break;
		case LWM2M_OP_SEND: rc = buf_append(storage, "/dp", 3); break;
		case LWM2M_OP_BOOTSTRAP_REQUEST: rc = buf_append(storage, "/bs", 3); break;
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST: rc = buf_append(storage, "/bspack", 7); break;
		default: rc = buf_printf(storage, "/rd/%s", extra->reg_id); break;
	}
	if(!rc) rc = buf_append_byte(storage, '\0');
	if(rc) rc = lwm2m_fail(err, rc, -1, "cannot grow the request buffer");
	query_at = storage->len;
	if(!rc) rc = uplink_query(op, extra, storage, err);
	if(!rc && buf_append_byte(storage, '\0') != 0){
		rc = lwm2m_fail(err, LWM2M_ENOMEM, -1, "cannot grow the request buffer");
	}
	if(rc){
		storage->len = start;
		memset(out, 0, sizeof(*out));
		return rc;
	}
	storage->len--;   /* the final NUL stays in the buffer, uncounted */
	out->path = (const char *)storage->data + start;
	out->query = storage->len > query_at ? (const char *)storage->data + query_at : NULL;
	return 0;
}

/* ===================================================== downlink requests ======== */

/* pchar of RFC 3986 without '%' (an alternate path needs no escapes). */
static bool alt_char(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("-._~!$&'()*+,;=:@", c));
}

/* Length of the alternate path to write (0 for none), checked. */
static int alt_path_len(const char *alt, size_t *len, struct lwm2m_error *err)
{
	size_t n, seg = 1;
	bool numeric = true;

	*len = 0;
	if(!alt) return 0;
	n = strlen(alt);
	if(n > 0 && alt[n - 1] == '/') n--;
	if(n == 0) return 0;
	if(alt[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, 0, "alternate path must start with '/'");
	for(size_t i = 1; i <= n; i++){
		if(i == n || alt[i] == '/'){
			if(i == seg) return lwm2m_fail(err, LWM2M_EINVAL, (long)i, "alternate path: empty segment");
			if(numeric){
				return lwm2m_fail(err, LWM2M_EINVAL, (long)seg,
					"alternate path: numeric segment at byte %zu", seg);
			}
			seg = i + 1;
			numeric = true;
			continue;
		}
		if(!alt_char((uint8_t)alt[i])){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)i,
				"alternate path: byte 0x%02x at %zu needs escaping", (uint8_t)alt[i], i);
		}
		if(!is_digit((uint8_t)alt[i])) numeric = false;
	}
	*len = n;
	return 0;
}

/* How each downlink operation travels. */
struct dl_rule {
	const char *method;
	uint8_t min_len, max_len;   /* path levels allowed */
	bool alt;                   /* prefixed by the alternate path */
	bool payload;               /* needs a payload and its content format */
};

static const struct dl_rule *dl_rule_of(enum lwm2m_op_kind kind)
{
	static const struct dl_rule read = { "GET", 1, 4, true, false };
	static const struct dl_rule discover = { "GET", 1, 3, true, false };
	static const struct dl_rule write = { "PUT", 2, 4, true, true };
	static const struct dl_rule partial = { "POST", 2, 3, true, true };
	static const struct dl_rule attrs = { "PUT", 1, 4, true, false };
	static const struct dl_rule execute = { "POST", 3, 3, true, false };
	static const struct dl_rule create = { "POST", 1, 1, true, true };
	static const struct dl_rule del = { "DELETE", 2, 4, true, false };
	static const struct dl_rule bs_write = { "PUT", 1, 3, false, true };
	static const struct dl_rule bs_read = { "GET", 1, 2, false, false };
	static const struct dl_rule bs_delete = { "DELETE", 0, 2, false, false };
	static const struct dl_rule bs_discover = { "GET", 0, 1, false, false };
	static const struct dl_rule bs_finish = { "POST", 0, 0, false, false };

	switch(kind){
		case LWM2M_OP_READ: return &read;
		case LWM2M_OP_DISCOVER: return &discover;
		case LWM2M_OP_WRITE: return &write;
		case LWM2M_OP_WRITE_PARTIAL: return &partial;
		case LWM2M_OP_WRITE_ATTRIBUTES: return &attrs;
		case LWM2M_OP_EXECUTE: return &execute;
		case LWM2M_OP_CREATE: return &create;
		case LWM2M_OP_DELETE: return &del;
		case LWM2M_OP_BOOTSTRAP_WRITE: return &bs_write;
		case LWM2M_OP_BOOTSTRAP_READ: return &bs_read;
		case LWM2M_OP_BOOTSTRAP_DELETE: return &bs_delete;
		case LWM2M_OP_BOOTSTRAP_DISCOVER: return &bs_discover;
		case LWM2M_OP_BOOTSTRAP_FINISH: return &bs_finish;
		default: return NULL;
	}
}

/* The target path of op, checked against the rule. */
static int dl_path(const struct lwm2m_op *op, const struct dl_rule *r, struct lwm2m_path *p,
	struct lwm2m_error *err)
{
	const char *kind = op_kind_name(op->kind);

	memset(p, 0, sizeof(*p));
	if(op->kind == LWM2M_OP_BOOTSTRAP_FINISH) return 0;
	if(!(op->fields & LWM2M_F_URI)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s without uri", kind);
	if(path_parse((const char *)op->uri.ptr, op->uri.len, p, err) != 0) return -LWM2M_EINVAL;
	if(p->len < r->min_len || p->len > r->max_len){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s cannot target a path of %u level(s)", kind,
			p->len);
	}
	if(op->kind == LWM2M_OP_DELETE && p->len == 3){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "Delete targets /o/i or /o/i/r/ri, not a resource");
	}
	if(op->kind == LWM2M_OP_BOOTSTRAP_READ && p->ids[0] != 1 && p->ids[0] != 2){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "Bootstrap-Read is for objects 1 and 2 only, not %u",
			p->ids[0]);
	}
	return 0;
}

static int media_of(uint16_t cf, const char **out, const char *what, struct lwm2m_error *err)
{
	*out = fmt_cf_media_type(cf);
	if(!*out){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: content format %u has no media type",
			what, cf);
	}
	return 0;
}

/* Content-Type and Accept of a downlink request. */
static int dl_headers(const struct lwm2m_op *op, const struct dl_rule *r, const char **ct,
	const char **accept, struct lwm2m_error *err)
{
	const char *kind = op_kind_name(op->kind);
	bool has_payload = (op->fields & LWM2M_F_PAYLOAD) != 0;
	bool has_ct = (op->fields & LWM2M_F_CT) != 0;

	if(r->payload){
		if(!has_payload || !has_ct){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s needs a payload and its content format", kind);
		}
		return media_of(op->content_format, ct, kind, err);
	}
	switch(op->kind){
		case LWM2M_OP_READ:
		case LWM2M_OP_BOOTSTRAP_READ:
			if(has_ct && !has_payload) return media_of(op->content_format, accept, kind, err);
			return 0;
		case LWM2M_OP_DISCOVER:
		case LWM2M_OP_BOOTSTRAP_DISCOVER:
			*accept = fmt_cf_media_type(LWM2M_CF_LINK);
			return 0;
		case LWM2M_OP_EXECUTE:
			if(!has_payload || op->payload.len == 0) return 0;
			if(has_ct && op->content_format != LWM2M_CF_TEXT){
				return lwm2m_fail(err, LWM2M_EINVAL, -1, "Execute arguments are text/plain, not %u",
					op->content_format);
			}
			*ct = fmt_cf_media_type(LWM2M_CF_TEXT);
			return 0;
		default:
			return 0;
	}
}

static int dl_query(const struct lwm2m_op *op, const struct lwm2m_path *p, struct lwm2m_buf *b,
	struct lwm2m_error *err)
{
	int rc;

	if(op->kind == LWM2M_OP_DISCOVER && (op->fields & LWM2M_F_DEPTH)){
		if(op->depth > 3) return lwm2m_fail(err, LWM2M_EINVAL, -1, "depth %u is above 3", op->depth);
		rc = buf_printf(b, "?depth=%u", op->depth);
		return rc ? lwm2m_fail(err, rc, -1, "cannot grow the request buffer") : 0;
	}
	if(op->kind != LWM2M_OP_WRITE_ATTRIBUTES) return 0;
	if(!(op->fields & LWM2M_F_ATTRS) || (op->attrs.set | op->attrs.unset) == 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "Write-Attributes without attributes");
	}
	rc = attr_validate_level(&op->attrs, p, err);
	if(rc) return rc;
	rc = buf_append_byte(b, '?');
	if(rc) return lwm2m_fail(err, rc, -1, "cannot grow the request buffer");
	rc = attr_format_query(&op->attrs, b);
	if(rc == -LWM2M_EINVAL){
		return lwm2m_fail(err, rc, -1, "Write-Attributes: invalid attribute values");
	}
	return rc ? lwm2m_fail(err, rc, -1, "cannot grow the request buffer") : 0;
}

static int encode_request(const struct lwm2m_op *op, const char *alt_path, struct lwm2m_buf *b,
	const char **method, const char **content_type, const char **accept, struct lwm2m_error *err)
{
	const struct dl_rule *r;
	struct lwm2m_path p;
	char text[LWM2M_PATH_STR_MAX];
	size_t alt_len = 0;
	int rc;

	if(!op || op->is_response) return lwm2m_fail(err, LWM2M_EINVAL, -1, "not a request");
	r = dl_rule_of(op->kind);
	if(!r){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot be carried over HTTP%s",
			op_kind_name(op->kind), op_kind_from_device(op->kind) ? " to a device (it comes from one)"
				: " (no Observe, Notify or composite operations in the HTTP binding)");
	}
	rc = dl_path(op, r, &p, err);
	if(!rc) rc = dl_headers(op, r, content_type, accept, err);
	if(!rc && r->alt) rc = alt_path_len(alt_path, &alt_len, err);
	if(rc) return rc;
	*method = r->method;
	if(op->kind == LWM2M_OP_BOOTSTRAP_FINISH){
		rc = buf_append(b, "/bs", 3);
	}else{
		rc = buf_append(b, alt_path, alt_len);
		path_format(&p, text, sizeof(text));
		if(!rc) rc = buf_append(b, text, strlen(text));
	}
	if(rc) return lwm2m_fail(err, rc, -1, "cannot grow the request buffer");
	rc = dl_query(op, &p, b, err);
	if(!rc) rc = buf_append_byte(b, '\0');
	if(rc) return rc < 0 ? rc : -LWM2M_ENOMEM;
	b->len--;
	return 0;
}

int http_codec_encode_request(const struct lwm2m_op *op, const char *alt_path,
	struct lwm2m_buf *path_and_query, const char **method, const char **content_type,
	const char **accept, struct lwm2m_error *err)
{
	size_t start = path_and_query->len;
	int rc;

	*method = *content_type = *accept = NULL;
	rc = encode_request(op, alt_path, path_and_query, method, content_type, accept, err);
	if(rc){
		path_and_query->len = start;
		*method = *content_type = *accept = NULL;
	}
	return rc;
}

/* ===================================================== downlink answers ========= */

/* Digits of the last path segment ending at end (exclusive) inside [from, end): its start,
 * or NULL when it is not 1..5 digits of at most 65535. */
static const char *id_segment(const char *from, const char *end, uint16_t *id)
{
	const char *s = end;
	uint64_t v;

	while(s > from && is_digit((uint8_t)s[-1])) s--;
	if(s == end || end - s > 5 || !parse_u64((const uint8_t *)s, (size_t)(end - s), &v)
			|| v > LWM2M_ID_MAX){
		return NULL;
	}
	*id = (uint16_t)v;
	return s;
}

/* The "/o/i" at the end of a Create answer's Location (a path, or an absolute URL). */
static int location_instance(const char *loc, uint16_t object, struct lwm2m_view *out,
	struct lwm2m_error *err)
{
	const char *p = loc, *end, *inst, *obj;
	uint16_t o, i;
	char shown[40];

	if(loc[0] != '/' && strstr(loc, "://")){
		p = strchr(strstr(loc, "://") + 3, '/');
		if(!p) p = loc + strlen(loc);
	}
	end = p + strcspn(p, "?#");
	if(end > p && end[-1] == '/') end--;
	inst = id_segment(p, end, &i);
	if(!inst || inst == p || inst[-1] != '/') goto bad;
	obj = id_segment(p, inst - 1, &o);
	if(!obj || (obj != p && obj[-1] != '/')) goto bad;
	if(o != object){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "Create answer: Location '%s' names object %u, not %u",
			printable(loc, strlen(loc), shown), o, object);
	}
	if(obj != p) obj--;
	out->ptr = (const uint8_t *)obj;
	out->len = (size_t)(end - obj);
	return 0;
bad:
	return lwm2m_fail(err, LWM2M_EINVAL, -1,
		"Create answer: Location '%s' does not end in /object/instance",
		printable(loc, strlen(loc), shown));
}

/* Operations whose success carries content. */
static bool answer_has_content(enum lwm2m_op_kind kind)
{
	return kind == LWM2M_OP_READ || kind == LWM2M_OP_DISCOVER || kind == LWM2M_OP_BOOTSTRAP_READ
		|| kind == LWM2M_OP_BOOTSTRAP_DISCOVER;
}

int http_codec_decode_response(const struct lwm2m_op *req, unsigned http_status,
	const char *content_type, const char *location, const uint8_t *body, size_t len,
	struct lwm2m_op *resp, struct lwm2m_error *err)
{
	unsigned c = http_status / 100, dd = http_status % 100;
	bool has_ct = !header_absent(content_type);
	int cf = has_ct ? http_codec_cf_from_content_type(content_type) : -1;
	const char *kind;
	char shown[40];
	struct lwm2m_path p;

	op_init(resp);
	if(!req || req->is_response) return lwm2m_fail(err, LWM2M_EINVAL, -1, "no request to answer");
	kind = op_kind_name(req->kind);
	if(!dl_rule_of(req->kind)){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s is not sent to devices over HTTP", kind);
	}
	resp->kind = req->kind;
	resp->is_response = true;
	resp->fields = LWM2M_F_RESULT;
	if(req->fields & LWM2M_F_TOKEN){
		resp->token = req->token;
		resp->fields |= LWM2M_F_TOKEN;
	}
	if(len > 0 && !body){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s answer: length without body", kind);
	}
	if(c < 2 || c > 5 || c == 3){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s answer: HTTP status %u is not a final answer", kind,
			http_status);
	}
	if(c >= 4){
		resp->result = (uint16_t)(dd > 31 ? c * 100 : http_status);
		if(len > 0){
			resp->payload.ptr = body;
			resp->payload.len = len;
			resp->fields |= LWM2M_F_PAYLOAD;
			if(cf >= 0){
				resp->content_format = (uint16_t)cf;
				resp->fields |= LWM2M_F_CT;
			}
		}
		return 0;
	}
	resp->result = op_success_result(req->kind);
	if(req->kind == LWM2M_OP_CREATE && !header_absent(location)){
		if(path_parse((const char *)req->uri.ptr, req->uri.len, &p, NULL) != 0 || p.len < 1){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "Create answer: the request has no object path");
		}
		if(location_instance(location, p.ids[0], &resp->uri, err)) return -LWM2M_EINVAL;
		resp->fields |= LWM2M_F_URI;
	}
	if(len == 0 || !answer_has_content(req->kind)) return 0;
	if(!has_ct){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s answer: %zu bytes without Content-Type", kind, len);
	}
	if(cf < 0){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s answer: unknown Content-Type '%s'", kind,
			printable(content_type, strlen(content_type), shown));
	}
	resp->payload.ptr = body;
	resp->payload.len = len;
	resp->content_format = (uint16_t)cf;
	resp->fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
	return 0;
}
