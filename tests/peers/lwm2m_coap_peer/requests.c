/* Requests from this server to registered devices, sent on the session the device
 * registered from, and their responses and notifications.
 *
 * Matching is by (session, token): tokens are numbered per session. Block-wise transfers
 * (RFC 7959) are done here, libcoap's own being off (see block.c):
 *  - a request body larger than a block goes out in Block1 blocks, each a new exchange
 *    with a new token, the next one after a 2.xx (2.31 Continue) for the previous one, in
 *    the smaller block size the device asks for; Observe rides on the last block;
 *  - a response or notification with Block2 M=1 is kept and the next block is asked for
 *    with the same method and options (no Observe; the body again only when it was not
 *    sent in blocks), Block2 num+1 in the size the device used, and a new token, until
 *    M=0; the ETag must stay the same. One event then reports the whole body with what
 *    the first block said (code, Content-Format, Observe, Location-Path, confirmable).
 * A notification that arrives while an earlier one is still fetched replaces it. */
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

/* One exchange of a request: which part of the body and which block options. */
struct exchange {
	coap_pdu_type_t type;
	long observe;                /* -1: no Observe option */
	const struct block *block1;  /* NULL: none */
	const struct block *block2;
	size_t size1;                /* 0: no Size1 option */
	const uint8_t *data;
	size_t len;
};

static void outgoing_free(struct outgoing *o)
{
	coap_session_release(o->session);
	json_decref(o->cmd);
	json_decref(o->location);
	free(o->payload);
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

static int same_token(const uint8_t *token, size_t len, coap_bin_const_t other)
{
	return len == other.length && memcmp(token, other.s, len) == 0;
}

static int is_current(const struct outgoing *o, coap_bin_const_t token)
{
	return same_token(o->token, o->token_len, token);
}

static int is_observation(const struct outgoing *o, coap_bin_const_t token)
{
	return o->has_obs_token && same_token(o->obs_token, o->obs_token_len, token);
}

static struct outgoing *find_token(struct peer *p, const coap_session_t *s, coap_bin_const_t token)
{
	for(struct outgoing *o = p->outgoing; o; o = o->next){
		if(o->session == s && (is_current(o, token) || is_observation(o, token))){
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

static const char *event_name(const struct outgoing *o)
{
	return o->cancelling ? "cancelled" : o->answered ? "notify" : "response";
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

/* The options of the command (checked by check_command) in ascending number: Observe 6,
 * Uri-Path 11, Content-Format 12, Uri-Query 15, Accept 17, Block2 23, Block1 27, Size1
 * 60. NULL when an option does not fit. */
static coap_pdu_t *exchange_pdu(const struct outgoing *o, const struct exchange *x)
{
	const json_t *cmd = o->cmd;
	const json_t *ct = json_object_get(cmd, "ct");
	const json_t *accept = json_object_get(cmd, "accept");
	coap_pdu_code_t code;
	if(method_code(json_string_value(json_object_get(cmd, "method")), &code) != 0){
		return NULL;
	}
	coap_pdu_t *pdu = coap_new_pdu(x->type, code, o->session);
	if(!pdu){
		return NULL;
	}
	int bad = !coap_add_token(pdu, o->token_len, o->token)
		|| (x->observe >= 0 && add_uint_option(pdu, COAP_OPTION_OBSERVE, x->observe) != 0)
		|| add_path(pdu, json_string_value(json_object_get(cmd, "path"))) != 0
		|| (ct && add_uint_option(pdu, COAP_OPTION_CONTENT_FORMAT, json_integer_value(ct)) != 0)
		|| add_query(pdu, json_object_get(cmd, "query")) != 0
		|| (accept && add_uint_option(pdu, COAP_OPTION_ACCEPT, json_integer_value(accept)) != 0)
		|| (x->block2 && block_add(pdu, COAP_OPTION_BLOCK2, x->block2) != 0)
		|| (x->block1 && block_add(pdu, COAP_OPTION_BLOCK1, x->block1) != 0)
		|| (x->size1 && add_uint_option(pdu, COAP_OPTION_SIZE1, (json_int_t)x->size1) != 0)
		|| (x->len && !coap_add_data(pdu, x->len, x->data));
	if(bad){
		coap_delete_pdu(pdu);
		return NULL;
	}
	return pdu;
}

/* Sends one exchange with a new token (or the observation's, for a cancel). */
static int send_exchange(struct outgoing *o, const struct exchange *x, int reuse_obs_token)
{
	if(reuse_obs_token){
		memcpy(o->token, o->obs_token, o->obs_token_len);
		o->token_len = o->obs_token_len;
	}else{
		coap_session_new_token(o->session, &o->token_len, o->token);
	}
	coap_pdu_t *pdu = exchange_pdu(o, x);
	if(!pdu){
		return -1;
	}
	if(x->observe == 0){
		memcpy(o->obs_token, o->token, o->token_len);
		o->obs_token_len = o->token_len;
		o->has_obs_token = 1;
	}
	return coap_send(o->session, pdu) == COAP_INVALID_MID ? -1 : 0;    /* owns pdu either way */
}

static long command_observe(const struct outgoing *o)
{
	const json_t *observe = json_object_get(o->cmd, "observe");
	return observe ? (long)json_integer_value(observe) : -1;
}

/* The Block1 block of the body that starts at offset (the whole body when small). */
static int send_body_from(struct outgoing *o, size_t offset)
{
	struct exchange x = {.type = o->type, .observe = command_observe(o)};
	size_t size = block_size(o->block1_szx);
	struct block b1;
	if(o->payload_len <= size && offset == 0){
		x.data = o->payload;
		x.len = o->payload_len;
		return send_exchange(o, &x, 0);
	}
	b1.szx = o->block1_szx;
	b1.num = (uint32_t)(offset / size);
	x.len = o->payload_len - offset < size ? o->payload_len - offset : size;
	b1.m = offset + x.len < o->payload_len;
	x.data = o->payload + offset;
	x.block1 = &b1;
	x.size1 = offset == 0 ? o->payload_len : 0;
	if(b1.m){
		x.observe = -1;    /* Observe goes with the last block, which the response answers */
	}
	o->block1_end = offset + x.len;
	return send_exchange(o, &x, 0);
}

/* The Block2 block num in size szx, asked for like the request itself. */
static int send_block2_request(struct outgoing *o, uint32_t num, unsigned szx)
{
	struct block b2 = {.num = num, .m = 0, .szx = szx};
	struct exchange x = {.type = o->type, .observe = -1, .block2 = &b2};
	if(!o->block1_end){    /* a body sent in one piece is part of the request (FETCH) */
		x.data = o->payload;
		x.len = o->payload_len;
	}
	o->fetching = 1;
	return send_exchange(o, &x, 0);
}

/* Checks the command and keeps what every exchange needs. Returns NULL or why not. */
static const char *check_command(struct outgoing *o, const json_t *cmd)
{
	coap_pdu_code_t code;
	const json_t *confirmable = json_object_get(cmd, "confirmable");
	const json_t *observe = json_object_get(cmd, "observe");
	const json_t *ct = json_object_get(cmd, "ct");
	const json_t *accept = json_object_get(cmd, "accept");
	const char *path = json_string_value(json_object_get(cmd, "path"));
	if(method_code(json_string_value(json_object_get(cmd, "method")), &code) != 0){
		return "method must be GET, PUT, POST, DELETE, FETCH, PATCH or IPATCH";
	}
	if(!path || (observe && !json_is_integer(observe)) || (ct && !json_is_integer(ct))
		|| (accept && !json_is_integer(accept)) || (confirmable && !json_is_boolean(confirmable))){
		return "path (string), observe/ct/accept (integers), confirmable (boolean)";
	}
	if(command_payload(cmd, &o->payload, &o->payload_len) != 0){
		return "payload_hex must be hex, payload a string";
	}
	if(!o->payload_len){
		free(o->payload);
		o->payload = NULL;
	}
	o->cmd = json_incref((json_t *)cmd);
	o->type = confirmable && json_is_false(confirmable) ? COAP_MESSAGE_NON : COAP_MESSAGE_CON;
	o->block1_szx = block_szx_for(o->session);
	o->want_observe = observe && json_integer_value(observe) == 0;
	/* build the first exchange once to refuse what cannot be encoded before anything goes */
	struct exchange x = {.type = o->type, .observe = command_observe(o)};
	struct block b1 = {.num = 0, .m = 1, .szx = o->block1_szx};
	size_t size = block_size(o->block1_szx);
	x.data = o->payload;
	x.len = o->payload_len;
	if(o->payload_len > size){
		x.block1 = &b1;
		x.len = size;
		x.size1 = o->payload_len;
	}
	coap_pdu_t *pdu = exchange_pdu(o, &x);
	if(!pdu){
		return "cannot build the request (option too long or bad query)";
	}
	coap_delete_pdu(pdu);
	return NULL;
}

/* ---- responses ---- */

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
	const uint8_t *etag;
	size_t etag_len;
	o->body_len = 0;
	o->code = coap_pdu_get_code(rcvd);
	o->ct = option_uint(rcvd, COAP_OPTION_CONTENT_FORMAT, &v) ? (int)v : -1;
	o->observe = option_uint(rcvd, COAP_OPTION_OBSERVE, &v) ? v : -1;
	o->confirmable = coap_pdu_get_type(rcvd) == COAP_MESSAGE_CON;
	json_decref(o->location);
	o->location = location_of(rcvd);
	o->has_etag = option_bytes(rcvd, COAP_OPTION_ETAG, &etag, &etag_len)
		&& etag_len <= sizeof(o->etag);
	o->etag_len = o->has_etag ? etag_len : 0;
	if(o->has_etag){
		memcpy(o->etag, etag, etag_len);
	}
}

static int same_etag(const struct outgoing *o, const coap_pdu_t *rcvd)
{
	const uint8_t *etag;
	size_t len;
	if(!option_bytes(rcvd, COAP_OPTION_ETAG, &etag, &len)){
		return !o->has_etag;
	}
	return o->has_etag && len == o->etag_len && memcmp(etag, o->etag, len) == 0;
}

static int append_body(struct outgoing *o, const coap_pdu_t *rcvd)
{
	size_t len = 0;
	const uint8_t *data = NULL;
	if(!coap_get_data(rcvd, &len, &data) || !len){
		return 0;
	}
	uint8_t *grown = realloc(o->body, o->body_len + len);
	if(!grown){
		return -1;
	}
	o->body = grown;
	memcpy(o->body + o->body_len, data, len);
	o->body_len += len;
	return 0;
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

/* A whole body is in (partial: only the first block of a notification that is RST). */
static coap_response_t complete(struct peer *p, struct outgoing *o, int partial)
{
	int success = ((unsigned)o->code >> 5) == 2;
	o->fetching = 0;
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
	if(partial){
		json_object_set_new(ev, "partial", json_true());
	}
	if(o->rst_next && o->confirmable){
		json_object_set_new(ev, "rst", json_true());
		emit(ev);
		drop(p, o);
		return COAP_RESPONSE_FAIL;    /* libcoap answers it with RST */
	}
	emit(ev);
	if(o->observe < 0 || !success){    /* the device ended the observation */
		drop(p, o);
	}else if(!o->cancelling){
		o->deadline_ms = 0;
	}
	return COAP_RESPONSE_OK;
}

static coap_response_t failed(struct peer *p, struct outgoing *o, const coap_pdu_t *rcvd,
	const char *reason)
{
	emit(json_pack("{s:s, s:s, s:s, s:s, s:o}", "event", event_name(o), "id", o->id,
		"error", "block reassembly failed", "reason", reason, "code", json_code(coap_pdu_get_code(rcvd))));
	drop(p, o);
	return coap_pdu_get_type(rcvd) == COAP_MESSAGE_ACK ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL;
}

static coap_response_t not_sent(struct peer *p, struct outgoing *o)
{
	emit(json_pack("{s:s, s:s, s:s}", "event", event_name(o), "id", o->id, "error", "not_sent"));
	drop(p, o);
	return COAP_RESPONSE_OK;
}

/* A 2.xx for a Block1 block that was not the last: the next one, in the device's block
 * size when it asks for a smaller one (its block number counts in that size). */
static coap_response_t next_body_block(struct peer *p, struct outgoing *o, const coap_pdu_t *rcvd)
{
	struct block b1;
	int has = block_get(rcvd, COAP_OPTION_BLOCK1, &b1);
	if(has < 0){
		return failed(p, o, rcvd, "unusable Block1 option in the response");
	}
	if(has && b1.szx < o->block1_szx){
		o->block1_szx = b1.szx;
	}
	return send_body_from(o, o->block1_end) == 0 ? COAP_RESPONSE_OK : not_sent(p, o);
}

/* The next Block2 block, or the whole body is in. */
static coap_response_t continue_or_complete(struct peer *p, struct outgoing *o,
	const coap_pdu_t *rcvd, const struct block *b2)
{
	if(!b2 || !b2->m){
		return complete(p, o, 0);
	}
	if(o->answered && !o->cancelling && o->rst_next && o->confirmable){
		return complete(p, o, 1);    /* the test wants this one refused, not fetched */
	}
	if(!o->deadline_ms){    /* a notification's blocks are waited for like a request */
		o->deadline_ms = now_ms() + p->request_timeout_ms;
	}
	return send_block2_request(o, b2->num + 1, b2->szx) == 0 ? COAP_RESPONSE_OK : not_sent(p, o);
}

/* A further block of the body being fetched. */
static coap_response_t next_piece(struct peer *p, struct outgoing *o, const coap_pdu_t *rcvd,
	int has_b2, const struct block *b2)
{
	size_t len = 0;
	const uint8_t *data;
	if(((unsigned)coap_pdu_get_code(rcvd) >> 5) != 2 || has_b2 != 1){
		return failed(p, o, rcvd, "a further block was not answered with a Block2 2.xx");
	}
	if(block_offset(b2) != o->body_len){
		return failed(p, o, rcvd, "the block does not follow the previous one");
	}
	if(!same_etag(o, rcvd)){
		return failed(p, o, rcvd, "the ETag changed between blocks");
	}
	coap_get_data(rcvd, &len, &data);
	if(b2->m && len != block_size(b2->szx)){
		return failed(p, o, rcvd, "a block with M=1 is not of the block size");
	}
	if(append_body(o, rcvd) != 0){
		return failed(p, o, rcvd, "out of memory");
	}
	return continue_or_complete(p, o, rcvd, b2);
}

/* A response (or notification) that starts a body. */
static coap_response_t first_piece(struct peer *p, struct outgoing *o, const coap_pdu_t *rcvd,
	int has_b2, const struct block *b2)
{
	size_t len = 0;
	const uint8_t *data;
	if(has_b2 < 0){
		return failed(p, o, rcvd, "unusable Block2 option");
	}
	if(has_b2 && b2->num != 0){
		return failed(p, o, rcvd, "the first block is not block 0");
	}
	o->fetching = 0;
	start_body(o, rcvd);
	coap_get_data(rcvd, &len, &data);
	if(has_b2 && b2->m && len != block_size(b2->szx)){
		return failed(p, o, rcvd, "a block with M=1 is not of the block size");
	}
	if(append_body(o, rcvd) != 0){
		return failed(p, o, rcvd, "out of memory");
	}
	return continue_or_complete(p, o, rcvd, has_b2 ? b2 : NULL);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
	const coap_pdu_t *rcvd, const coap_mid_t mid)
{
	struct peer *p = peer_of(s);
	coap_bin_const_t token = coap_pdu_get_token(rcvd);
	struct outgoing *o = find_token(p, s, token);
	struct block b2;
	if(!o){
		/* e.g. a notification nobody waits for: RST it (a late piggybacked answer
		 * needs nothing) */
		return coap_pdu_get_type(rcvd) == COAP_MESSAGE_ACK ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL;
	}
	int current = is_current(o, token);
	if(!current){    /* a notification: whatever was fetched before is given up */
		memcpy(o->token, o->obs_token, o->obs_token_len);
		o->token_len = o->obs_token_len;
		o->fetching = 0;
	}
	if(current && o->block1_end && o->block1_end < o->payload_len
		&& ((unsigned)coap_pdu_get_code(rcvd) >> 5) == 2){
		return next_body_block(p, o, rcvd);
	}
	int has_b2 = block_get(rcvd, COAP_OPTION_BLOCK2, &b2);
	if(current && o->fetching){
		return next_piece(p, o, rcvd, has_b2, &b2);
	}
	return first_piece(p, o, rcvd, has_b2, &b2);
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
	coap_bin_const_t token = coap_pdu_get_token(sent);
	struct outgoing *o = find_token(p, s, token);
	if(!o || !is_current(o, token)){    /* an exchange given up already */
		return;
	}
	emit(json_pack("{s:s, s:s, s:s}", "event", event_name(o), "id", o->id, "error", nack_text(reason)));
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
			emit(json_pack("{s:s, s:s, s:s}", "event", event_name(o), "id", o->id, "error", "timeout"));
			drop(p, o);
		}else if(o->deadline_ms && (!*next_due || o->deadline_ms < *next_due)){
			*next_due = o->deadline_ms;
		}
		o = next;
	}
}

/* ---- commands ---- */

void req_command(struct peer *p, const json_t *cmd)
{
	const char *id = json_string_value(json_object_get(cmd, "id"));
	const char *ep = json_string_value(json_object_get(cmd, "ep"));
	const json_t *timeout = json_object_get(cmd, "timeout_ms");
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
	const char *why = check_command(o, cmd);
	if(why){
		emit_error(id, "request: %s", why);
		outgoing_free(o);
		return;
	}
	o->deadline_ms = now_ms() + (timeout ? (uint64_t)json_integer_value(timeout) : p->request_timeout_ms);
	o->next = p->outgoing;
	p->outgoing = o;
	if(send_body_from(o, 0) != 0){
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

/* GET (the request's method and options) with Observe: 1 and the observation's token. */
void req_cancel_observe(struct peer *p, const json_t *cmd)
{
	const char *id = json_string_value(json_object_get(cmd, "id"));
	struct outgoing *o = id ? find_id(p, id) : NULL;
	if(!o || !o->answered){
		emit_error(id, "cancel_observe: no observation %s", id ? id : "(missing)");
		return;
	}
	if(!o->has_obs_token || o->cancelling){
		emit_error(id, "cancel_observe: %s is not an observation (or is being cancelled)", id);
		return;
	}
	struct exchange x = {.type = COAP_MESSAGE_CON, .observe = 1};
	if(!o->block1_end){
		x.data = o->payload;
		x.len = o->payload_len;
	}
	o->cancelling = 1;
	o->fetching = 0;
	o->deadline_ms = now_ms() + p->request_timeout_ms;
	if(send_exchange(o, &x, 1) != 0){
		emit_error(id, "cancel_observe: cannot send the cancel for %s", id);
		drop(p, o);
		return;
	}
	emit(json_pack("{s:s, s:s, s:s}", "event", "ok", "cmd", "cancel_observe", "id", id));
}
