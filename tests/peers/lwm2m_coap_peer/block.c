/* Block1/Block2 options (RFC 7959) and small option readers.
 *
 * The peer does block-wise transfers itself: libcoap 4.3.1 fetches further Block2 blocks
 * only for requests of client sessions (a separate response to a server session's request
 * is dropped with "large body receive internal issue"), so its block handling is off for
 * the whole context and both directions are done here. */
#include "peer.h"

/* Room kept in a PDU beside a block's payload for header, token and options. */
#define BLOCK_PDU_ROOM 64u

/* 1 with *b set, 0 when absent, -1 when unusable (BERT szx 7 is for TCP only). */
int block_get(const coap_pdu_t *pdu, coap_option_num_t number, struct block *b)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, number, &it);
	if(!opt){
		return 0;
	}
	if(coap_opt_length(opt) > 3){
		return -1;
	}
	unsigned v = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
	b->num = v >> 4;
	b->m = (v >> 3) & 1;
	b->szx = v & 7;
	return b->szx > PEER_BLOCK_SZX_MAX ? -1 : 1;
}

int block_add(coap_pdu_t *pdu, coap_option_num_t number, const struct block *b)
{
	uint8_t buf[4];
	if(b->num >= (1u << 20) || b->szx > PEER_BLOCK_SZX_MAX){
		return -1;
	}
	unsigned v = b->num << 4 | (b->m ? 8u : 0u) | b->szx;
	size_t len = coap_encode_var_safe(buf, sizeof(buf), v);
	return coap_add_option(pdu, number, len, buf) ? 0 : -1;
}

size_t block_size(unsigned szx)
{
	return (size_t)1 << (szx + 4);
}

size_t block_offset(const struct block *b)
{
	return (size_t)b->num << (b->szx + 4);
}

/* The largest block that fits in one of the session's datagrams beside the options. */
unsigned block_szx_for(const coap_session_t *session)
{
	size_t max = coap_session_max_pdu_size(session);
	unsigned szx = PEER_BLOCK_SZX_MAX;
	while(szx > 0 && block_size(szx) + BLOCK_PDU_ROOM > max){
		szx--;
	}
	return szx;
}

/* 1 with the first such option's value, 0 when absent. */
int option_bytes(const coap_pdu_t *pdu, coap_option_num_t number, const uint8_t **value,
	size_t *len)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, number, &it);
	if(!opt){
		return 0;
	}
	*value = coap_opt_value(opt);
	*len = coap_opt_length(opt);
	return 1;
}

int option_uint(const coap_pdu_t *pdu, coap_option_num_t number, long *value)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, number, &it);
	if(!opt){
		return 0;
	}
	*value = (long)coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
	return 1;
}
