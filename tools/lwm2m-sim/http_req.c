/* The device's side of the HTTP binding (see http_req.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_req.h"
#include "objects/attributes.h"
#include "objects/fmt.h"
#include "objects/path.h"

/* ---- small text helpers ---- */

static bool blank(const char *s)
{
	if(!s) return true;
	while(*s == ' ' || *s == '\t') s++;
	return *s == '\0';
}

static bool is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Fail (rc from lwm2m_fail) with the HTTP status the caller must answer. */
static int refuse(uint16_t *status, uint16_t http, int rc)
{
	*status = http;
	return rc;
}

/* ---- Accept ---- */

/* q of one Accept item's parameters (text after the media range), in thousandths; -1 when
 * malformed, 1000 when absent. */
static int item_q(const char *p, size_t n)
{
	size_t i = 0;

	while(i < n){
		size_t start, k;
		int q;

		while(i < n && (p[i] == ';' || p[i] == ' ' || p[i] == '\t')) i++;
		start = i;
		while(i < n && p[i] != ';') i++;
		if(i - start < 2 || (p[start] != 'q' && p[start] != 'Q') || p[start + 1] != '=') continue;
		k = start + 2;
		if(k >= i || (p[k] != '0' && p[k] != '1')) return -1;
		q = (p[k++] - '0') * 1000;
		if(k < i && p[k] == '.'){
			int scale = 100;
			for(k++; k < i && p[k] >= '0' && p[k] <= '9' && scale > 0; k++, scale /= 10){
				q += (p[k] - '0') * scale;
			}
		}
		while(k < i && (p[k] == ' ' || p[k] == '\t')) k++;
		return k == i && q <= 1000 ? q : -1;
	}
	return 1000;
}

/* Content format of one media range: -1 = any, -2 = not one of ours. */
static int item_cf(const char *p, size_t n)
{
	char mt[80];
	int cf = -1;

	while(n > 0 && (*p == ' ' || *p == '\t')){
		p++;
		n--;
	}
	while(n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
	if(n == 0 || n >= sizeof(mt)) return -2;
	memcpy(mt, p, n);
	mt[n] = '\0';
	if(!strcasecmp(mt, "*/*") || !strcasecmp(mt, "application/*")) return -1;
	if(!strcasecmp(mt, "text/*")) return LWM2M_CF_TEXT;
	cf = http_codec_cf_from_content_type(mt);
	return cf >= 0 ? cf : -2;
}

int simh_accept(const char *accept, int *cf)
{
	int best_q = 0, best_cf = -2;
	const char *p = accept;

	*cf = -1;
	if(blank(accept)) return 0;
	while(*p){
		size_t item = strcspn(p, ",");
		const char *semi = memchr(p, ';', item);
		size_t range = semi ? (size_t)(semi - p) : item;
		int q = semi ? item_q(semi, item - range) : 1000;
		int this_cf = item_cf(p, range);

		if(this_cf != -2 && q > best_q){
			best_q = q;
			best_cf = this_cf;
		}
		p += item;
		if(*p == ',') p++;
	}
	if(best_cf == -2) return -LWM2M_ENOTSUP;
	*cf = best_cf;
	return 0;
}

/* ---- requests ---- */

static bool has_query(const struct simh_request *req)
{
	return req->query && req->query[0];
}

static bool has_body(const struct simh_request *req)
{
	return req->body_len > 0;
}

static void set_payload(const struct simh_request *req, struct lwm2m_op *op, int cf)
{
	op->payload.ptr = req->body;
	op->payload.len = req->body_len;
	op->content_format = (uint16_t)cf;
	op->fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
}

/* The body's content format: 415 when its Content-Type is missing or not ours. */
static int body_format(const struct simh_request *req, uint16_t *status, struct lwm2m_error *err,
		int *cf)
{
	if(blank(req->content_type)){
		return refuse(status, 415, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"%s: a body needs a Content-Type", req->method));
	}
	*cf = http_codec_cf_from_content_type(req->content_type);
	if(*cf < 0){
		return refuse(status, 415, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"unknown Content-Type '%.60s'", req->content_type));
	}
	return 0;
}

/* Path levels each operation may target (the codec's downlink rules). */
static int check_level(enum lwm2m_op_kind kind, const struct lwm2m_path *p, uint16_t *status,
		struct lwm2m_error *err)
{
	unsigned lo = 1, hi = 4;

	switch(kind){
		case LWM2M_OP_DISCOVER: hi = 3; break;
		case LWM2M_OP_WRITE: lo = 2; break;
		case LWM2M_OP_WRITE_PARTIAL: lo = 2; hi = 3; break;
		case LWM2M_OP_EXECUTE: lo = hi = 3; break;
		case LWM2M_OP_CREATE: hi = 1; break;
		case LWM2M_OP_DELETE: lo = 2; break;
		default: break;
	}
	if(p->len >= lo && p->len <= hi && !(kind == LWM2M_OP_DELETE && p->len == 3)) return 0;
	return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
			"%s cannot target a path of %u level(s)", op_kind_name(kind), p->len));
}

/* "depth=N", N in 0..3: the only query a Discover takes. */
static int discover_depth(const char *q, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err)
{
	if(!q || !q[0]) return 0;
	if(strncmp(q, "depth=", 6) != 0 || q[6] < '0' || q[6] > '3' || q[7]){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
				"Discover takes only depth=0..3, not '%.40s'", q));
	}
	op->depth = (uint8_t)(q[6] - '0');
	op->fields |= LWM2M_F_DEPTH;
	return 0;
}

static int no_such(uint16_t *status, struct lwm2m_error *err, const char *what, const char *op)
{
	return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1, "%s takes no %s", op, what));
}

static int decode_get(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err)
{
	int cf = -1;

	if(has_body(req)) return no_such(status, err, "body", "GET");
	if(simh_accept(req->accept, &cf) != 0){
		return refuse(status, 406, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"Accept '%.60s' names no format of this device", req->accept));
	}
	if(cf == LWM2M_CF_LINK){
		op->kind = LWM2M_OP_DISCOVER;
		return discover_depth(req->query, op, status, err);
	}
	op->kind = LWM2M_OP_READ;
	if(has_query(req)) return no_such(status, err, "query", "Read");
	if(cf >= 0){
		op->content_format = (uint16_t)cf;
		op->fields |= LWM2M_F_CT;
	}
	return 0;
}

static int decode_put(const struct simh_request *req, const struct lwm2m_path *p,
		struct lwm2m_op *op, uint16_t *status, struct lwm2m_error *err)
{
	int rc, cf = -1;

	if(has_body(req)){
		op->kind = LWM2M_OP_WRITE;
		if(has_query(req)) return no_such(status, err, "query", "Write");
		rc = body_format(req, status, err, &cf);
		if(!rc) set_payload(req, op, cf);
		return rc;
	}
	op->kind = LWM2M_OP_WRITE_ATTRIBUTES;
	if(!has_query(req)){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
				"PUT without a body or attributes"));
	}
	rc = attr_parse_query_raw(req->query, strlen(req->query), &op->attrs, err);
	if(!rc) rc = attr_validate_level(&op->attrs, p, err);
	if(rc) return refuse(status, 400, rc);
	op->fields |= LWM2M_F_ATTRS;
	return 0;
}

static int decode_post(const struct simh_request *req, const struct lwm2m_path *p,
		struct lwm2m_op *op, uint16_t *status, struct lwm2m_error *err)
{
	int cf = -1;

	if(has_query(req)) return no_such(status, err, "query", "POST");
	if(p->len == 3){
		/* Execute arguments are text; a body of another type is data for a
		 * multi-instance resource (partial update) */
		cf = blank(req->content_type) ? LWM2M_CF_TEXT
			: http_codec_cf_from_content_type(req->content_type);
		if(!has_body(req) || cf == LWM2M_CF_TEXT){
			op->kind = LWM2M_OP_EXECUTE;
			if(has_body(req)) set_payload(req, op, LWM2M_CF_TEXT);
			return 0;
		}
	}
	op->kind = p->len == 1 ? LWM2M_OP_CREATE : LWM2M_OP_WRITE_PARTIAL;
	if(p->len == 0 || p->len == 4){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
				"POST cannot target a path of %u level(s)", p->len));
	}
	if(!has_body(req)){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1, "%s needs a body",
				op_kind_name(op->kind)));
	}
	if(body_format(req, status, err, &cf) != 0) return -LWM2M_ENOTSUP;
	set_payload(req, op, cf);
	return 0;
}

static int decode_delete(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err)
{
	op->kind = LWM2M_OP_DELETE;
	if(has_body(req)) return no_such(status, err, "body", "Delete");
	if(has_query(req)) return no_such(status, err, "query", "Delete");
	return 0;
}

int simh_decode(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err)
{
	struct lwm2m_path p;
	const char *path;
	int rc;

	op_init(op);
	*status = 400;
	if(!req || !req->method || !req->path || (req->body_len && !req->body)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "incomplete request");
	}
	path = req->path[0] ? req->path : "/";
	if(path[0] != '/' || path_parse(path, strlen(path), &p, NULL) != 0){
		return refuse(status, 404, lwm2m_fail(err, LWM2M_ENOENT, -1,
				"'%.60s' is not an LwM2M path", path));
	}
	op->uri = op_view_str(path);
	op->fields = LWM2M_F_URI;
	if(!strcmp(req->method, "GET")) rc = decode_get(req, op, status, err);
	else if(!strcmp(req->method, "PUT")) rc = decode_put(req, &p, op, status, err);
	else if(!strcmp(req->method, "POST")) rc = decode_post(req, &p, op, status, err);
	else if(!strcmp(req->method, "DELETE")) rc = decode_delete(req, op, status, err);
	else{
		return refuse(status, 405, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"method %.20s is not one LwM2M uses", req->method));
	}
	if(!rc) rc = check_level(op->kind, &p, status, err);
	return rc;
}

/* ---- the Bootstrap-Server's requests ---- */

static int bs_level(const struct lwm2m_op *op, const struct lwm2m_path *p, unsigned lo, unsigned hi,
		uint16_t *status, struct lwm2m_error *err)
{
	if(p->len >= lo && p->len <= hi) return 0;
	return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
			"%s cannot target a path of %u level(s)", op_kind_name(op->kind), p->len));
}

static int bs_get(const struct simh_request *req, const struct lwm2m_path *p, struct lwm2m_op *op,
		uint16_t *status, struct lwm2m_error *err)
{
	int cf = -1;

	if(has_body(req)) return no_such(status, err, "body", "GET");
	if(simh_accept(req->accept, &cf) != 0){
		return refuse(status, 406, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"Accept '%.60s' names no format of this device", req->accept));
	}
	op->kind = cf == LWM2M_CF_LINK ? LWM2M_OP_BOOTSTRAP_DISCOVER : LWM2M_OP_BOOTSTRAP_READ;
	if(has_query(req)) return no_such(status, err, "query", op_kind_name(op->kind));
	if(op->kind == LWM2M_OP_BOOTSTRAP_DISCOVER) return bs_level(op, p, 0, 1, status, err);
	if(cf >= 0){
		/* the format asked for is the one the answer should come in */
		op->pct = (uint16_t)cf;
		op->fields |= LWM2M_F_PCT;
	}
	return bs_level(op, p, 1, 2, status, err);
}

static int bs_put(const struct simh_request *req, const struct lwm2m_path *p, struct lwm2m_op *op,
		uint16_t *status, struct lwm2m_error *err)
{
	int rc, cf = -1;

	op->kind = LWM2M_OP_BOOTSTRAP_WRITE;
	if(has_query(req)) return no_such(status, err, "query", "Bootstrap-Write");
	if(!has_body(req)){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1, "Bootstrap-Write needs a body"));
	}
	rc = body_format(req, status, err, &cf);
	if(!rc) set_payload(req, op, cf);
	return rc ? rc : bs_level(op, p, 1, 3, status, err);
}

int simh_decode_bs(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err)
{
	struct lwm2m_path p;
	const char *path;

	op_init(op);
	*status = 400;
	if(!req || !req->method || !req->path || (req->body_len && !req->body)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "incomplete request");
	}
	path = req->path[0] ? req->path : "/";
	if(!strcmp(req->method, "POST") && !strcmp(path, "/bs")){
		op->kind = LWM2M_OP_BOOTSTRAP_FINISH;
		if(has_body(req)) return no_such(status, err, "body", "Bootstrap-Finish");
		if(has_query(req)) return no_such(status, err, "query", "Bootstrap-Finish");
		return 0;
	}
	if(path[0] != '/' || path_parse(path, strlen(path), &p, NULL) != 0){
		return refuse(status, 404, lwm2m_fail(err, LWM2M_ENOENT, -1,
				"'%.60s' is not an LwM2M path", path));
	}
	op->uri = op_view_str(path);
	op->fields = LWM2M_F_URI;
	if(!strcmp(req->method, "GET")) return bs_get(req, &p, op, status, err);
	if(!strcmp(req->method, "PUT")) return bs_put(req, &p, op, status, err);
	if(!strcmp(req->method, "DELETE")){
		op->kind = LWM2M_OP_BOOTSTRAP_DELETE;
		if(has_body(req)) return no_such(status, err, "body", "Bootstrap-Delete");
		if(has_query(req)) return no_such(status, err, "query", "Bootstrap-Delete");
		return bs_level(op, &p, 0, 2, status, err);
	}
	if(!strcmp(req->method, "POST")){
		return refuse(status, 400, lwm2m_fail(err, LWM2M_EINVAL, -1,
				"a bootstrapping device takes POST only as Bootstrap-Finish (/bs)"));
	}
	return refuse(status, 405, lwm2m_fail(err, LWM2M_ENOTSUP, -1,
			"method %.20s is not one LwM2M uses", req->method));
}

/* ---- URLs and answers ---- */

int simh_split(const char *path, struct lwm2m_view *ep, const char **rest)
{
	const char *seg;
	size_t n;

	if(!path || path[0] != '/') return -LWM2M_ENOENT;
	seg = strchr(path, '/') + 1;
	n = strcspn(seg, "/");
	if(n == 0) return -LWM2M_ENOENT;
	ep->ptr = (const uint8_t *)seg;
	ep->len = n;
	*rest = seg + n;
	return 0;
}

uint16_t simh_uplink_result(enum lwm2m_op_kind kind, long http_status)
{
	long c = http_status / 100, dd = http_status % 100;

	if(http_status < 200 || http_status > 599 || c == 3) return 0;
	if(c == 2) return op_success_result(kind);
	return (uint16_t)(dd > 31 ? c * 100 : http_status);
}

int simh_location_reg_id(const char *location, char out[HTTP_CODEC_REG_ID_LEN + 1])
{
	size_t end, id_at;

	if(!location) return -LWM2M_EINVAL;
	end = strcspn(location, "?#");
	while(end > 0 && (location[end - 1] == ' ' || location[end - 1] == '\t')) end--;
	if(end < 4 + HTTP_CODEC_REG_ID_LEN) return -LWM2M_EINVAL;
	id_at = end - HTTP_CODEC_REG_ID_LEN;
	if(memcmp(location + id_at - 4, "/rd/", 4) != 0) return -LWM2M_EINVAL;
	for(size_t i = id_at; i < end; i++){
		if(!is_hex_lower(location[i])) return -LWM2M_EINVAL;
	}
	memcpy(out, location + id_at, HTTP_CODEC_REG_ID_LEN);
	out[HTTP_CODEC_REG_ID_LEN] = '\0';
	return 0;
}

int simh_append_segment(struct lwm2m_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for(const uint8_t *p = (const uint8_t *)s; !rc && *p; p++){
		uint8_t c = *p;
		bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
			|| c == '-' || c == '.' || c == '_' || c == '~';
		if(keep){
			rc = buf_append_byte(b, c);
		}else{
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}
