/* CoAP binding codec: server requests to ops, op answers to CoAP answers, and the
 * registration requests the forwarder sends. See coap_codec.h for the choices made where
 * the specification leaves room. */
#include "coap_codec.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../objects/attributes.h"
#include "../objects/fmt.h"
#include "../objects/fmt_senml.h"
#include "../objects/link_format.h"
#include "../objects/node.h"
#include "../objects/tlv.h"

#define C_400 COAP_CODEC_CODE(4, 0)
#define C_402 COAP_CODEC_CODE(4, 2)
#define C_404 COAP_CODEC_CODE(4, 4)
#define C_405 COAP_CODEC_CODE(4, 5)
#define C_406 COAP_CODEC_CODE(4, 6)
#define C_413 COAP_CODEC_CODE(4, 13)
#define C_415 COAP_CODEC_CODE(4, 15)
#define C_500 COAP_CODEC_CODE(5, 0)
#define C_505 COAP_CODEC_CODE(5, 5)

#define ID_MAX 65534u              /* 65535 is reserved (Core 7.1) */
#define OPTION_VALUE_MAX 255u      /* Uri-Path, Uri-Query, Location-Path (RFC 7252 5.10) */

/* ================================================================ helpers ======= */

/* At most 32 bytes of s for a message, non-printable bytes shown as '?'. */
static const char *printable(const uint8_t *s, size_t n, char out[40])
{
	size_t k = 0;

	for(size_t i = 0; i < n && k < 32; i++){
		uint8_t c = s[i];
		out[k++] = (c < 0x20 || c >= 0x7f || c == '"') ? '?' : (char)c;
	}
	if(n > 32){
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

static bool view_is(struct lwm2m_view v, const char *s)
{
	return op_view_eq_str(v, s);
}

static bool all_digits(const uint8_t *p, size_t n)
{
	if(n == 0) return false;
	for(size_t i = 0; i < n; i++){
		if(p[i] < '0' || p[i] > '9') return false;
	}
	return true;
}

/* Strict UTF-8 without control characters. No byte of a multi-byte sequence is below 0x80,
 * so the ASCII controls are found byte by byte. */
static bool utf8_text(const uint8_t *s, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(s[i] < 0x20 || s[i] == 0x7f) return false;
	}
	return binding_utf8_valid(s, n);
}

/* ================================================== codes and option values ===== */

int coap_codec_code_of_result(uint16_t result)
{
	unsigned c = result / 100u, dd = result % 100u;

	if(c > 7 || dd > 31) return -1;
	return COAP_CODEC_CODE(c, dd);
}

uint16_t coap_codec_result_of_code(uint8_t code)
{
	return (uint16_t)((code >> 5) * 100u + (code & 0x1fu));
}

const char *coap_codec_code_text(uint8_t code, char out[COAP_CODEC_CODE_TEXT_SIZE])
{
	unsigned dd = code & 0x1fu;

	out[0] = (char)('0' + (code >> 5));
	out[1] = '.';
	out[2] = (char)('0' + dd / 10u);
	out[3] = (char)('0' + dd % 10u);
	out[4] = '\0';
	return out;
}

int coap_codec_opt_uint(struct lwm2m_view value, size_t max_len, uint32_t *out)
{
	uint32_t v = 0;

	if(max_len > 4) max_len = 4;
	if(value.len > max_len) return -LWM2M_ERANGE;
	for(size_t i = 0; i < value.len; i++) v = (v << 8) | value.ptr[i];
	*out = v;
	return 0;
}

size_t coap_codec_uint_bytes(uint32_t v, uint8_t out[4])
{
	size_t n = v > 0xffffffu ? 4 : v > 0xffffu ? 3 : v > 0xffu ? 2 : v ? 1 : 0;

	for(size_t i = 0; i < n; i++) out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

const struct coap_opt_view *coap_codec_find_opt(const struct coap_msg *m, uint16_t number)
{
	for(size_t i = 0; i < m->n_opts && i < COAP_CODEC_MAX_OPTS; i++){
		if(m->opts[i].number == number) return &m->opts[i];
	}
	return NULL;
}

int coap_codec_add_opt(struct coap_msg *m, uint16_t number, struct lwm2m_view value)
{
	if(m->n_opts >= COAP_CODEC_MAX_OPTS) return -LWM2M_EFULL;
	m->opts[m->n_opts].number = number;
	m->opts[m->n_opts].value = value;
	m->n_opts++;
	return 0;
}

static const char *option_name(uint16_t number)
{
	switch(number){
		case COAP_CODEC_OPT_IF_MATCH: return "If-Match";
		case COAP_CODEC_OPT_URI_HOST: return "Uri-Host";
		case COAP_CODEC_OPT_IF_NONE_MATCH: return "If-None-Match";
		case COAP_CODEC_OPT_URI_PORT: return "Uri-Port";
		case COAP_CODEC_OPT_OSCORE: return "OSCORE";
		case COAP_CODEC_OPT_URI_PATH: return "Uri-Path";
		case COAP_CODEC_OPT_URI_QUERY: return "Uri-Query";
		case COAP_CODEC_OPT_ACCEPT: return "Accept";
		case COAP_CODEC_OPT_BLOCK2: return "Block2";
		case COAP_CODEC_OPT_BLOCK1: return "Block1";
		case COAP_CODEC_OPT_PROXY_URI: return "Proxy-Uri";
		case COAP_CODEC_OPT_PROXY_SCHEME: return "Proxy-Scheme";
		default: return "unknown";
	}
}

/* ======================================================= content formats ====== */

static bool cf_in(uint16_t cf, const uint16_t *set, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(set[i] == cf) return true;
	}
	return false;
}

#define CF_IN(cf, set) cf_in((cf), (set), sizeof(set) / sizeof((set)[0]))

/* Formats of a Write (replace): single values and multi-value formats. */
static const uint16_t write_cfs[] = {
	LWM2M_CF_TEXT, LWM2M_CF_OPAQUE, LWM2M_CF_CBOR, LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR,
	LWM2M_CF_TLV, LWM2M_CF_OMA_JSON, LWM2M_CF_LWM2M_CBOR,
};
/* Formats that carry several resources: Create and partial Write. */
static const uint16_t multi_cfs[] = {
	LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_TLV, LWM2M_CF_OMA_JSON, LWM2M_CF_LWM2M_CBOR,
};
static const uint16_t composite_write_cfs[] = {
	LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_SENML_ETCH_JSON, LWM2M_CF_SENML_ETCH_CBOR,
	LWM2M_CF_LWM2M_CBOR,
};
static const uint16_t path_list_cfs[] = {
	LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_SENML_ETCH_JSON, LWM2M_CF_SENML_ETCH_CBOR,
};
/* What a Read or an Observe may be answered in. */
static const uint16_t read_accepts[] = {
	LWM2M_CF_TEXT, LWM2M_CF_OPAQUE, LWM2M_CF_CBOR, LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR,
	LWM2M_CF_TLV, LWM2M_CF_OMA_JSON, LWM2M_CF_LWM2M_CBOR,
};
static const uint16_t composite_accepts[] = {
	LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_LWM2M_CBOR,
};
static const uint16_t send_cfs[] = {
	LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_LWM2M_CBOR,
};

static const char *cf_label(uint16_t cf)
{
	const char *n = fmt_cf_name(cf);
	return n ? n : "unknown";
}

/* ========================================================= request decoding ===== */

struct dec {
	const struct coap_msg *m;
	const struct coap_decode_opts *opts;
	struct lwm2m_op *op;
	struct coap_request_info *info;
	struct lwm2m_buf *scratch;
	struct lwm2m_error *err;

	const struct lwm2m_view *segs[COAP_CODEC_MAX_OPTS];
	size_t n_segs;
	const struct lwm2m_view *queries[COAP_CODEC_MAX_OPTS];
	size_t n_queries;
	bool has_observe;
	uint32_t observe;
	const char *what;              /* the operation, for messages */

	bool has_paths;                /* a composite's path list, to encode into scratch */
	struct lwm2m_path *paths;
	size_t n_paths;
};

static int refuse(struct dec *d, uint8_t answer, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct dec *d, uint8_t answer, int code, const char *fmt, ...)
{
	d->info->answer_code = answer;
	if(d->err){
		va_list ap;
		d->err->code = code;
		d->err->has_offset = false;
		d->err->offset = 0;
		va_start(ap, fmt);
		vsnprintf(d->err->msg, sizeof(d->err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

/* A failure some other module described in d->err: keep its words, answer with `answer`
 * and the error code that goes with it (code, positive). */
static int refuse_as(struct dec *d, uint8_t answer, int code, const char *prefix)
{
	struct lwm2m_error *e = d->err;

	d->info->answer_code = answer;
	if(e){
		size_t pl = strlen(prefix), ml = strnlen(e->msg, sizeof(e->msg) - 1);
		if(pl + ml > sizeof(e->msg) - 1) ml = sizeof(e->msg) - 1 - pl;
		memmove(e->msg + pl, e->msg, ml);
		memcpy(e->msg, prefix, pl);
		e->msg[pl + ml] = '\0';
		e->code = code;
		e->has_offset = false;
		e->offset = 0;
	}
	return -code;
}

static bool repeatable(uint16_t number)
{
	return number == COAP_CODEC_OPT_URI_PATH || number == COAP_CODEC_OPT_URI_QUERY;
}

/* One option of the request: collect what LwM2M reads, refuse what cannot be served. */
static int scan_option(struct dec *d, const struct coap_opt_view *o, uint32_t *seen_critical)
{
	struct coap_request_info *info = d->info;
	uint32_t v;

	if(o->value.len && !o->value.ptr){
		return refuse(d, C_400, LWM2M_EINVAL, "option %u: length without data", o->number);
	}
	if((o->number & 1) && o->number < 64 && !repeatable(o->number)){
		if(*seen_critical & (1u << (o->number / 2))){
			return refuse(d, C_402, LWM2M_ENOTSUP, "option %u (%s) is repeated", o->number,
				option_name(o->number));
		}
		*seen_critical |= 1u << (o->number / 2);
	}
	switch(o->number){
		case COAP_CODEC_OPT_URI_PATH:
		case COAP_CODEC_OPT_URI_QUERY:
			if(o->value.len > OPTION_VALUE_MAX){
				return refuse(d, C_402, LWM2M_ENOTSUP, "%s option longer than %u bytes",
					option_name(o->number), OPTION_VALUE_MAX);
			}
			if(o->number == COAP_CODEC_OPT_URI_PATH) d->segs[d->n_segs++] = &o->value;
			else d->queries[d->n_queries++] = &o->value;
			return 0;
		case COAP_CODEC_OPT_ACCEPT:
			if(coap_codec_opt_uint(o->value, 2, &v)){
				return refuse(d, C_402, LWM2M_ENOTSUP, "Accept option longer than 2 bytes");
			}
			info->has_accept = true;
			info->accept = (uint16_t)v;
			return 0;
		case COAP_CODEC_OPT_CONTENT_FORMAT:
			if(!info->has_content_format && coap_codec_opt_uint(o->value, 2, &v) == 0){
				info->has_content_format = true;
				info->content_format = (uint16_t)v;
			}
			return 0;
		case COAP_CODEC_OPT_OBSERVE:
			if(!d->has_observe && coap_codec_opt_uint(o->value, 3, &v) == 0){
				d->has_observe = true;
				d->observe = v;
			}
			return 0;
		case COAP_CODEC_OPT_URI_HOST:
		case COAP_CODEC_OPT_URI_PORT:
		case COAP_CODEC_OPT_BLOCK1:
		case COAP_CODEC_OPT_BLOCK2:
			return 0;
		case COAP_CODEC_OPT_PROXY_URI:
		case COAP_CODEC_OPT_PROXY_SCHEME:
			return refuse(d, C_505, LWM2M_ENOTSUP, "%s: this endpoint is not a proxy",
				option_name(o->number));
	}
	if(o->number & 1){
		return refuse(d, C_402, LWM2M_ENOTSUP, "critical option %u (%s) is not supported",
			o->number, option_name(o->number));
	}
	return 0;
}

static int scan_options(struct dec *d)
{
	uint32_t seen_critical = 0;
	int rc;

	if(d->m->n_opts > COAP_CODEC_MAX_OPTS){
		return refuse(d, C_400, LWM2M_EINVAL, "%zu options (at most %d)", d->m->n_opts,
			COAP_CODEC_MAX_OPTS);
	}
	for(size_t i = 0; i < d->m->n_opts; i++){
		rc = scan_option(d, &d->m->opts[i], &seen_critical);
		if(rc) return rc;
	}
	return 0;
}

/* Number of leading Uri-Path segments the alternate path takes; -1 when the request is
 * outside it. */
static long alt_prefix(struct dec *d)
{
	const char *alt = d->opts ? d->opts->alt_path : NULL;
	size_t k = 0;

	if(!alt) return 0;
	while(*alt){
		size_t n;

		while(*alt == '/') alt++;
		if(!*alt) break;
		n = strcspn(alt, "/");
		if(k >= d->n_segs || d->segs[k]->len != n || memcmp(d->segs[k]->ptr, alt, n) != 0){
			return -1;
		}
		k++;
		alt += n;
	}
	return (long)k;
}

/* info->path from the Uri-Path segments. */
static int resolve_path(struct dec *d)
{
	struct lwm2m_path *p = &d->info->path;
	size_t n = d->n_segs;
	long first = alt_prefix(d);
	char shown[40];

	memset(p, 0, sizeof(*p));
	if(first < 0){
		return refuse(d, C_404, LWM2M_ENOENT, "the path is outside the alternate path \"%s\"",
			d->opts->alt_path);
	}
	if(n > (size_t)first && d->segs[n - 1]->len == 0) n--;   /* a trailing '/' */
	for(size_t i = (size_t)first; i < n; i++){
		const struct lwm2m_view *s = d->segs[i];
		uint32_t id = 0;

		if(s->len == 0) return refuse(d, C_400, LWM2M_EINVAL, "empty Uri-Path segment %zu", i + 1);
		if(!all_digits(s->ptr, s->len)){
			if(i == (size_t)first){
				return refuse(d, C_404, LWM2M_ENOENT,
					"no alternate path or gateway prefix \"%s\" on this client",
					printable(s->ptr, s->len, shown));
			}
			return refuse(d, C_400, LWM2M_EINVAL, "Uri-Path segment \"%s\" is not an id",
				printable(s->ptr, s->len, shown));
		}
		for(size_t k = 0; k < s->len && id <= ID_MAX; k++) id = id * 10u + (s->ptr[k] - '0');
		if(id > ID_MAX){
			return refuse(d, C_400, LWM2M_EINVAL, "Uri-Path segment \"%s\" is above %u",
				printable(s->ptr, s->len, shown), ID_MAX);
		}
		if(p->len == LWM2M_PATH_MAX_DEPTH){
			return refuse(d, C_400, LWM2M_EINVAL, "the path has more than %d levels",
				LWM2M_PATH_MAX_DEPTH);
		}
		p->ids[p->len++] = (uint16_t)id;
	}
	return 0;
}

/* Refuse an operation on a path level it does not take. levels: bit n = length n. */
static int check_level(struct dec *d, unsigned levels, const char *allowed)
{
	char text[LWM2M_PATH_STR_MAX];

	if(levels & (1u << d->info->path.len)) return 0;
	path_format(&d->info->path, text, sizeof(text));
	return refuse(d, C_405, LWM2M_ENOTSUP, "%s is not allowed on %s (only on %s)", d->what,
		text, allowed);
}

#define LV_ROOT (1u << 0)
#define LV_O    (1u << 1)
#define LV_OI   (1u << 2)
#define LV_OIR  (1u << 3)
#define LV_OIRI (1u << 4)

static int no_query(struct dec *d)
{
	char shown[40];

	if(d->n_queries == 0) return 0;
	return refuse(d, C_400, LWM2M_EINVAL, "%s takes no query parameters (got \"%s\")", d->what,
		printable(d->queries[0]->ptr, d->queries[0]->len, shown));
}

static int no_payload(struct dec *d)
{
	if(d->m->payload.len == 0) return 0;
	return refuse(d, C_400, LWM2M_EINVAL, "%s takes no payload (got %zu bytes)", d->what,
		d->m->payload.len);
}

/* Observe parameters (1.2: observation-only attributes) cannot reach the device. */
static int no_observe_attributes(struct dec *d)
{
	char shown[40];

	if(d->n_queries == 0) return 0;
	return refuse(d, C_400, LWM2M_EINVAL,
		"%s with attributes (\"%s\") cannot be forwarded: the device's binding has no "
		"attributes on Observe", d->what,
		printable(d->queries[0]->ptr, d->queries[0]->len, shown));
}

static int check_accept(struct dec *d, const uint16_t *set, size_t n)
{
	if(!d->info->has_accept || cf_in(d->info->accept, set, n)) return 0;
	return refuse(d, C_406, LWM2M_ENOTSUP, "%s cannot be answered in Accept %u (%s)", d->what,
		d->info->accept, cf_label(d->info->accept));
}

/* The Content-Format of a request with a body: present and one of set. */
static int need_cf(struct dec *d, const uint16_t *set, size_t n)
{
	uint16_t cf = d->info->content_format;

	if(!d->info->has_content_format){
		return refuse(d, C_415, LWM2M_ENOTSUP, "%s needs a Content-Format option", d->what);
	}
	if(!cf_in(cf, set, n)){
		return refuse(d, C_415, LWM2M_ENOTSUP, "Content-Format %u (%s) is not allowed for %s", cf,
			cf_label(cf), d->what);
	}
	return 0;
}

static void take_payload(struct dec *d)
{
	d->op->payload = d->m->payload;
	if(!d->op->payload.ptr) d->op->payload.ptr = (const uint8_t *)"";
	d->op->fields |= LWM2M_F_PAYLOAD;
}

static void take_payload_and_cf(struct dec *d)
{
	take_payload(d);
	d->op->content_format = d->info->content_format;
	d->op->fields |= LWM2M_F_CT;
}

/* ---- GET ---- */

static int decode_discover(struct dec *d)
{
	char shown[40];
	int rc;

	d->op->kind = LWM2M_OP_DISCOVER;
	d->what = "Discover";
	rc = check_level(d, LV_O | LV_OI | LV_OIR, "/o, /o/i and /o/i/r");
	if(!rc) rc = no_payload(d);
	if(rc) return rc;
	for(size_t i = 0; i < d->n_queries; i++){
		const struct lwm2m_view *q = d->queries[i];
		if(q->len < 6 || memcmp(q->ptr, "depth=", 6) != 0){
			return refuse(d, C_400, LWM2M_EINVAL, "Discover takes only depth (got \"%s\")",
				printable(q->ptr, q->len, shown));
		}
		if(d->op->fields & LWM2M_F_DEPTH){
			return refuse(d, C_400, LWM2M_EINVAL, "Discover: depth given twice");
		}
		if(q->len != 7 || q->ptr[6] < '0' || q->ptr[6] > '3'){
			return refuse(d, C_400, LWM2M_EINVAL, "Discover: depth \"%s\" is not 0..3",
				printable(q->ptr + 6, q->len - 6, shown));
		}
		d->op->depth = (uint8_t)(q->ptr[6] - '0');
		d->op->fields |= LWM2M_F_DEPTH;
	}
	return 0;
}

/* Observe 0 or 1 from a GET or FETCH; anything else is no observation request. */
static int observe_action(const struct dec *d)
{
	if(!d->has_observe || d->observe > 1) return COAP_CODEC_OBSERVE_NONE;
	return (int)d->observe;
}

static int decode_get(struct dec *d)
{
	int obs, rc;

	if(d->info->has_accept && d->info->accept == LWM2M_CF_LINK) return decode_discover(d);
	obs = observe_action(d);
	d->info->observe = obs;
	if(obs == COAP_CODEC_OBSERVE_REGISTER){
		d->op->kind = LWM2M_OP_OBSERVE;
		d->what = "Observe";
	}else if(obs == COAP_CODEC_OBSERVE_DEREGISTER){
		d->op->kind = LWM2M_OP_CANCEL_OBSERVE;
		d->what = "Cancel-Observe";
	}else{
		d->op->kind = LWM2M_OP_READ;
		d->what = "Read";
	}
	rc = check_level(d, LV_O | LV_OI | LV_OIR | LV_OIRI, "/o, /o/i, /o/i/r and /o/i/r/ri");
	if(!rc) rc = no_payload(d);
	if(!rc) rc = obs == COAP_CODEC_OBSERVE_NONE ? no_query(d) : no_observe_attributes(d);
	if(!rc) rc = check_accept(d, read_accepts, sizeof(read_accepts) / sizeof(read_accepts[0]));
	return rc;
}

/* ---- PUT ---- */

/* One Uri-Query of a Write-Attributes. */
static int take_attribute(struct dec *d, const struct lwm2m_view *q, struct lwm2m_attrs *a)
{
	const uint8_t *eq = q->len ? memchr(q->ptr, '=', q->len) : NULL;
	size_t name_len = eq ? (size_t)(eq - q->ptr) : q->len;
	bool full = d->opts && d->opts->full_attributes;
	char shown[40];
	int id, rc;

	id = attr_from_name((const char *)q->ptr, name_len);
	if(id < 0){
		return refuse(d, C_400, LWM2M_EINVAL,
			"Write-Attributes: unknown or read-only attribute \"%s\"",
			printable(q->ptr, name_len, shown));
	}
	if((a->set | a->unset) & LWM2M_ATTR_BIT(id)){
		return refuse(d, C_400, LWM2M_EINVAL, "Write-Attributes: %s given twice", attr_name(id));
	}
	if(!full && (id == LWM2M_ATTR_LT || id == LWM2M_ATTR_CON)){
		return refuse(d, C_400, LWM2M_EINVAL,
			"Write-Attributes: %s cannot be forwarded: the MQTT binding has no key for it",
			attr_name(id));
	}
	if(!eq){
		if(!full){
			return refuse(d, C_400, LWM2M_EINVAL,
				"Write-Attributes: %s without a value (unset) cannot be forwarded: the MQTT "
				"binding cannot unset an attribute", attr_name(id));
		}
		a->unset |= LWM2M_ATTR_BIT(id);
		return 0;
	}
	rc = attr_parse_value((enum lwm2m_attr_id)id, (const char *)eq + 1, q->len - name_len - 1, a,
		d->err);
	return rc ? refuse_as(d, C_400, LWM2M_EINVAL, "Write-Attributes: ") : 0;
}

static int decode_write_attributes(struct dec *d)
{
	struct lwm2m_attrs a;
	int rc;

	d->op->kind = LWM2M_OP_WRITE_ATTRIBUTES;
	d->what = "Write-Attributes";
	rc = check_level(d, LV_O | LV_OI | LV_OIR | LV_OIRI, "/o, /o/i, /o/i/r and /o/i/r/ri");
	if(rc) return rc;
	memset(&a, 0, sizeof(a));
	for(size_t i = 0; i < d->n_queries; i++){
		rc = take_attribute(d, d->queries[i], &a);
		if(rc) return rc;
	}
	rc = attr_validate_level(&a, &d->info->path, d->err);
	if(!rc) rc = attr_validate(&a, d->err);
	if(rc) return refuse_as(d, C_400, LWM2M_EINVAL, "Write-Attributes: ");
	d->op->attrs = a;
	d->op->fields |= LWM2M_F_ATTRS;
	return 0;
}

static int decode_put(struct dec *d)
{
	int rc;

	if(!d->info->has_content_format && d->m->payload.len == 0){
		if(d->n_queries) return decode_write_attributes(d);
		d->what = "PUT";
		return refuse(d, C_400, LWM2M_EINVAL,
			"PUT without payload, Content-Format or attributes: nothing to write");
	}
	d->op->kind = LWM2M_OP_WRITE;
	d->what = "Write";
	rc = check_level(d, LV_OI | LV_OIR | LV_OIRI, "/o/i, /o/i/r and /o/i/r/ri");
	if(!rc) rc = no_query(d);
	if(!rc) rc = need_cf(d, write_cfs, sizeof(write_cfs) / sizeof(write_cfs[0]));
	if(rc) return rc;
	take_payload_and_cf(d);
	return 0;
}

/* ---- POST ---- */

static bool is_arg_char(uint8_t c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x26) || (c >= 0x28 && c <= 0x5b) ||
		(c >= 0x5d && c <= 0x7e);
}

/* Where Execute arguments break the Core ABNF, with the reason; NULL when they follow it. */
static const char *execute_args_problem(const uint8_t *p, size_t n, size_t *at)
{
	size_t i = 0;

	if(n == 0) return NULL;
	for(;;){
		*at = i;
		if(i >= n || p[i] < '0' || p[i] > '9') return "expected an argument digit";
		i++;
		if(i < n && p[i] == '='){
			i++;
			*at = i;
			if(i >= n || p[i] != '\'') return "expected ' after '='";
			i++;
			while(i < n && p[i] != '\''){
				*at = i;
				if(!is_arg_char(p[i])) return "character not allowed in an argument value";
				i++;
			}
			*at = i;
			if(i >= n) return "unterminated argument value";
			i++;
		}
		*at = i;
		if(i == n) return NULL;
		if(p[i] != ',') return "expected ','";
		i++;
	}
}

static int decode_execute(struct dec *d)
{
	size_t at = 0;
	const char *why = execute_args_problem(d->m->payload.ptr, d->m->payload.len, &at);

	if(why){
		return refuse(d, C_400, LWM2M_EINVAL, "Execute arguments: %s at byte %zu", why, at);
	}
	if(d->m->payload.len) take_payload(d);
	return 0;
}

/* Which instance ids a Create payload names: none, one (its id) or several. */
static int32_t tlv_instances(const uint8_t *p, size_t len)
{
	struct tlv_record rec;
	size_t pos = 0, n = 0;
	int32_t iid = COAP_CODEC_IID_NONE;

	while(pos < len){
		if(tlv_read(p, len, &pos, 0, &rec, NULL) != 0) return COAP_CODEC_IID_NONE;
		if(rec.kind != TLV_OBJECT_INSTANCE) return COAP_CODEC_IID_NONE;
		if(rec.id > ID_MAX) return COAP_CODEC_IID_NONE;
		if(n++ == 0) iid = rec.id;
		else if(iid != rec.id) return COAP_CODEC_IID_MANY;
	}
	return iid;
}

static int32_t node_instances(uint16_t cf, const uint8_t *p, size_t len, uint16_t obj)
{
	struct lwm2m_nodes nodes;
	struct lwm2m_path req = { .len = 1, .ids = { obj } };
	int32_t iid = COAP_CODEC_IID_NONE;

	nodes_init(&nodes);
	if(fmt_decode(cf, p, len, &req, NULL, NULL, &nodes, NULL) == 0){
		for(size_t i = 0; i < nodes.count; i++){
			const struct lwm2m_node *n = &nodes.items[i];
			if(n->prefix || n->path.len < 2 || n->path.ids[0] != obj) continue;
			if(n->path.ids[1] > ID_MAX){
				iid = COAP_CODEC_IID_NONE;
				break;
			}
			if(iid == COAP_CODEC_IID_NONE){
				iid = n->path.ids[1];
			}else if(iid != n->path.ids[1]){
				iid = COAP_CODEC_IID_MANY;
				break;
			}
		}
	}
	nodes_free(&nodes);
	return iid;
}

static int decode_create(struct dec *d)
{
	const struct lwm2m_view *pl = &d->m->payload;
	int rc;

	rc = need_cf(d, multi_cfs, sizeof(multi_cfs) / sizeof(multi_cfs[0]));
	if(rc) return rc;
	take_payload_and_cf(d);
	if(pl->len == 0) return 0;
	if(d->info->content_format == LWM2M_CF_TLV){
		d->info->create_iid = tlv_instances(pl->ptr, pl->len);
	}else{
		d->info->create_iid = node_instances(d->info->content_format, pl->ptr, pl->len,
			d->info->path.ids[0]);
	}
	return 0;
}

static enum lwm2m_op_kind post_kind(const struct coap_request_info *info)
{
	bool args = !info->has_content_format || info->content_format == LWM2M_CF_TEXT;

	switch(info->path.len){
		case 1: return LWM2M_OP_CREATE;
		case 2: return LWM2M_OP_WRITE_PARTIAL;
		/* a multi-value body makes it a partial Write of a multi-instance resource */
		case 3: return args ? LWM2M_OP_EXECUTE : LWM2M_OP_WRITE_PARTIAL;
		default: return LWM2M_OP_NONE;
	}
}

static int decode_post(struct dec *d)
{
	int rc;

	d->op->kind = post_kind(d->info);
	switch(d->op->kind){
		case LWM2M_OP_CREATE: d->what = "Create"; break;
		case LWM2M_OP_EXECUTE: d->what = "Execute"; break;
		case LWM2M_OP_WRITE_PARTIAL: d->what = "Write (partial update)"; break;
		default:
			d->what = "POST";
			return check_level(d, LV_O | LV_OI | LV_OIR,
				"/o (Create), /o/i (Write) and /o/i/r (Execute)");
	}
	rc = no_query(d);
	if(rc) return rc;
	if(d->op->kind == LWM2M_OP_CREATE) return decode_create(d);
	if(d->op->kind == LWM2M_OP_EXECUTE) return decode_execute(d);
	rc = need_cf(d, multi_cfs, sizeof(multi_cfs) / sizeof(multi_cfs[0]));
	if(rc) return rc;
	take_payload_and_cf(d);
	return 0;
}

/* ---- DELETE ---- */

static int decode_delete(struct dec *d)
{
	int rc;

	d->op->kind = LWM2M_OP_DELETE;
	d->what = "Delete";
	rc = check_level(d, LV_OI | LV_OIRI, "/o/i and /o/i/r/ri");
	if(!rc) rc = no_payload(d);
	if(!rc) rc = no_query(d);
	return rc;
}

/* ---- FETCH and iPATCH ---- */

static int decode_path_list(struct dec *d)
{
	const struct lwm2m_view *pl = &d->m->payload;
	const char *alt = d->opts ? d->opts->alt_path : NULL;
	char text[LWM2M_PATH_STR_MAX];
	int rc;

	if(d->info->has_content_format && d->info->content_format == LWM2M_CF_LWM2M_CBOR){
		return refuse(d, C_415, LWM2M_ENOTSUP,
			"%s: LwM2M CBOR path lists are not supported (use SenML-ETCH JSON or CBOR)", d->what);
	}
	rc = need_cf(d, path_list_cfs, sizeof(path_list_cfs) / sizeof(path_list_cfs[0]));
	if(rc) return rc;
	rc = senml_etch_paths_decode_ex(d->info->content_format, pl->ptr, pl->len, alt, &d->paths,
		NULL, &d->n_paths, d->err);
	if(rc == -LWM2M_ENOMEM) return refuse_as(d, C_500, LWM2M_ENOMEM, "path list: ");
	if(rc) return refuse_as(d, C_400, LWM2M_EINVAL, "path list: ");
	if(d->n_paths == 0) return refuse(d, C_400, LWM2M_EINVAL, "%s: the path list is empty", d->what);
	for(size_t i = 0; i < d->n_paths; i++){
		for(uint8_t k = 0; k < d->paths[i].len; k++){
			if(d->paths[i].ids[k] <= ID_MAX) continue;
			path_format(&d->paths[i], text, sizeof(text));
			return refuse(d, C_400, LWM2M_EINVAL, "path list: %s uses the reserved id %u", text,
				LWM2M_ID_MAX);
		}
	}
	d->has_paths = true;
	d->op->fields |= LWM2M_F_PATHS;
	return 0;
}

static int decode_fetch(struct dec *d)
{
	int obs = observe_action(d), rc;

	d->info->observe = obs;
	if(obs == COAP_CODEC_OBSERVE_REGISTER){
		d->op->kind = LWM2M_OP_OBSERVE_COMPOSITE;
		d->what = "Observe-Composite";
	}else if(obs == COAP_CODEC_OBSERVE_DEREGISTER){
		d->op->kind = LWM2M_OP_CANCEL_OBSERVE;
		d->what = "Cancel-Observe (composite)";
	}else{
		d->op->kind = LWM2M_OP_READ_COMPOSITE;
		d->what = "Read-Composite";
	}
	rc = check_level(d, LV_ROOT, "the root path");
	if(!rc) rc = obs == COAP_CODEC_OBSERVE_NONE ? no_query(d) : no_observe_attributes(d);
	if(!rc) rc = check_accept(d, composite_accepts,
		sizeof(composite_accepts) / sizeof(composite_accepts[0]));
	if(!rc) rc = decode_path_list(d);
	return rc;
}

static int decode_ipatch(struct dec *d)
{
	int rc;

	d->op->kind = LWM2M_OP_WRITE_COMPOSITE;
	d->what = "Write-Composite";
	rc = check_level(d, LV_ROOT, "the root path");
	if(!rc) rc = no_query(d);
	if(!rc) rc = need_cf(d, composite_write_cfs,
		sizeof(composite_write_cfs) / sizeof(composite_write_cfs[0]));
	if(rc) return rc;
	if(d->m->payload.len == 0){
		return refuse(d, C_400, LWM2M_EINVAL, "Write-Composite needs a payload");
	}
	take_payload_and_cf(d);
	return 0;
}

/* ---- the whole request ---- */

static int decode_method(struct dec *d)
{
	char name[COAP_CODEC_CODE_TEXT_SIZE];

	switch(d->m->code){
		case COAP_CODEC_GET: return decode_get(d);
		case COAP_CODEC_POST: return decode_post(d);
		case COAP_CODEC_PUT: return decode_put(d);
		case COAP_CODEC_DELETE: return decode_delete(d);
		case COAP_CODEC_FETCH: return decode_fetch(d);
		case COAP_CODEC_IPATCH: return decode_ipatch(d);
		case COAP_CODEC_PATCH:
			return refuse(d, C_405, LWM2M_ENOTSUP, "PATCH (0.06) is not an LwM2M method");
	}
	return refuse(d, C_405, LWM2M_ENOTSUP, "method %s is not supported",
		coap_codec_code_text(d->m->code, name));
}

static int scratch_fail(struct dec *d, int rc)
{
	if(rc == -LWM2M_ETOOBIG) return refuse_as(d, C_413, LWM2M_ETOOBIG, "scratch: ");
	return refuse_as(d, C_500, LWM2M_ENOMEM, "scratch: ");
}

/* Put the uri text and the path list into scratch, then point the op at them (scratch may
 * move while it grows). */
static int commit_scratch(struct dec *d)
{
	struct lwm2m_buf *b = d->scratch;
	char text[LWM2M_PATH_STR_MAX];
	size_t uri_off = b->len, uri_len = 0, paths_off;
	bool want_uri = d->info->path.len > 0;
	int rc;

	if(want_uri){
		uri_len = path_format(&d->info->path, text, sizeof(text));
		rc = buf_append(b, text, uri_len);
		if(rc){
			lwm2m_fail(d->err, rc, -1, "%s", lwm2m_strerror(rc));
			return scratch_fail(d, rc);
		}
	}
	paths_off = b->len;
	if(d->has_paths){
		rc = senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_CBOR, d->paths, d->n_paths, b, d->err);
		if(rc) return scratch_fail(d, rc);
		d->op->paths.ptr = b->data + paths_off;
		d->op->paths.len = b->len - paths_off;
	}
	if(want_uri){
		d->op->uri.ptr = b->data + uri_off;
		d->op->uri.len = uri_len;
		d->op->fields |= LWM2M_F_URI;
	}
	return 0;
}

static int decode_all(struct dec *d)
{
	char name[COAP_CODEC_CODE_TEXT_SIZE];
	int rc;

	if(d->m->code == 0 || d->m->code > 31){
		return refuse(d, C_400, LWM2M_EINVAL, "code %s is not a request",
			coap_codec_code_text(d->m->code, name));
	}
	if(d->m->payload.len && !d->m->payload.ptr){
		return refuse(d, C_400, LWM2M_EINVAL, "payload length without data");
	}
	rc = scan_options(d);
	if(!rc) rc = resolve_path(d);
	if(!rc) rc = decode_method(d);
	if(!rc) rc = commit_scratch(d);
	return rc;
}

int coap_codec_decode_request_ex(const struct coap_msg *m, const struct coap_decode_opts *opts,
	struct lwm2m_op *op, struct coap_request_info *info, struct lwm2m_buf *scratch,
	struct lwm2m_error *err)
{
	struct dec d;
	size_t scratch_len = scratch->len;
	enum lwm2m_op_kind kind;
	int rc;

	memset(&d, 0, sizeof(d));
	d.m = m;
	d.opts = opts;
	d.op = op;
	d.info = info;
	d.scratch = scratch;
	d.err = err;
	d.what = "request";
	op_init(op);
	memset(info, 0, sizeof(*info));
	info->observe = COAP_CODEC_OBSERVE_NONE;
	info->create_iid = COAP_CODEC_IID_NONE;

	rc = decode_all(&d);
	free(d.paths);
	if(rc == 0) return 0;
	kind = op->kind;
	op_init(op);
	op->kind = kind;
	scratch->len = scratch_len;
	return rc;
}

int coap_codec_decode_request(const struct coap_msg *m, struct lwm2m_op *op,
	struct coap_request_info *info, struct lwm2m_buf *scratch, struct lwm2m_error *err)
{
	return coap_codec_decode_request_ex(m, NULL, op, info, scratch, err);
}

/* ======================================================= response encoding ====== */

static int answer_fail(struct coap_answer *a, uint8_t code, struct lwm2m_error *err, int errcode,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int answer_fail(struct coap_answer *a, uint8_t code, struct lwm2m_error *err, int errcode,
	const char *fmt, ...)
{
	memset(a, 0, sizeof(*a));
	a->code = code;
	if(err){
		va_list ap;
		err->code = errcode;
		err->has_offset = false;
		err->offset = 0;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		a->payload.ptr = (const uint8_t *)err->msg;
		a->payload.len = strlen(err->msg);
	}else{
		a->payload.ptr = (const uint8_t *)"";
	}
	return -errcode;
}

/* Server requests whose success answer carries content: those answered 2.05 Content. */
static bool answer_has_content(enum lwm2m_op_kind kind)
{
	return op_success_result(kind) == 205;
}

/* The server requests this codec decodes. */
static bool server_request_kind(enum lwm2m_op_kind kind)
{
	return kind >= LWM2M_OP_READ && kind <= LWM2M_OP_CANCEL_OBSERVE;
}

static void copy_payload(const struct lwm2m_op *resp, struct coap_answer *a)
{
	if(!(resp->fields & LWM2M_F_PAYLOAD)) return;
	a->payload = resp->payload;
	if(!a->payload.ptr) a->payload.ptr = (const uint8_t *)"";
	if(resp->fields & LWM2M_F_CT){
		a->has_content_format = true;
		a->content_format = resp->content_format;
	}
}

/* An answer's payload view is never NULL: "" when there is none. */
static int answer_done(struct coap_answer *a)
{
	if(!a->payload.ptr) a->payload.ptr = (const uint8_t *)"";
	return 0;
}

static void set_location(struct coap_answer *a, uint16_t obj, uint16_t inst)
{
	a->n_location = 2;
	snprintf(a->location[0], sizeof(a->location[0]), "%u", (unsigned)obj);
	snprintf(a->location[1], sizeof(a->location[1]), "%u", (unsigned)inst);
}

static int create_location(const struct lwm2m_op *resp, const struct coap_request_info *info,
	struct coap_answer *a, struct lwm2m_error *err)
{
	struct lwm2m_path p;
	char shown[40];

	if(resp->fields & LWM2M_F_URI){
		if(path_parse((const char *)resp->uri.ptr, resp->uri.len, &p, NULL) != 0 || p.len != 2 ||
			p.ids[0] > ID_MAX || p.ids[1] > ID_MAX){
			return answer_fail(a, C_500, err, LWM2M_EINVAL,
				"the device named the created instance \"%s\", not /object/instance",
				printable(resp->uri.ptr, resp->uri.len, shown));
		}
		if(info && info->path.len >= 1 && p.ids[0] != info->path.ids[0]){
			return answer_fail(a, C_500, err, LWM2M_EINVAL,
				"the device created /%u/%u in object %u", p.ids[0], p.ids[1], info->path.ids[0]);
		}
		set_location(a, p.ids[0], p.ids[1]);
		return 0;
	}
	if(info && info->path.len >= 1 && info->create_iid >= 0){
		set_location(a, info->path.ids[0], (uint16_t)info->create_iid);
		return 0;
	}
	if(info && info->create_iid == COAP_CODEC_IID_MANY) return 0;
	return answer_fail(a, C_400, err, LWM2M_EINVAL,
		"the device did not say which instance it created");
}

static int encode_notification(const struct lwm2m_op *n, struct coap_answer *a,
	struct lwm2m_error *err)
{
	if(!(n->fields & LWM2M_F_PAYLOAD) || !(n->fields & LWM2M_F_CT)){
		return answer_fail(a, C_500, err, LWM2M_EINVAL,
			"a notification needs a payload and a content format");
	}
	a->code = COAP_CODEC_CODE(2, 5);
	a->observe = true;
	copy_payload(n, a);
	return answer_done(a);
}

int coap_codec_encode_response(const struct lwm2m_op *resp, enum lwm2m_op_kind request_kind,
	const struct coap_request_info *info, struct coap_answer *a, struct lwm2m_error *err)
{
	unsigned c, dd;

	memset(a, 0, sizeof(*a));
	if(!resp) return answer_fail(a, C_500, err, LWM2M_EINVAL, "no answer");
	if(!resp->is_response){
		if(resp->kind == LWM2M_OP_NOTIFY) return encode_notification(resp, a, err);
		return answer_fail(a, C_500, err, LWM2M_EINVAL, "%s is not an answer",
			op_kind_name(resp->kind));
	}
	if(!server_request_kind(request_kind)){
		return answer_fail(a, C_500, err, LWM2M_EINVAL, "%s is not a request of a CoAP server",
			op_kind_name(request_kind));
	}
	c = resp->result / 100u;
	dd = resp->result % 100u;
	if(c == 4 || c == 5){
		a->code = COAP_CODEC_CODE(c, dd > 31 ? 0 : dd);
		copy_payload(resp, a);
		return answer_done(a);
	}
	if(c != 2 || dd == 31){
		return answer_fail(a, C_500, err, LWM2M_EINVAL,
			"the device answered %s with result %u, which CoAP cannot carry",
			op_kind_name(request_kind), resp->result);
	}
	if(answer_has_content(request_kind) && (resp->fields & LWM2M_F_PAYLOAD) &&
		!(resp->fields & LWM2M_F_CT)){
		return answer_fail(a, C_500, err, LWM2M_EINVAL,
			"the device answered %s with a payload but no content format",
			op_kind_name(request_kind));
	}
	if(request_kind == LWM2M_OP_CREATE){
		int rc = create_location(resp, info, a, err);
		if(rc) return rc;
	}
	a->code = (uint8_t)coap_codec_code_of_result(op_success_result(request_kind));
	a->observe = request_kind == LWM2M_OP_OBSERVE || request_kind == LWM2M_OP_OBSERVE_COMPOSITE;
	copy_payload(resp, a);
	return answer_done(a);
}

/* ======================================================== registration ========== */

static bool version_valid(struct lwm2m_view v)
{
	const uint8_t *dot = v.len ? memchr(v.ptr, '.', v.len) : NULL;

	if(!dot || v.len > 16) return false;
	return all_digits(v.ptr, (size_t)(dot - v.ptr)) &&
		all_digits(dot + 1, v.len - (size_t)(dot - v.ptr) - 1);
}

static bool printable_ascii(struct lwm2m_view v)
{
	for(size_t i = 0; i < v.len; i++){
		if(v.ptr[i] < 0x21 || v.ptr[i] > 0x7e) return false;
	}
	return true;
}

static char transport_letter(const struct coap_reg_state *s)
{
	return s->transport ? s->transport : 'U';
}

static int check_transport(const struct coap_reg_state *s, struct lwm2m_error *err)
{
	char t = transport_letter(s);

	if(t != 'U' && t != 'T'){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "b: transport must be U or T");
	}
	return 0;
}

static int check_sms(struct lwm2m_view v, struct lwm2m_error *err)
{
	if(v.len > 15 || !all_digits(v.ptr, v.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "sms: not 1..15 digits");
	}
	return 0;
}

static int check_pid(struct lwm2m_view v, struct lwm2m_error *err)
{
	if(v.len > OPTION_VALUE_MAX - 4 || !printable_ascii(v)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "pid: not 1..251 printable characters");
	}
	return 0;
}

/* Append "name=value\0" (value NULL: "name\0"). */
static int add_query(struct lwm2m_buf *out, size_t *count, const char *name,
	const uint8_t *value, size_t len)
{
	int rc = buf_append(out, name, strlen(name));

	if(!rc && value){
		rc = buf_append_byte(out, '=');
		if(!rc) rc = buf_append(out, value, len);
	}
	if(!rc) rc = buf_append_byte(out, '\0');
	if(!rc) (*count)++;
	return rc;
}

static int add_query_uint(struct lwm2m_buf *out, size_t *count, const char *name, uint64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)v);

	return add_query(out, count, name, (const uint8_t *)text, (size_t)n);
}

/* b (and Q): 1.0 writes queue mode into b, later versions use the Q parameter. */
static int add_binding(const struct coap_reg_state *s, struct lwm2m_buf *out, size_t *count)
{
	uint8_t b[2] = { (uint8_t)transport_letter(s), 'Q' };
	bool v10 = view_is(s->version, "1.0");
	int rc = add_query(out, count, "b", b, s->queue && v10 ? 2 : 1);

	if(!rc && s->queue && !v10) rc = add_query(out, count, "Q", NULL, 0);
	return rc;
}

static bool same_view(struct lwm2m_view a, struct lwm2m_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int query_done(struct lwm2m_buf *out, size_t start, int rc, struct lwm2m_error *err)
{
	if(rc){
		out->len = start;
		return lwm2m_fail(err, rc, -1, "query list: %s", lwm2m_strerror(rc));
	}
	return 0;
}

int coap_codec_register_query(const struct coap_reg_state *s, struct lwm2m_buf *out,
	size_t *count, struct lwm2m_error *err)
{
	size_t start = out->len;
	int rc;

	*count = 0;
	if(s->ep.len == 0 || s->ep.len > OPTION_VALUE_MAX - 3 || !utf8_text(s->ep.ptr, s->ep.len)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
			"ep: not 1..252 bytes of UTF-8 without control characters");
	}
	if(!version_valid(s->version)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "lwm2m: version is not major.minor");
	}
	rc = check_transport(s, err);
	if(!rc && s->sms.len) rc = check_sms(s->sms, err);
	if(!rc && s->pid.len) rc = check_pid(s->pid, err);
	if(rc) return rc;
	rc = add_query(out, count, "ep", s->ep.ptr, s->ep.len);
	if(!rc) rc = add_query_uint(out, count, "lt", s->lifetime);
	if(!rc) rc = add_query(out, count, "lwm2m", s->version.ptr, s->version.len);
	if(!rc) rc = add_binding(s, out, count);
	if(!rc && s->sms.len) rc = add_query(out, count, "sms", s->sms.ptr, s->sms.len);
	if(!rc && s->pid.len) rc = add_query(out, count, "pid", s->pid.ptr, s->pid.len);
	if(rc) *count = 0;
	return query_done(out, start, rc, err);
}

int coap_codec_update_query(const struct coap_reg_state *old, const struct coap_reg_state *now,
	struct lwm2m_buf *out, size_t *count, struct lwm2m_error *err)
{
	size_t start = out->len;
	bool sms = now->sms.len && !same_view(now->sms, old->sms);
	bool pid = now->pid.len && !same_view(now->pid, old->pid);
	bool b = transport_letter(now) != transport_letter(old) || now->queue != old->queue;
	int rc = 0;

	*count = 0;
	if(b) rc = check_transport(now, err);
	if(!rc && sms) rc = check_sms(now->sms, err);
	if(!rc && pid) rc = check_pid(now->pid, err);
	if(rc) return rc;
	if(now->lifetime != old->lifetime) rc = add_query_uint(out, count, "lt", now->lifetime);
	if(!rc && b) rc = add_binding(now, out, count);
	if(!rc && sms) rc = add_query(out, count, "sms", now->sms.ptr, now->sms.len);
	if(!rc && pid) rc = add_query(out, count, "pid", now->pid.ptr, now->pid.len);
	if(rc) *count = 0;
	return query_done(out, start, rc, err);
}

const char *coap_codec_query_next(const struct lwm2m_buf *q, size_t *pos)
{
	const char *s;
	const uint8_t *nul;

	if(*pos >= q->len) return NULL;
	s = (const char *)q->data + *pos;
	nul = memchr(q->data + *pos, '\0', q->len - *pos);
	*pos = nul ? (size_t)(nul - q->data) + 1 : q->len;
	return s;
}

void coap_codec_reg_state_apply(struct coap_reg_state *s, const struct lwm2m_op *op)
{
	uint32_t f = op->fields;
	bool q_in_b = (f & LWM2M_F_BINDING) && op->binding.len &&
		memchr(op->binding.ptr, 'Q', op->binding.len);
	struct lwm2m_view none = { (const uint8_t *)"", 0 };

	if(op->kind == LWM2M_OP_REGISTER){
		if(f & LWM2M_F_EP) s->ep = op->ep;
		s->lifetime = (f & LWM2M_F_LIFETIME) ? op->lifetime : 0;
		s->version = (f & LWM2M_F_VERSION) ? op->version : none;
		s->queue = (f & LWM2M_F_QUEUE) || q_in_b;
		s->sms = (f & LWM2M_F_SMS) ? op->sms : none;
		s->pid = (f & LWM2M_F_PID) ? op->pid : none;
		return;
	}
	if(op->kind != LWM2M_OP_UPDATE) return;
	if(f & LWM2M_F_LIFETIME) s->lifetime = op->lifetime;
	if(f & LWM2M_F_BINDING) s->queue = (f & LWM2M_F_QUEUE) || q_in_b;
	else if(f & LWM2M_F_QUEUE) s->queue = true;
	if(f & LWM2M_F_SMS) s->sms = op->sms;
	if(f & LWM2M_F_PID) s->pid = op->pid;
}

/* ========================================================== link filter ========= */

/* The objects whose links never go to a server. */
static bool hidden_object(uint16_t obj)
{
	return obj == 0 || obj == 21 || obj == 23 || obj == 24;
}

static int hex_value(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* uri with %-escapes decoded into out (strlen(uri) + 1 bytes); returns the length. */
static size_t percent_decode(const char *uri, char *out)
{
	size_t k = 0;

	for(size_t i = 0; uri[i]; i++){
		int hi = uri[i] == '%' ? hex_value(uri[i + 1]) : -1;
		int lo = hi >= 0 ? hex_value(uri[i + 2]) : -1;
		if(lo >= 0){
			out[k++] = (char)(hi * 16 + lo);
			i += 2;
		}else{
			out[k++] = uri[i];
		}
	}
	out[k] = '\0';
	return k;
}

/* The root link: it names the client itself (and its alternate path), never an object. */
static bool is_root_link(const struct lf_link *l)
{
	const char *rt = lf_attr_get(l, "rt", NULL);
	return l->bare || strcmp(l->uri, "/") == 0 || (rt && strcmp(rt, "oma.lwm2m") == 0);
}

/* Whether the link names a hidden object, directly or under the alternate path:
 * 1 yes, 0 no, negative on allocation failure. */
static int link_hidden(const struct lf_link *l, const char *alt, size_t alt_len)
{
	char *text;
	const char *p;
	size_t n;
	struct lwm2m_path path;
	int hidden;

	if(is_root_link(l)) return 0;
	text = malloc(strlen(l->uri) + 1);
	if(!text) return -LWM2M_ENOMEM;
	n = percent_decode(l->uri, text);
	p = text;
	if(alt_len && n > alt_len && memcmp(text, alt, alt_len) == 0 && text[alt_len] == '/'){
		p = text + alt_len;
		n -= alt_len;
	}
	hidden = path_parse(p, n, &path, NULL) == 0 && path.len > 0 && hidden_object(path.ids[0]);
	free(text);
	return hidden;
}

/* The alternate path of the root link (rt="oma.lwm2m"), without trailing '/'; "" = none. */
static const char *links_alt_path(const struct lf_links *links, size_t *len)
{
	for(size_t i = 0; i < links->count; i++){
		const char *rt = lf_attr_get(&links->items[i], "rt", NULL);
		if(rt && strcmp(rt, "oma.lwm2m") == 0){
			const char *u = links->items[i].uri;
			*len = strlen(u);
			while(*len && u[*len - 1] == '/') (*len)--;
			return u;
		}
	}
	*len = 0;
	return "";
}

/* Start and end of the next link's text at s[*pos], advancing past its separator. Only
 * a ',' outside the "<...>" URI and outside quoted values separates links (lf_parse has
 * accepted the text, so unquoted values hold no ',' and no '"'). Inside a quoted value a
 * backslash takes the next byte with it, whatever it is, as lf_parse reads it. */
static void next_element(const char *s, size_t len, size_t *pos, size_t *start, size_t *end)
{
	size_t i = *pos;
	bool quoted = false;

	while(i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
	*start = i;
	if(i < len && s[i] == '<'){
		while(i < len && s[i] != '>') i++;
	}
	for(; i < len; i++){
		if(quoted){
			if(s[i] == '\\' && i + 1 < len) i++;
			else if(s[i] == '"') quoted = false;
		}else if(s[i] == '"'){
			quoted = true;
		}else if(s[i] == ','){
			break;
		}
	}
	*end = i;
	*pos = i < len ? i + 1 : len;
}

static int filter_into(const char *links, size_t len, const struct lf_links *parsed,
	struct lwm2m_buf *out)
{
	size_t pos = 0, alt_len, start, end;
	const char *alt = links_alt_path(parsed, &alt_len);
	bool first = true;
	int rc = 0;

	for(size_t i = 0; i < parsed->count && !rc; i++){
		int hidden;

		next_element(links, len, &pos, &start, &end);
		hidden = link_hidden(&parsed->items[i], alt, alt_len);
		if(hidden < 0) return hidden;
		if(hidden) continue;
		if(!first) rc = buf_append_byte(out, ',');
		if(!rc) rc = buf_append(out, links + start, end - start);
		first = false;
	}
	if(!rc) rc = buf_reserve(out, 1);
	if(!rc) out->data[out->len] = '\0';
	return rc;
}

int coap_codec_filter_links(const char *links, size_t len, struct lwm2m_buf *out,
	struct lwm2m_error *err)
{
	struct lf_links parsed;
	size_t start = out->len;
	int rc;

	if(len && !links) return lwm2m_fail(err, LWM2M_EINVAL, -1, "links: no text");
	rc = lf_parse(links ? links : "", len, NULL, &parsed, err);
	if(rc) return rc;
	rc = filter_into(links, len, &parsed, out);
	lf_links_free(&parsed);
	if(rc){
		out->len = start;
		return lwm2m_fail(err, rc, -1, "links: %s", lwm2m_strerror(rc));
	}
	return 0;
}

/* ============================================================ location ========== */

/* RFC 3986 pchar without '%': unreserved, sub-delims, ':' and '@'. */
static bool is_segment_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}

static const char *segment_problem(const uint8_t *p, size_t n)
{
	if(n == 0) return "is empty";
	if(n > OPTION_VALUE_MAX) return "is longer than 255 bytes";
	if((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return "is a dot segment";
	for(size_t i = 0; i < n; i++){
		if(!is_segment_char(p[i])) return "has a character outside RFC 3986 pchar";
	}
	return NULL;
}

int coap_codec_parse_location(const struct coap_msg *m, char *out, size_t size,
	struct lwm2m_error *err)
{
	size_t n = 0, k = 0;
	const char *why;
	char shown[40];

	if(!out || size == 0) return lwm2m_fail(err, LWM2M_ETOOBIG, -1, "location: no room");
	out[0] = '\0';
	for(size_t i = 0; i < m->n_opts && i < COAP_CODEC_MAX_OPTS; i++){
		const struct coap_opt_view *o = &m->opts[i];
		if(o->number == COAP_CODEC_OPT_LOCATION_QUERY){
			out[0] = '\0';
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: Location-Query is not supported");
		}
		if(o->number != COAP_CODEC_OPT_LOCATION_PATH) continue;
		why = o->value.len && !o->value.ptr ? "has no data" : segment_problem(o->value.ptr, o->value.len);
		if(why){
			out[0] = '\0';
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: segment %zu \"%s\" %s", n + 1,
				o->value.ptr ? printable(o->value.ptr, o->value.len, shown) : "", why);
		}
		if(++n > COAP_CODEC_LOCATION_MAX_SEGS){
			out[0] = '\0';
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: more than %d segments",
				COAP_CODEC_LOCATION_MAX_SEGS);
		}
		if(k + (n > 1) + o->value.len + 1 > size){
			out[0] = '\0';
			return lwm2m_fail(err, LWM2M_ETOOBIG, -1, "location: longer than %zu bytes", size - 1);
		}
		if(n > 1) out[k++] = '/';
		memcpy(out + k, o->value.ptr, o->value.len);
		k += o->value.len;
		out[k] = '\0';
	}
	if(n == 0) return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: no Location-Path option");
	return 0;
}

/* ========================================================= request building ===== */

/* Options whose values are appended to storage get their pointers once storage stops
 * growing. */
struct builder {
	struct coap_msg *m;
	struct lwm2m_buf *st;
	size_t start;
	bool stored[COAP_CODEC_MAX_OPTS];
	size_t off[COAP_CODEC_MAX_OPTS];
	bool payload_stored;
	size_t payload_off;
};

static void builder_init(struct builder *b, struct coap_msg *m, struct lwm2m_buf *st, uint8_t code)
{
	memset(b, 0, sizeof(*b));
	memset(m, 0, sizeof(*m));
	b->m = m;
	b->st = st;
	b->start = st->len;
	m->code = code;
}

static int add_const(struct builder *b, uint16_t number, const char *value)
{
	return coap_codec_add_opt(b->m, number, op_view_str(value));
}

static int add_stored(struct builder *b, uint16_t number, const void *p, size_t n)
{
	size_t at = b->st->len, i = b->m->n_opts;
	struct lwm2m_view none = { NULL, n };
	int rc = coap_codec_add_opt(b->m, number, none);

	if(!rc) rc = buf_append(b->st, p, n);
	if(rc) return rc;
	b->stored[i] = true;
	b->off[i] = at;
	return 0;
}

static int add_cf(struct builder *b, uint16_t cf)
{
	uint8_t v[4];
	return add_stored(b, COAP_CODEC_OPT_CONTENT_FORMAT, v, coap_codec_uint_bytes(cf, v));
}

/* Uri-Path options from "rd/5a3f" (a leading '/' tolerated). */
static int add_location(struct builder *b, const char *location, struct lwm2m_error *err)
{
	const char *p = location, *why;
	size_t n = 0;
	int rc;

	if(!p) return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: none");
	if(*p == '/') p++;
	do{
		size_t len = strcspn(p, "/");
		why = segment_problem((const uint8_t *)p, len);
		if(why) return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: segment %zu %s", n + 1, why);
		if(++n > COAP_CODEC_LOCATION_MAX_SEGS){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "location: more than %d segments",
				COAP_CODEC_LOCATION_MAX_SEGS);
		}
		rc = add_stored(b, COAP_CODEC_OPT_URI_PATH, p, len);
		if(rc) return lwm2m_fail(err, rc, -1, "location: %s", lwm2m_strerror(rc));
		p += len;
	}while(*p++ == '/');
	return 0;
}

/* Uri-Query options from a query list in storage[from..). */
static int add_queries(struct builder *b, size_t from, size_t count)
{
	size_t pos = from;

	for(size_t i = 0; i < count; i++){
		const char *q = (const char *)b->st->data + pos;
		size_t n = strlen(q), at = b->m->n_opts;
		struct lwm2m_view none = { NULL, n };
		int rc = coap_codec_add_opt(b->m, COAP_CODEC_OPT_URI_QUERY, none);
		if(rc) return rc;
		b->stored[at] = true;
		b->off[at] = pos;
		pos += n + 1;
	}
	return 0;
}

/* A filtered object list as the payload (Content-Format 40 when not empty). */
static int add_links(struct builder *b, const char *links, size_t len, struct lwm2m_error *err)
{
	size_t at = b->st->len;
	int rc = coap_codec_filter_links(links, len, b->st, err);

	if(rc) return rc;
	b->payload_stored = true;
	b->payload_off = at;
	b->m->payload.len = b->st->len - at;
	if(b->m->payload.len == 0) return 0;
	rc = add_cf(b, LWM2M_CF_LINK);
	return rc ? lwm2m_fail(err, rc, -1, "request: %s", lwm2m_strerror(rc)) : 0;
}

static int builder_done(struct builder *b, int rc, struct lwm2m_error *err)
{
	if(rc){
		b->st->len = b->start;
		memset(b->m, 0, sizeof(*b->m));
		if(err && err->code == 0) lwm2m_fail(err, rc, -1, "request: %s", lwm2m_strerror(rc));
		return rc < 0 ? rc : -rc;
	}
	for(size_t i = 0; i < b->m->n_opts; i++){
		if(b->stored[i]) b->m->opts[i].value.ptr = b->st->data + b->off[i];
	}
	if(b->payload_stored) b->m->payload.ptr = b->st->data + b->payload_off;
	if(!b->m->payload.ptr) b->m->payload.ptr = (const uint8_t *)"";
	return 0;
}

/* The options of a request in ascending number: Uri-Path, Content-Format, Uri-Query. The
 * query list goes into storage first, options point at it afterwards. */
int coap_codec_register_msg(const struct coap_reg_state *s, const char *links, size_t len,
	struct coap_msg *m, struct lwm2m_buf *storage, struct lwm2m_error *err)
{
	struct builder b;
	size_t qfrom, count;
	int rc;

	if(err) err->code = 0;
	builder_init(&b, m, storage, COAP_CODEC_POST);
	rc = add_const(&b, COAP_CODEC_OPT_URI_PATH, "rd");
	if(!rc) rc = add_links(&b, links, len, err);
	qfrom = storage->len;
	if(!rc) rc = coap_codec_register_query(s, storage, &count, err);
	if(!rc) rc = add_queries(&b, qfrom, count);
	return builder_done(&b, rc, err);
}

int coap_codec_update_msg(const char *location, const struct coap_reg_state *old,
	const struct coap_reg_state *now, const char *links, size_t len, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err)
{
	struct builder b;
	size_t qfrom, count;
	int rc;

	if(err) err->code = 0;
	builder_init(&b, m, storage, COAP_CODEC_POST);
	rc = add_location(&b, location, err);
	if(!rc && links) rc = add_links(&b, links, len, err);
	qfrom = storage->len;
	if(!rc) rc = coap_codec_update_query(old, now, storage, &count, err);
	if(!rc) rc = add_queries(&b, qfrom, count);
	return builder_done(&b, rc, err);
}

int coap_codec_deregister_msg(const char *location, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err)
{
	struct builder b;

	if(err) err->code = 0;
	builder_init(&b, m, storage, COAP_CODEC_DELETE);
	return builder_done(&b, add_location(&b, location, err), err);
}

int coap_codec_send_msg(const struct lwm2m_op *send, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err)
{
	struct builder b;
	int rc;

	if(err) err->code = 0;
	builder_init(&b, m, storage, COAP_CODEC_POST);
	if(send->kind != LWM2M_OP_SEND || send->is_response){
		rc = lwm2m_fail(err, LWM2M_EINVAL, -1, "%s is not a Send", op_kind_name(send->kind));
	}else if(!(send->fields & LWM2M_F_PAYLOAD) || !(send->fields & LWM2M_F_CT)){
		rc = lwm2m_fail(err, LWM2M_EINVAL, -1, "Send needs a payload and a content format");
	}else if(!CF_IN(send->content_format, send_cfs)){
		rc = lwm2m_fail(err, LWM2M_ENOTSUP, -1,
			"Send: content format %u (%s) is not LwM2M CBOR, SenML CBOR or SenML JSON",
			send->content_format, cf_label(send->content_format));
	}else{
		rc = add_const(&b, COAP_CODEC_OPT_URI_PATH, "dp");
		if(!rc) rc = add_cf(&b, send->content_format);
		b.m->payload = send->payload;
	}
	return builder_done(&b, rc, err);
}
