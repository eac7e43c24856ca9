/* Requests from this server to registered devices, sent on the session the device
 * registered from, and their responses and notifications.
 *
 * Matching is by (session, token): tokens are numbered per session. With
 * COAP_BLOCK_USE_LIBCOAP libcoap fetches the further Block2 blocks itself and hands every
 * block to the response handler with the request's own token and its offset in the body
 * (coap_get_data_large); the body is put together here. Large request bodies go out in
 * Block1 blocks through coap_add_data_large_request. */
#include "peer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct method_name {
	const char *name;
	coap_pdu_code_t code;
};

static const struct method_name methods[] = {
	{"GET", COAP_REQUEST_CODE_GET},
	{"POST", COAP_REQUEST_CODE_POST},
	{"PUT", COAP_REQUEST_CODE_PUT},
	{"DELETE", COAP_REQUEST_CODE_DELETE},
	{"FETCH", COAP_REQUEST_CODE_FETCH},
	{"PATCH", COAP_REQUEST_CODE_PATCH},
	{"IPATCH", COAP_REQUEST_CODE_IPATCH},
};

static void outgoing_free(struct outgoing *o)
{
	coap_session_release(o->session);
	json_decref(o->location);
	free(o->body);
	free(o->id);
	free(o);
}

static void drop(struct peer *p, struct outgoing *gone)
{
	for(struct outgoing **slot = &p->outgoing; *slot; slot = &(*slot)->next){
		if(*slot == gone){
			*slot = gone->next;
			outgoing_free(gone);
			return;
		}
	}
}

void req_free_all(struct peer *p)
{
	while(p->outgoing){
		struct outgoing *o = p->outgoing;
		p->outgoing = o->next;
		outgoing_free(o);
	}
}

static struct outgoing *find_token(struct peer *p, const coap_session_t *s, coap_bin_const_t token)
{
	for(struct outgoing *o = p->outgoing; o; o = o->next){
		if(o->session == s && o->token_len == token.length
			&& memcmp(o->token, token.s, token.length) == 0){
			return o;
		}
	}
	return NULL;
}

static struct outgoing *find_id(struct peer *p, const char *id)
{
	for(struct outgoing *o = p->outgoing; o; o = o->next){
		if(strcmp(o->id, id) == 0){
			return o;
		}
	}
	return NULL;
}

static int option_uint(const coap_pdu_t *pdu, coap_option_num_t number, long *value)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, number, &it);
	if(!opt){
		return 0;
	}
	*value = (long)coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
	return 1;
}

static json_t *location_of(const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	json_t *list = NULL;
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL){
		if(it.number != COAP_OPTION_LOCATION_PATH){
			continue;
		}
		if(!list && !(list = json_array())){
			return NULL;
		}
		json_array_append_new(list, json_text_or_null(coap_opt_value(opt), coap_opt_length(opt)));
	}
	return list;
}

/* What the first block of a response says about the whole. */
static void start_body(struct outgoing *o, const coap_pdu_t *rcvd)
{
	long v;
	o->body_len = 0;
	o->code = coap_pdu_get_code(rcvd);
	o->ct = option_uint(rcvd, COAP_OPTION_CONTENT_FORMAT, &v) ? (int)v : -1;
	o->observe = option_uint(rcvd, COAP_OPTION_OBSERVE, &v) ? v : -1;
	o->confirmable = coap_pdu_get_type(rcvd) == COAP_MESSAGE_CON;
	json_decref(o->location);
	o->location = location_of(rcvd);
}

/* 1 when the body is complete, 0 while blocks are missing, -1 on failure */
static int add_block(struct outgoing *o, const coap_pdu_t *rcvd)
{
	size_t len = 0, offset = 0, total = 0;
	const uint8_t *data = NULL;
	if(!coap_get_data_large(rcvd, &len, &data, &offset, &total)){
		len = offset = total = 0;
	}
	if(offset == 0){
		start_body(o, rcvd);
	}
	if(offset != o->body_len){
		return -1;
	}
	if(len){
		uint8_t *grown = realloc(o->body, offset + len);
		if(!grown){
			return -1;
		}
		o->body = grown;
		memcpy(o->body + offset, data, len);
		o->body_len = offset + len;
	}
	return offset + len >= total;
}

static json_t *body_event(const char *name, const struct outgoing *o)
{
	json_t *ev = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "event", name, "id", o->id,
		"code", json_code(o->code), "ct", o->ct < 0 ? json_null() : json_integer(o->ct),
		"payload_hex", json_hex(o->body ? o->body : (const uint8_t *)"", o->body_len),
		"observe", o->observe < 0 ? json_null() : json_integer(o->observe));
	if(ev && o->location){
		json_object_set(ev, "location", o->location);
	}
	return ev;
}

static coap_response_t complete(struct peer *p, struct outgoing *o)
{
	int success = ((unsigned)o->code >> 5) == 2;
	if(!o->answered){
		o->answered = 1;
		emit(body_event("response", o));
		if(o->want_observe && o->observe >= 0 && success){
			o->deadline_ms = 0;    /* notifications come when they come */
		}else{
			drop(p, o);
		}
		return COAP_RESPONSE_OK;
	}
	if(o->cancelling && o->observe < 0){
		emit(body_event("cancelled", o));
		drop(p, o);
		return COAP_RESPONSE_OK;
	}
	json_t *ev = body_event("notify", o);
	json_object_set_new(ev, "confirmable", json_boolean(o->confirmable));
	if(o->rst_next && o->confirmable){
		json_object_set_new(ev, "rst", json_true());
		emit(ev);
		drop(p, o);
		return COAP_RESPONSE_FAIL;    /* libcoap answers it with RST */
	}
	emit(ev);
	if(o->observe < 0 || !success){    /* the device ended the observation */
		drop(p, o);
	}
	return COAP_RESPONSE_OK;
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
	const coap_pdu_t *rcvd, const coap_mid_t mid)
{
	struct peer *p = peer_of(s);
	struct outgoing *o = find_token(p, s, coap_pdu_get_token(rcvd));
	if(!o){
		/* e.g. a notification nobody waits for: RST it (a late piggybacked answer
		 * needs nothing) */
		return coap_pdu_get_type(rcvd) == COAP_MESSAGE_ACK ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL;
	}
	switch(add_block(o, rcvd)){
	case 0:
		return COAP_RESPONSE_OK;
	case 1:
		return complete(p, o);
	default:
		emit(json_pack("{s:s, s:s, s:s}", "event", o->answered ? "notify" : "response",
			"id", o->id, "error", "block reassembly failed"));
		drop(p, o);
		return COAP_RESPONSE_FAIL;
	}
}

static const char *nack_text(coap_nack_reason_t reason)
{
	switch(reason){
	case COAP_NACK_TOO_MANY_RETRIES:
		return "timeout";
	case COAP_NACK_RST:
		return "reset";
	case COAP_NACK_TLS_FAILED:
		return "tls_failed";
	case COAP_NACK_ICMP_ISSUE:
		return "icmp";
	case COAP_NACK_NOT_DELIVERABLE:
	default:
		return "not_deliverable";
	}
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t reason,
	const coap_mid_t mid)
{
	if(!sent){
		return;
	}
	struct peer *p = peer_of(s);
	struct outgoing *o = find_token(p, s, coap_pdu_get_token(sent));
	if(!o){
		return;
	}
	const char *name = o->cancelling ? "cancelled" : o->answered ? "notify" : "response";
	emit(json_pack("{s:s, s:s, s:s}", "event", name, "id", o->id, "error", nack_text(reason)));
	drop(p, o);
}

void req_install(struct peer *p)
{
	coap_register_response_handler(p->ctx, on_response);
	coap_register_nack_handler(p->ctx, on_nack);
}

void req_tick(struct peer *p, uint64_t now, uint64_t *next_due)
{
	struct outgoing *o = p->outgoing;
	while(o){
		struct outgoing *next = o->next;
		if(o->deadline_ms && o->deadline_ms <= now){
			const char *name = o->cancelling ? "cancelled" : o->answered ? "notify" : "response";
			emit(json_pack("{s:s, s:s, s:s}", "event", name, "id", o->id, "error", "timeout"));
			drop(p, o);
		}else if(o->deadline_ms && (!*next_due || o->deadline_ms < *next_due)){
			*next_due = o->deadline_ms;
		}
		o = next;
	}
}

/* ---- building a request from a command ---- */

static int method_code(const char *name, coap_pdu_code_t *code)
{
	for(size_t i = 0; name && i < sizeof(methods) / sizeof(methods[0]); i++){
		if(strcasecmp(name, methods[i].name) == 0){
			*code = methods[i].code;
			return 0;
		}
	}
	return -1;
}

static int add_uint_option(coap_pdu_t *pdu, coap_option_num_t number, json_int_t value)
{
	uint8_t buf[4];
	if(value < 0 || value > 0xffffffffll){
		return -1;
	}
	size_t len = coap_encode_var_safe(buf, sizeof(buf), (unsigned)value);
	return coap_add_option(pdu, number, len, buf) ? 0 : -1;
}

static int add_path(coap_pdu_t *pdu, const char *path)
{
	while(*path){
		while(*path == '/'){
			path++;
		}
		size_t len = strcspn(path, "/");
		if(len == 0){
			break;
		}
		if(len > 255 || !coap_add_option(pdu, COAP_OPTION_URI_PATH, len, (const uint8_t *)path)){
			return -1;
		}
		path += len;
	}
	return 0;
}

static int add_query(coap_pdu_t *pdu, const json_t *query)
{
	size_t i;
	json_t *item;
	if(!query){
		return 0;
	}
	if(!json_is_array(query)){
		return -1;
	}
	json_array_foreach(query, i, item){
		const char *q = json_string_value(item);
		if(!q || strlen(q) > 255 || !coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q)){
			return -1;
		}
	}
	return 0;
}

/* The body of a request command: payload_hex, or payload as text. */
static int command_payload(const json_t *cmd, uint8_t **data, size_t *len)
{
	const json_t *hex = json_object_get(cmd, "payload_hex");
	const json_t *text = json_object_get(cmd, "payload");
	*data = NULL;
	*len = 0;
	if(hex){
		return json_is_string(hex) ? parse_hex(json_string_value(hex), data, len) : -1;
	}
	if(text){
		if(!json_is_string(text)){
			return -1;
		}
		*len = json_string_length(text);
		if(!(*data = malloc(*len + 1))){
			return -1;
		}
		memcpy(*data, json_string_value(text), *len);
	}
	return 0;
}

static void release_body(coap_session_t *s, void *body)
{
	free(body);
}

/* Options in ascending number: Observe 6, Uri-Path 11, Content-Format 12, Uri-Query 15,
 * Accept 17; libcoap adds Block1/Size1 itself. Returns NULL with *why set. */
static coap_pdu_t *build_request(coap_session_t *s, const json_t *cmd, struct outgoing *o,
	const char **why)
{
	coap_pdu_code_t code;
	const json_t *confirmable = json_object_get(cmd, "confirmable");
	const json_t *observe = json_object_get(cmd, "observe");
	const json_t *ct = json_object_get(cmd, "ct");
	const json_t *accept = json_object_get(cmd, "accept");
	const char *path = json_string_value(json_object_get(cmd, "path"));
	uint8_t *body;
	size_t body_len;
	*why = "bad request command";
	if(method_code(json_string_value(json_object_get(cmd, "method")), &code) != 0){
		*why = "method must be GET, PUT, POST, DELETE, FETCH, PATCH or IPATCH";
		return NULL;
	}
	if(!path || (observe && !json_is_integer(observe)) || (ct && !json_is_integer(ct))
		|| (accept && !json_is_integer(accept)) || (confirmable && !json_is_boolean(confirmable))){
		*why = "path (string), observe/ct/accept (integers), confirmable (boolean)";
		return NULL;
	}
	if(command_payload(cmd, &body, &body_len) != 0){
		*why = "payload_hex must be hex, payload a string";
		return NULL;
	}
	coap_pdu_t *pdu = coap_new_pdu(confirmable && json_is_false(confirmable) ? COAP_MESSAGE_NON
		: COAP_MESSAGE_CON, code, s);
	if(!pdu){
		free(body);
		return NULL;
	}
	coap_session_new_token(s, &o->token_len, o->token);
	int bad = !coap_add_token(pdu, o->token_len, o->token)
		|| (observe && add_uint_option(pdu, COAP_OPTION_OBSERVE, json_integer_value(observe)) != 0)
		|| add_path(pdu, path) != 0
		|| (ct && add_uint_option(pdu, COAP_OPTION_CONTENT_FORMAT, json_integer_value(ct)) != 0)
		|| add_query(pdu, json_object_get(cmd, "query")) != 0
		|| (accept && add_uint_option(pdu, COAP_OPTION_ACCEPT, json_integer_value(accept)) != 0);
	if(bad){
		free(body);
		coap_delete_pdu(pdu);
		*why = "cannot build the request (option too long or bad query)";
		return NULL;
	}
	/* the body is released by libcoap once the last block went out (also on failure) */
	if(body_len && !coap_add_data_large_request(s, pdu, body_len, body, release_body, body)){
		coap_delete_pdu(pdu);
		*why = "cannot add the payload";
		return NULL;
	}
	if(!body_len){
		free(body);
	}
	o->want_observe = observe && json_integer_value(observe) == 0;
	return pdu;
}

void req_command(struct peer *p, const json_t *cmd)
{
	const char *id = json_string_value(json_object_get(cmd, "id"));
	const char *ep = json_string_value(json_object_get(cmd, "ep"));
	const json_t *timeout = json_object_get(cmd, "timeout_ms");
	const char *why;
	if(!id){
		emit_error(NULL, "request: id (string) missing");
		return;
	}
	if(find_id(p, id)){
		emit_error(id, "request: id %s is still in use", id);
		return;
	}
	struct registration *r = ep ? rd_find_ep(p, ep) : NULL;
	if(!r){
		emit_error(id, "request: endpoint %s is not registered", ep ? ep : "(missing)");
		return;
	}
	if(timeout && (!json_is_integer(timeout) || json_integer_value(timeout) <= 0)){
		emit_error(id, "request: timeout_ms must be a positive integer");
		return;
	}
	struct outgoing *o = calloc(1, sizeof(*o));
	if(!o || !(o->id = strdup(id))){
		free(o);
		emit_error(id, "out of memory");
		return;
	}
	o->session = coap_session_reference(r->session);
	o->ct = -1;
	o->observe = -1;
	coap_pdu_t *pdu = build_request(r->session, cmd, o, &why);
	if(!pdu){
		emit_error(id, "request: %s", why);
		outgoing_free(o);
		return;
	}
	o->deadline_ms = now_ms() + (timeout ? (uint64_t)json_integer_value(timeout) : p->request_timeout_ms);
	o->next = p->outgoing;
	p->outgoing = o;
	if(coap_send(o->session, pdu) == COAP_INVALID_MID){    /* coap_send owns pdu either way */
		emit(json_pack("{s:s, s:s, s:s}", "event", "response", "id", id, "error", "not_sent"));
		drop(p, o);
	}
}

void req_rst_next(struct peer *p, const json_t *cmd)
{
	const char *id = json_string_value(json_object_get(cmd, "id"));
	struct outgoing *o = id ? find_id(p, id) : NULL;
	if(!o){
		emit_error(id, "rst_next_notify: no request %s in progress", id ? id : "(missing)");
		return;
	}
	o->rst_next = 1;
	emit(json_pack("{s:s, s:s, s:s}", "event", "ok", "cmd", "rst_next_notify", "id", id));
}

/* GET with Observe: 1 and the observation's token (libcoap builds it from the original). */
void req_cancel_observe(struct peer *p, const json_t *cmd)
{
	const char *id = json_string_value(json_object_get(cmd, "id"));
	struct outgoing *o = id ? find_id(p, id) : NULL;
	if(!o || !o->answered){
		emit_error(id, "cancel_observe: no observation %s", id ? id : "(missing)");
		return;
	}
	coap_binary_t token = {o->token_len, o->token};
	if(!coap_cancel_observe(o->session, &token, COAP_MESSAGE_CON)){
		emit_error(id, "cancel_observe: libcoap has no observation for %s", id);
		return;
	}
	o->cancelling = 1;
	o->deadline_ms = now_ms() + p->request_timeout_ms;
	emit(json_pack("{s:s, s:s, s:s}", "event", "ok", "cmd", "cancel_observe", "id", id));
}
