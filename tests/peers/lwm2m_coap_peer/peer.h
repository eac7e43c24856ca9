/* A CoAP LwM2M server for integration tests (libcoap 4.3.1, one thread).
 *
 * It serves the Registration interface (/rd), Send (/dp), sends requests to registered
 * devices on the session they registered from, and talks to the test in JSON lines:
 * commands on stdin, events on stdout (one object a line, flushed). See main.c for the
 * command line and commands.c for the commands. Block-wise transfers (RFC 7959) in both
 * directions are done by the peer itself (block.c, rd.c, requests.c), not by libcoap. */
#ifndef LWM2M_COAP_PEER_H
#define LWM2M_COAP_PEER_H

#include <coap3/coap.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PEER_MAX_ENDPOINT_FDS 4

struct psk_entry {
	char *identity;
	coap_bin_const_t key;        /* key.s is owned (malloc) */
};

/* One registered device. */
struct registration {
	struct registration *next;
	char *ep;
	char id[16];
	coap_session_t *session;     /* one reference held */
	json_t *query;               /* Register's query parameters, as changed by Updates */
	char *links;
	unsigned long lifetime_s;
	uint64_t expires_ms;
};

/* A request this server sent to a device (and, with Observe, its notifications). Its body
 * goes out in Block1 blocks when large, and a response or notification in Block2 blocks is
 * fetched block by block: every block request is a new exchange with its own token. */
struct outgoing {
	struct outgoing *next;
	char *id;                    /* the test's name of the request */
	coap_session_t *session;     /* one reference held */
	json_t *cmd;                 /* the request command: every block request is built from it */
	coap_pdu_type_t type;
	uint8_t *payload;            /* the request body, or NULL */
	size_t payload_len;
	unsigned block1_szx;         /* block size of the request body */
	size_t block1_end;           /* end of the Block1 block sent last; 0: not in blocks */
	uint8_t token[8];            /* the exchange under way */
	size_t token_len;
	uint8_t obs_token[8];        /* the exchange that carried Observe: notifications use it */
	size_t obs_token_len;
	int has_obs_token;
	uint64_t deadline_ms;        /* 0: none (observation established) */
	int want_observe;            /* sent with Observe: 0 */
	int answered;                /* the first response was reported */
	int rst_next;                /* answer the next CON notification with RST */
	int cancelling;              /* a GET with Observe: 1 was sent */
	int fetching;                /* token is a request for a further Block2 block */
	/* the body being reassembled (Block2) and what its first block said */
	uint8_t *body;
	size_t body_len;
	coap_pdu_code_t code;
	int ct;                      /* -1: none */
	long observe;                /* -1: none */
	int confirmable;
	json_t *location;            /* array of Location-Path segments, or NULL */
	uint8_t etag[8];
	size_t etag_len;
	int has_etag;
};

/* A request body arriving in Block1 blocks (per session, method and path). */
struct inbound {
	struct inbound *next;
	coap_session_t *session;     /* one reference held */
	char *key;                   /* method and path */
	uint8_t *data;
	size_t len;
	uint64_t expires_ms;
};

struct peer {
	coap_context_t *ctx;
	struct registration *regs;
	struct outgoing *outgoing;
	struct inbound *inbound;
	struct psk_entry *psks;
	size_t psk_count;
	json_t *refused_versions;    /* array of lwm2m= values answered 4.12 */
	coap_pdu_code_t refuse_code; /* 0, or the answer to every Register */
	uint64_t paused_until_ms;    /* 0: not paused */
	int endpoint_fds[PEER_MAX_ENDPOINT_FDS];
	size_t endpoint_fd_count;
	unsigned request_timeout_ms;
	int quit;
	char *line;                  /* stdin bytes not yet ending in a newline */
	size_t line_len;
	size_t line_cap;
	int line_dropped;            /* the current line is too long: skip to its end */
};

/* out.c: events and small conversions */
void emit(json_t *event);    /* prints and releases the event */
void emit_error(const char *request_id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t now_ms(void);
json_t *json_hex(const uint8_t *data, size_t len);
json_t *json_text_or_null(const uint8_t *data, size_t len);
json_t *json_addr(const coap_session_t *session);
json_t *json_identity(const coap_session_t *session);
json_t *json_code(coap_pdu_code_t code);
int parse_code(const json_t *value, coap_pdu_code_t *code);
int parse_hex(const char *hex, uint8_t **out, size_t *out_len);
struct peer *peer_of(const coap_session_t *session);

/* block.c: Block1/Block2 options (RFC 7959), handled by the peer itself */
struct block {
	uint32_t num;
	int m;                       /* more blocks follow */
	unsigned szx;                /* block size 2^(szx+4), 0..6 */
};
#define PEER_BLOCK_SZX_MAX 6u   /* 1024 bytes */

int block_get(const coap_pdu_t *pdu, coap_option_num_t number, struct block *b);
int block_add(coap_pdu_t *pdu, coap_option_num_t number, const struct block *b);
size_t block_size(unsigned szx);
size_t block_offset(const struct block *b);
unsigned block_szx_for(const coap_session_t *session);
int option_bytes(const coap_pdu_t *pdu, coap_option_num_t number, const uint8_t **value,
	size_t *len);
int option_uint(const coap_pdu_t *pdu, coap_option_num_t number, long *value);

/* rd.c: Registration interface and Send */
int rd_install(struct peer *p);
struct registration *rd_find_ep(struct peer *p, const char *ep);
void rd_forget(struct peer *p, const char *ep_or_null);
void rd_tick(struct peer *p, uint64_t now, uint64_t *next_due);
json_t *rd_list(struct peer *p);
void inbound_free_all(struct peer *p);

/* requests.c: requests to devices */
void req_install(struct peer *p);
void req_command(struct peer *p, const json_t *cmd);
void req_cancel_observe(struct peer *p, const json_t *cmd);
void req_rst_next(struct peer *p, const json_t *cmd);
void req_tick(struct peer *p, uint64_t now, uint64_t *next_due);
void req_free_all(struct peer *p);

/* commands.c */
void commands_feed(struct peer *p, const char *data, size_t len);

#endif
