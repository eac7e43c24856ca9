/* Registration interface (POST /rd, POST /rd/<id>, DELETE /rd/<id>) and Send (POST /dp).
 *
 * Everything arrives at libcoap's unknown-resource handler, so that /rd/<id> needs no
 * resource per registration. Request bodies in Block1 blocks (RFC 7959) are put together
 * here, libcoap's block handling being off (see block.c): every block but the last is
 * answered 2.31 Continue with its Block1 option echoed, the last one by the operation's
 * answer (with Block1 M=0 when 2.xx); a block that does not follow the previous one gets
 * 4.08 Request Entity Incomplete, a body over INBOUND_MAX_BYTES 4.13. */
#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PATH_SEGMENTS_MAX 4
#define PATH_SEGMENT_MAX 64
#define DEFAULT_LIFETIME_S 86400ul
#define INBOUND_STALE_MS 60000u
#define INBOUND_MAX_BYTES (16u << 20)

struct uri_path {
	size_t count;
	int unusable;                /* too many or too long segments */
	char seg[PATH_SEGMENTS_MAX][PATH_SEGMENT_MAX];
};

enum collect { COLLECT_DONE, COLLECT_MORE, COLLECT_FAILED, COLLECT_TOO_LARGE };

static void read_path(const coap_pdu_t *pdu, struct uri_path *path)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	memset(path, 0, sizeof(*path));
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL){
		if(it.number != COAP_OPTION_URI_PATH){
			continue;
		}
		size_t len = coap_opt_length(opt);
		if(path->count == PATH_SEGMENTS_MAX || len >= PATH_SEGMENT_MAX){
			path->unusable = 1;
			return;
		}
		memcpy(path->seg[path->count], coap_opt_value(opt), len);
		path->seg[path->count][len] = '\0';
		path->count++;
	}
}

/* Every Uri-Query as key -> value ("" for a key without '='); a later key wins. */
static json_t *read_query(const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	json_t *q = json_object();
	if(!q){
		return NULL;
	}
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL){
		if(it.number != COAP_OPTION_URI_QUERY){
			continue;
		}
		const char *v = (const char *)coap_opt_value(opt);
		size_t len = coap_opt_length(opt);
		const char *eq = memchr(v, '=', len);
		size_t klen = eq ? (size_t)(eq - v) : len;
		char key[256];
		if(klen >= sizeof(key)){
			continue;
		}
		memcpy(key, v, klen);
		key[klen] = '\0';
		json_t *val = eq ? json_stringn(eq + 1, len - klen - 1) : json_string("");
		if(val){
			json_object_set_new(q, key, val);
		}
	}
	return q;
}

static int content_format(const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_CONTENT_FORMAT, &it);
	if(!opt){
		return -1;
	}
	return (int)coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
}

static void inbound_free(struct inbound *in)
{
	coap_session_release(in->session);
	free(in->key);
	free(in->data);
	free(in);
}

static struct inbound **inbound_slot(struct peer *p, coap_session_t *s, const char *key)
{
	struct inbound **slot = &p->inbound;
	while(*slot && !((*slot)->session == s && strcmp((*slot)->key, key) == 0)){
		slot = &(*slot)->next;
	}
	return slot;
}

static void inbound_drop(struct inbound **slot)
{
	struct inbound *in = *slot;
	*slot = in->next;
	inbound_free(in);
}

void inbound_free_all(struct peer *p)
{
	while(p->inbound){
		inbound_drop(&p->inbound);
	}
}

/* The whole request body, or MORE while Block1 blocks (b1, NULL: none) are still coming.
 * *body is owned by the caller on DONE (NULL when empty). */
static enum collect collect_body(struct peer *p, coap_session_t *s, const char *key,
	const coap_pdu_t *req, const struct block *b1, uint8_t **body, size_t *body_len)
{
	size_t len = 0;
	const uint8_t *data = NULL;
	*body = NULL;
	*body_len = 0;
	if(!coap_get_data(req, &len, &data)){
		len = 0;
	}
	struct inbound **slot = inbound_slot(p, s, key);
	size_t offset = b1 ? block_offset(b1) : 0;
	int last = !b1 || !b1->m;
	if(offset == 0 && last){
		if(*slot){
			inbound_drop(slot);
		}
		if(len){
			if(!(*body = malloc(len))){
				return COLLECT_FAILED;
			}
			memcpy(*body, data, len);
			*body_len = len;
		}
		return COLLECT_DONE;
	}
	if(offset + len > INBOUND_MAX_BYTES){
		if(*slot){
			inbound_drop(slot);
		}
		return COLLECT_TOO_LARGE;
	}
	if(offset == 0 && !*slot){
		struct inbound *in = calloc(1, sizeof(*in));
		if(!in || !(in->key = strdup(key))){
			free(in);
			return COLLECT_FAILED;
		}
		in->session = coap_session_reference(s);
		*slot = in;
	}
	struct inbound *in = *slot;
	if(in && offset <= in->len){    /* a block again (lost ACK), or the client started over */
		in->len = offset;
	}
	if(!in || offset != in->len || (!last && len != block_size(b1->szx))){
		if(in){
			inbound_drop(slot);
		}
		return COLLECT_FAILED;
	}
	uint8_t *grown = realloc(in->data, offset + len + 1);
	if(!grown){
		inbound_drop(slot);
		return COLLECT_FAILED;
	}
	in->data = grown;
	memcpy(in->data + offset, data, len);
	in->len = offset + len;
	in->expires_ms = now_ms() + INBOUND_STALE_MS;
	if(!last){
		return COLLECT_MORE;
	}
	*body = in->data;
	*body_len = in->len;
	in->data = NULL;
	inbound_drop(slot);
	return COLLECT_DONE;
}

static void free_registration(struct registration *r)
{
	coap_session_release(r->session);
	json_decref(r->query);
	free(r->links);
	free(r->ep);
	free(r);
}

static struct registration **find_slot_id(struct peer *p, const char *id)
{
	struct registration **slot = &p->regs;
	while(*slot && strcmp((*slot)->id, id) != 0){
		slot = &(*slot)->next;
	}
	return slot;
}

static struct registration **find_slot_ep(struct peer *p, const char *ep)
{
	struct registration **slot = &p->regs;
	while(*slot && strcmp((*slot)->ep, ep) != 0){
		slot = &(*slot)->next;
	}
	return slot;
}

struct registration *rd_find_ep(struct peer *p, const char *ep)
{
	return *find_slot_ep(p, ep);
}

static struct registration *find_session(struct peer *p, const coap_session_t *s)
{
	for(struct registration *r = p->regs; r; r = r->next){
		if(r->session == s){
			return r;
		}
	}
	return NULL;
}

static void unlink_free(struct registration **slot)
{
	struct registration *r = *slot;
	*slot = r->next;
	free_registration(r);
}

void rd_forget(struct peer *p, const char *ep_or_null)
{
	struct registration **slot = &p->regs;
	while(*slot){
		if(!ep_or_null || strcmp((*slot)->ep, ep_or_null) == 0){
			unlink_free(slot);
		}else{
			slot = &(*slot)->next;
		}
	}
}

static json_t *registration_json(const struct registration *r)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:O, s:o, s:I}",
		"ep", r->ep, "id", r->id, "addr", json_addr(r->session),
		"identity", json_identity(r->session), "query", r->query,
		"links", r->links ? json_text_or_null((const uint8_t *)r->links, strlen(r->links)) : json_null(),
		"lt", (json_int_t)r->lifetime_s);
	return o;
}

json_t *rd_list(struct peer *p)
{
	json_t *list = json_array();
	for(struct registration *r = p->regs; list && r; r = r->next){
		json_array_append_new(list, registration_json(r));
	}
	return list;
}

void rd_tick(struct peer *p, uint64_t now, uint64_t *next_due)
{
	struct registration **slot = &p->regs;
	while(*slot){
		struct registration *r = *slot;
		if(r->expires_ms <= now){
			emit(json_pack("{s:s, s:s, s:s}", "event", "expired", "ep", r->ep, "id", r->id));
			unlink_free(slot);
			continue;
		}
		if(!*next_due || r->expires_ms < *next_due){
			*next_due = r->expires_ms;
		}
		slot = &r->next;
	}
	struct inbound **in = &p->inbound;
	while(*in){
		if((*in)->expires_ms <= now){
			inbound_drop(in);
			continue;
		}
		if(!*next_due || (*in)->expires_ms < *next_due){
			*next_due = (*in)->expires_ms;
		}
		in = &(*in)->next;
	}
}

static void refused(coap_pdu_t *resp, coap_pdu_code_t code, const char *op, json_t *details)
{
	coap_pdu_set_code(resp, code);
	json_t *ev = json_pack("{s:s, s:s, s:o}", "event", "refused", "op", op, "code", json_code(code));
	if(ev && details){
		json_object_update(ev, details);
	}
	json_decref(details);
	emit(ev);
}

/* lt= as seconds; 0 when absent, -1 when not a number */
static long query_lifetime(const json_t *query)
{
	const char *lt = json_string_value(json_object_get(query, "lt"));
	if(!lt){
		return 0;
	}
	char *end;
	unsigned long v = strtoul(lt, &end, 10);
	if(*lt == '\0' || *end != '\0' || v == 0 || v > 0x7fffffff){
		return -1;
	}
	return (long)v;
}

static int version_refused(struct peer *p, const json_t *query)
{
	const char *v = json_string_value(json_object_get(query, "lwm2m"));
	size_t i;
	json_t *refused_v;
	if(!v){
		return 0;
	}
	json_array_foreach(p->refused_versions, i, refused_v){
		if(strcmp(json_string_value(refused_v), v) == 0){
			return 1;
		}
	}
	return 0;
}

static int new_id(struct peer *p, char id[16])
{
	for(int tries = 0; tries < 100; tries++){
		uint32_t r;
		if(getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)){
			return -1;
		}
		snprintf(id, 16, "%08x", r);
		if(!*find_slot_id(p, id)){
			return 0;
		}
	}
	return -1;
}

static json_t *body_text(const uint8_t *body, size_t len)
{
	return body ? json_text_or_null(body, len) : json_null();
}

static json_t *event_base(const char *name, const struct registration *r, coap_session_t *s)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "event", name, "ep", r->ep, "id", r->id,
		"addr", json_addr(s), "identity", json_identity(s),
		"proto", coap_session_get_proto(s) == COAP_PROTO_DTLS ? "coaps" : "coap");
}

static void do_register(struct peer *p, coap_session_t *s, const coap_pdu_t *req,
	coap_pdu_t *resp, uint8_t *body, size_t body_len)
{
	json_t *query = read_query(req);
	const char *ep = json_string_value(json_object_get(query, "ep"));
	long lt = query_lifetime(query);
	if(!query){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(500));
		return;
	}
	if(p->refuse_code){
		refused(resp, p->refuse_code, "register", json_pack("{s:O}", "query", query));
	}else if(!ep || !*ep || lt < 0){
		refused(resp, COAP_RESPONSE_CODE(400), "register", json_pack("{s:O}", "query", query));
	}else if(version_refused(p, query)){
		refused(resp, COAP_RESPONSE_CODE(412), "register", json_pack("{s:O}", "query", query));
	}else{
		struct registration *r = calloc(1, sizeof(*r));
		if(!r || new_id(p, r->id) != 0 || !(r->ep = strdup(ep))
			|| (body_len && !(r->links = strndup((const char *)body, body_len)))){
			if(r){
				free(r->ep);
			}
			free(r);
			coap_pdu_set_code(resp, COAP_RESPONSE_CODE(500));
			json_decref(query);
			return;
		}
		rd_forget(p, ep);    /* a new Register of an endpoint replaces the old one */
		r->session = coap_session_reference(s);
		r->query = json_incref(query);
		r->lifetime_s = lt ? (unsigned long)lt : DEFAULT_LIFETIME_S;
		r->expires_ms = now_ms() + r->lifetime_s * 1000u;
		r->next = p->regs;
		p->regs = r;
		coap_add_option(resp, COAP_OPTION_LOCATION_PATH, 2, (const uint8_t *)"rd");
		coap_add_option(resp, COAP_OPTION_LOCATION_PATH, strlen(r->id), (const uint8_t *)r->id);
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(201));
		json_t *ev = event_base("register", r, s);
		json_object_set(ev, "query", query);
		json_object_set_new(ev, "links", body_text(body, body_len));
		emit(ev);
	}
	json_decref(query);
}

static void do_update(struct peer *p, coap_session_t *s, const char *id, const coap_pdu_t *req,
	coap_pdu_t *resp, uint8_t *body, size_t body_len)
{
	struct registration *r = *find_slot_id(p, id);
	json_t *query = read_query(req);
	long lt = query_lifetime(query);
	if(!query){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(500));
		return;
	}
	if(!r){
		refused(resp, COAP_RESPONSE_CODE(404), "update", json_pack("{s:s, s:O}", "id", id, "query", query));
	}else if(lt < 0){
		refused(resp, COAP_RESPONSE_CODE(400), "update", json_pack("{s:s, s:O}", "id", id, "query", query));
	}else{
		char *links = NULL;
		if(body_len && !(links = strndup((const char *)body, body_len))){
			coap_pdu_set_code(resp, COAP_RESPONSE_CODE(500));
			json_decref(query);
			return;
		}
		if(links){
			free(r->links);
			r->links = links;
		}
		json_object_update(r->query, query);
		if(lt){
			r->lifetime_s = (unsigned long)lt;
		}
		r->expires_ms = now_ms() + r->lifetime_s * 1000u;
		if(r->session != s){    /* the device now talks from elsewhere */
			coap_session_release(r->session);
			r->session = coap_session_reference(s);
		}
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(204));
		json_t *ev = event_base("update", r, s);
		json_object_set(ev, "query", query);
		json_object_set_new(ev, "links", body_text(body, body_len));
		emit(ev);
	}
	json_decref(query);
}

static void do_deregister(struct peer *p, coap_session_t *s, const char *id, coap_pdu_t *resp)
{
	struct registration **slot = find_slot_id(p, id);
	if(!*slot){
		refused(resp, COAP_RESPONSE_CODE(404), "deregister", json_pack("{s:s}", "id", id));
		return;
	}
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE(202));
	emit(event_base("deregister", *slot, s));
	unlink_free(slot);
}

static void do_send(struct peer *p, coap_session_t *s, const coap_pdu_t *req, coap_pdu_t *resp,
	uint8_t *body, size_t body_len)
{
	struct registration *r = find_session(p, s);
	int ct = content_format(req);
	coap_pdu_set_code(resp, r ? COAP_RESPONSE_CODE(204) : COAP_RESPONSE_CODE(404));
	emit(json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "event", "send",
		"ep", r ? json_string(r->ep) : json_null(), "ct", ct < 0 ? json_null() : json_integer(ct),
		"payload_hex", json_hex(body ? body : (const uint8_t *)"", body_len),
		"addr", json_addr(s), "identity", json_identity(s),
		"code", json_code(r ? COAP_RESPONSE_CODE(204) : COAP_RESPONSE_CODE(404))));
}

/* 4.13 with the largest body taken (Size1); without it when it does not fit */
static void too_large(coap_pdu_t *resp)
{
	uint8_t buf[4];
	size_t len = coap_encode_var_safe(buf, sizeof(buf), INBOUND_MAX_BYTES);
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE(413));
	if(!coap_add_option(resp, COAP_OPTION_SIZE1, len, buf)){
		coap_log(LOG_WARNING, "4.13 goes without Size1\n");
	}
}

/* 2.xx answers to a Block1 request carry its Block1 option (M=1: 2.31 Continue). */
static void echo_block1(coap_pdu_t *resp, const struct block *b1)
{
	if(block_add(resp, COAP_OPTION_BLOCK1, b1) != 0){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(500));
	}
}

static void hnd_post(coap_resource_t *res, coap_session_t *s, const coap_pdu_t *req,
	const coap_string_t *qs, coap_pdu_t *resp)
{
	struct peer *p = peer_of(s);
	struct uri_path path;
	char key[PATH_SEGMENTS_MAX * PATH_SEGMENT_MAX + 8];
	uint8_t *body;
	size_t body_len;
	struct block b1;
	read_path(req, &path);
	int is_rd = !path.unusable && path.count >= 1 && strcmp(path.seg[0], "rd") == 0;
	int is_dp = !path.unusable && path.count == 1 && strcmp(path.seg[0], "dp") == 0;
	if(!(is_rd && path.count <= 2) && !is_dp){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(404));
		return;
	}
	int has_b1 = block_get(req, COAP_OPTION_BLOCK1, &b1);
	if(has_b1 < 0){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(400));
		return;
	}
	snprintf(key, sizeof(key), "POST /%s/%s", path.seg[0], path.count > 1 ? path.seg[1] : "");
	switch(collect_body(p, s, key, req, has_b1 ? &b1 : NULL, &body, &body_len)){
	case COLLECT_MORE:
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(231));
		echo_block1(resp, &b1);
		return;
	case COLLECT_FAILED:
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(408));
		return;
	case COLLECT_TOO_LARGE:
		too_large(resp);
		return;
	case COLLECT_DONE:
		break;
	}
	if(is_dp){
		do_send(p, s, req, resp, body, body_len);
	}else if(path.count == 1){
		do_register(p, s, req, resp, body, body_len);
	}else{
		do_update(p, s, path.seg[1], req, resp, body, body_len);
	}
	free(body);
	if(has_b1 && ((unsigned)coap_pdu_get_code(resp) >> 5) == 2){
		b1.m = 0;
		echo_block1(resp, &b1);    /* after Location-Path: ascending */
	}
}

static void hnd_delete(coap_resource_t *res, coap_session_t *s, const coap_pdu_t *req,
	const coap_string_t *qs, coap_pdu_t *resp)
{
	struct uri_path path;
	read_path(req, &path);
	if(path.unusable || path.count != 2 || strcmp(path.seg[0], "rd") != 0){
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE(404));
		return;
	}
	do_deregister(peer_of(s), s, path.seg[1], resp);
}

static void hnd_not_allowed(coap_resource_t *res, coap_session_t *s, const coap_pdu_t *req,
	const coap_string_t *qs, coap_pdu_t *resp)
{
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE(405));
}

int rd_install(struct peer *p)
{
	coap_resource_t *r = coap_resource_unknown_init2(hnd_not_allowed, 0);
	if(!r){
		return -1;
	}
	coap_register_request_handler(r, COAP_REQUEST_POST, hnd_post);
	coap_register_request_handler(r, COAP_REQUEST_DELETE, hnd_delete);
	coap_register_request_handler(r, COAP_REQUEST_GET, hnd_not_allowed);
	coap_add_resource(p->ctx, r);
	return 0;
}
