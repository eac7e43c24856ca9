/* Send data (op 24) forwarded to the server as POST /dp, in order, one at a time per
 * device, kept until the server accepts it. With plugin_opt_state_db the data is already
 * stored; a per-device cursor (the last id accepted) makes a restart resume where it
 * stopped. */
#include "upstream_internal.h"
#include "../core/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENDS_MAX_PER_DEVICE 10000u   /* in memory; the rest waits in the store */

struct up_send {
	struct up_send *next;
	int64_t id;                 /* stored id; 0 without a store */
	uint16_t cf;
	size_t len;
	uint8_t data[];
};

static size_t queued(const struct up_dev *d)
{
	size_t n = 0;
	for(const struct up_send *s = d->sends; s; s = s->next) n++;
	return n;
}

static void cursor_name(const struct up_dev *d, char *out, size_t size)
{
	snprintf(out, size, "upstream.send.%s", d->key);
}

void up_send_add(struct up_dev *d, int64_t id, uint16_t cf, const uint8_t *payload, size_t len)
{
	struct up_send *s;

	if(id > 0 && id <= d->send_cursor) return;
	for(s = d->sends; s && id > 0; s = s->next){
		if(s->id == id) return;
	}
	if(queued(d) >= SENDS_MAX_PER_DEVICE){
		/* Kept in the store; up_send_load picks it up after the queue drains. */
		if(id == 0) up_log(d->u, CORE_LOG_WARNING, "endpoint '%s': Send dropped: %u waiting for the server already",
				d->endpoint, SENDS_MAX_PER_DEVICE);
		return;
	}
	s = malloc(sizeof(*s) + len);
	if(!s) return;
	s->next = NULL;
	s->id = id;
	s->cf = cf;
	s->len = len;
	memcpy(s->data, payload, len);
	if(d->sends_tail) d->sends_tail->next = s;
	else d->sends = s;
	d->sends_tail = s;
	up_send_pump(d);
}

static void add_stored(void *ctx, const struct stored_send *r)
{
	up_send_add(ctx, r->id, r->content_format, r->payload, r->payload_len);
}

void up_send_load(struct up_dev *d)
{
	char name[400];

	cursor_name(d, name, sizeof(name));
	d->send_cursor = (int64_t)core_api_get_u64(d->u->c, name, 0);
	core_api_each_send(d->u->c, d->endpoint, d->send_cursor, SENDS_MAX_PER_DEVICE, add_stored, d);
}

static void pop(struct up_dev *d)
{
	struct up_send *s = d->sends;
	if(!s) return;
	d->sends = s->next;
	if(!d->sends) d->sends_tail = NULL;
	free(s);
}

void up_send_pump(struct up_dev *d)
{
	coap_optlist_t *opts = NULL;
	coap_pdu_t *pdu;
	struct up_send *s = d->sends;
	uint8_t ct[4];
	int ok;

	if(!s || d->send_busy || d->send_hold || d->state != UP_REGISTERED || !d->session) return;
	pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(d->session),
			coap_session_max_pdu_size(d->session));
	if(!pdu) return;
	coap_session_new_token(d->session, &d->send_token_len, d->send_token);
	ok = coap_add_token(pdu, d->send_token_len, d->send_token)
		&& coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_URI_PATH, 2, (const uint8_t *)"dp"))
		&& coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
				coap_encode_var_safe(ct, sizeof(ct), s->cf), ct))
		&& coap_add_optlist_pdu(pdu, &opts);
	coap_delete_optlist(opts);
	if(ok){
		uint8_t *copy = malloc(s->len ? s->len : 1);
		ok = copy != NULL;
		if(ok){
			memcpy(copy, s->data, s->len);
			ok = coap_add_data_large_request(d->session, pdu, s->len, copy, up_release_copy, copy);
			if(!ok) free(copy);
		}
	}
	if(!ok){
		coap_delete_pdu(pdu);
		return;
	}
	up_touch(d->u, d->session);
	if(coap_send(d->session, pdu) == COAP_INVALID_MID) return;
	d->send_busy = true;
}

static void accepted(struct up_dev *d)
{
	struct up_send *s = d->sends;
	char name[400];

	if(s && s->id > 0){
		d->send_cursor = s->id;
		cursor_name(d, name, sizeof(name));
		core_api_set_u64(d->u->c, name, (uint64_t)s->id);
	}
	pop(d);
}

coap_response_t up_send_response(struct up_dev *d, const coap_pdu_t *received)
{
	coap_pdu_code_t code = coap_pdu_get_code(received);
	unsigned cls = COAP_RESPONSE_CLASS(code);

	d->send_busy = false;
	if(cls == 2){
		accepted(d);
	}else if(cls == 4){
		/* Refused for good (4.00 bad data, 4.04 unknown registration ...): retrying the same
		 * bytes cannot help; the data stays readable at /api/send. */
		up_log(d->u, CORE_LOG_WARNING, "endpoint '%s': the server refused Send data with %u.%02u; skipped",
				d->endpoint, cls, code & 0x1f);
		accepted(d);
	}else{
		/* 5.xx: tried again at the next registration refresh. */
		d->send_hold = true;
		return COAP_RESPONSE_OK;
	}
	up_send_pump(d);
	return COAP_RESPONSE_OK;
}

void up_send_nack(struct up_dev *d)
{
	/* Unanswered: kept, and tried again once the registration is confirmed again (not with
	 * every new Send, which would pile copies onto a server that is away). */
	d->send_busy = false;
	d->send_hold = true;
}

void up_sends_free(struct up_dev *d)
{
	while(d->sends) pop(d);
	d->send_busy = false;
	d->send_hold = false;
}

void up_send_resume(struct up_dev *d)
{
	d->send_hold = false;
	up_send_pump(d);
}
