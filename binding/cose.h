/* COSE_Encrypt0 (RFC 9052 section 5.2, RFC 8152) with AES-CCM-16-64-128 (COSE algorithm
 * 10: 128-bit key, 13-byte nonce, 8-byte tag, at most 65535 bytes of content), and the
 * LwM2M MQTT Outer_Wrapper that carries it (Transport TS 8.6 and 8.8, object /23; see
 * spec/lwm2m-bindings.md 1.8). Pure: no I/O, no global state, no randomness; the caller
 * brings the key and the IV. Encoders only grow the caller's lwm2m_buf.
 *
 * Choices this module makes where the specifications leave room:
 *
 *  - Key material comes from a /23 instance: resource 0 (KID, a String) is used as the raw
 *    octets of the string for the kid header; resource 1 must be 10; resource 2 (Key, a
 *    String) is taken as its raw octets and must be exactly 16 of them. No hex or base64
 *    decoding: the specification defines none. /23 carries no base IV and no salt, and no
 *    key derivation is done.
 *  - Nonce: the normal mode for /23 is a full IV (header label 5): the caller passes 13
 *    bytes that never repeat under the key, in either direction (the same /23 key protects
 *    both; 13 random bytes per message are the simple way). The optional Partial IV mode
 *    (label 6, RFC 9052 3.1) needs a base IV agreed out of band (cose_key_set_base_iv):
 *    the base IV fills the nonce from the left and is zero-filled on the right, the
 *    sequence number is written big-endian in as few bytes as possible (0 as h'00', at most
 *    8 bytes), left-padded to 13 bytes and XORed in; this reproduces RFC 9052 C.4.2. Both
 *    directions sharing one key must then use disjoint sequence numbers.
 *  - Headers written: protected = h'a1010a' ({1: 10}); unprotected = {4: kid} (only when
 *    the key has a kid) plus {5: iv} or {6: partial iv}, keys ascending. Output is untagged
 *    unless COSE_F_TAGGED asks for tag 16.
 *  - Headers read: alg must be in the protected bucket (RFC 9052 3.1: authenticated where
 *    possible) and equal 10. kid may be in either bucket. A label may appear once per
 *    bucket and in one bucket only (labels 1..6 are checked; unknown labels are not).
 *    crit (2) is refused: no extension is understood. content type (3) and unknown labels
 *    (integers or text) are ignored, their values still well-formed and nested at most
 *    COSE_MAX_DEPTH deep. Exactly one of IV (13 bytes) and Partial IV (1..8 bytes, no
 *    leading zero byte) must be there; a Partial IV needs a key with a base IV.
 *  - kid: when the key has one, the message must carry the same bytes; when it has none,
 *    the message must carry none. kid is not authenticated, but a missing or foreign kid
 *    is refused so that no edit of the message passes unnoticed.
 *  - Tag 16 is accepted (once) in front of a COSE_Encrypt0 and is optional; any other tag
 *    is refused. Definite and indefinite arrays and maps are accepted; every string this
 *    module reads (protected, kid, IV, ciphertext, the msg-wrapper) must be definite.
 *    Detached content (ciphertext nil) and COSE_Encrypt (4 elements, recipients) are
 *    refused as not supported. Nothing may follow the message.
 *  - External AAD: the specification defines none; pass NULL/0 for interoperability. A
 *    caller that controls both ends may bind more (for example the topic), up to
 *    COSE_EXT_AAD_MAX bytes. The protected header may be up to COSE_PROTECTED_MAX bytes.
 *  - MQTT wrapper (spec 1.8 reading): the plaintext is the whole LwM2M message map, and
 *    the payload is {1: bstr .cbor [COSE_Encrypt0], 2: {}}: key 1 holds the CBOR array of
 *    exactly one untagged COSE_Encrypt0 (a tagged one is accepted), key 2 is the empty map.
 *    On reading, keys 1 and 2 are both required, in any order, nothing else; key 2 must be
 *    empty (clear content beside the protected message would be unauthenticated); an
 *    array of several COSE messages is not supported.
 *  - Depth counts containers from the outermost one (= level 1) of each CBOR document
 *    read: the payload, the msg-wrapper bytes, the protected header bytes.
 *  - Replay: no state is kept. The Partial IV comes back as iv_out->seq so the caller can
 *    run a replay window; full IVs give no such handle (the specification defines none).
 *  - Answers (spec 1.8, derived policy): a message that fails to unprotect is dropped
 *    without an answer, because its token is inside the ciphertext and cannot be trusted.
 *    A request that arrives unprotected where COSE is required is answered in clear with
 *    cose_unprotected_answer(): Register 403, Bootstrap-Pack-Request 401, every other
 *    request 400 (Bootstrap-Request included); responses and Notify get no answer.
 *
 * Errors (the first found is returned; err->msg names it and, where there is one, the byte
 * offset in the input):
 *   -LWM2M_EINVAL   malformed CBOR or COSE structure: wrong shape or type, truncation,
 *                   trailing bytes, nesting deeper than COSE_MAX_DEPTH, duplicate label,
 *                   label in both buckets, alg missing or unprotected, IV missing, both
 *                   IVs, IV not 13 bytes, empty or non-minimal Partial IV, ciphertext
 *                   shorter than the tag, indefinite string, not a protected MQTT wrapper;
 *                   and authentication failure (wrong key, wrong external AAD or an
 *                   altered message: "authentication failed");
 *   -LWM2M_ENOTSUP  algorithm other than 10, crit, tag other than 16, COSE_Encrypt,
 *                   detached content, Partial IV without a base IV, several COSE messages;
 *   -LWM2M_ENOENT   kid missing, unexpected, or not the key's kid;
 *   -LWM2M_ERANGE   Partial IV longer than 8 bytes;
 *   -LWM2M_ETOOBIG  content above 65535 bytes, external AAD above COSE_EXT_AAD_MAX,
 *                   protected header above COSE_PROTECTED_MAX, output above out->limit;
 *   -LWM2M_ENOMEM   output could not grow.
 * Output buffers are appended to and are left as they were on error.
 */
#ifndef BINDING_COSE_H
#define BINDING_COSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "op.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

#define COSE_ALG_AES_CCM_16_64_128 10
#define COSE_KEY_LEN         16u
#define COSE_NONCE_LEN       13u
#define COSE_TAG_LEN         8u
#define COSE_CONTENT_MAX     65535u   /* CCM with a 13-byte nonce has a 2-byte length field */
#define COSE_KID_MAX         64u
#define COSE_PARTIAL_IV_MAX  8u       /* so that it is a uint64 sequence number */
#define COSE_EXT_AAD_MAX     1024u
#define COSE_PROTECTED_MAX   256u
#define COSE_MAX_DEPTH       8u

/* Header labels (RFC 9052 table 3) and the COSE_Encrypt0 tag. */
enum {
	COSE_HDR_ALG = 1, COSE_HDR_CRIT = 2, COSE_HDR_CONTENT_TYPE = 3, COSE_HDR_KID = 4,
	COSE_HDR_IV = 5, COSE_HDR_PARTIAL_IV = 6,
	COSE_TAG_ENCRYPT0 = 16,
};

/* One symmetric key. Fill it with cose_key_from_object23 (and cose_key_set_base_iv for
 * the Partial IV mode); wipe it with cose_key_wipe. */
struct cose_key {
	uint8_t key[COSE_KEY_LEN];
	uint8_t kid[COSE_KID_MAX];
	size_t kid_len;                  /* 0: no kid sent, none accepted */
	uint8_t base_iv[COSE_NONCE_LEN];
	size_t base_iv_len;              /* 0: no base IV, Partial IVs refused */
};

enum cose_iv_kind {
	COSE_IV_FULL = 0,      /* label 5: the 13-byte nonce travels in the message */
	COSE_IV_PARTIAL = 1,   /* label 6: a sequence number, combined with the base IV */
};

/* The per-message IV: what protect is given, what unprotect reports. */
struct cose_iv {
	enum cose_iv_kind kind;
	uint8_t full[COSE_NONCE_LEN];    /* COSE_IV_FULL */
	uint64_t seq;                    /* COSE_IV_PARTIAL */
};

/* The parts of a COSE_Encrypt0, as views into the parsed bytes. */
struct cose_encrypt0_view {
	bool tagged;
	struct lwm2m_view protected_hdr;  /* the serialized protected map, as authenticated */
	bool has_kid;
	struct lwm2m_view kid;
	enum cose_iv_kind iv_kind;
	struct lwm2m_view iv;             /* the 13-byte IV or the 1..8 Partial IV bytes */
	uint64_t seq;                     /* the Partial IV as a number (COSE_IV_PARTIAL) */
	struct lwm2m_view ciphertext;     /* encrypted content followed by the 8-byte tag */
};

/* ---- Keys ---- */

/* Fill k from the resources of a /23 instance: alg (resource 1) must be 10 (-LWM2M_ENOTSUP
 * otherwise), key (resource 2) 16 bytes (-LWM2M_EINVAL), kid (resource 0) at most
 * COSE_KID_MAX bytes (-LWM2M_ETOOBIG; 0 bytes = no kid). Leaves no base IV. */
int cose_key_from_object23(struct cose_key *k, int64_t alg, const uint8_t *key,
	size_t key_len, const uint8_t *kid, size_t kid_len, struct lwm2m_error *err);

/* Give k a base IV of 1..13 bytes (-LWM2M_EINVAL otherwise), enabling Partial IVs. */
int cose_key_set_base_iv(struct cose_key *k, const uint8_t *base_iv, size_t len,
	struct lwm2m_error *err);

/* Overwrite the key material with zeros (not optimised away). */
void cose_key_wipe(struct cose_key *k);

/* ---- COSE_Encrypt0 ---- */

#define COSE_F_TAGGED 1u   /* write COSE_Encrypt0_Tagged (tag 16 in front) */

/* Encrypt plain[0..len) under k with the IV iv and the external AAD, and append the
 * COSE_Encrypt0 to out. A Partial IV needs k->base_iv_len (-LWM2M_ENOTSUP). The caller
 * guarantees that no IV is ever used twice under one key. */
int cose_encrypt0_protect(const struct cose_key *k, const struct cose_iv *iv,
	unsigned flags, const uint8_t *ext_aad, size_t aad_len, const uint8_t *plain,
	size_t len, struct lwm2m_buf *out, struct lwm2m_error *err);

/* Check the structure and headers of msg[0..len) without a key (algorithm included) and
 * fill out with views into msg. Useful to read the kid before choosing a key. */
int cose_encrypt0_parse(const uint8_t *msg, size_t len, struct cose_encrypt0_view *out,
	struct lwm2m_error *err);

/* Parse, check the kid against k, authenticate and decrypt msg[0..len) with the external
 * AAD, and append the plaintext to plain_out (which must not overlap msg). iv_out (may be
 * NULL) receives the IV kind and the IV or sequence number. Nothing is appended unless
 * the message authenticates. */
int cose_encrypt0_unprotect(const struct cose_key *k, const uint8_t *ext_aad,
	size_t aad_len, const uint8_t *msg, size_t len, struct lwm2m_buf *plain_out,
	struct cose_iv *iv_out, struct lwm2m_error *err);

/* ---- The LwM2M MQTT Outer_Wrapper ---- */

/* Protect one encoded LwM2M message map and append the MQTT payload
 * {1: bstr .cbor [COSE_Encrypt0], 2: {}} to out. */
int cose_mqtt_protect(const struct cose_key *k, const struct cose_iv *iv,
	const uint8_t *ext_aad, size_t aad_len, const uint8_t *msg, size_t len,
	struct lwm2m_buf *out, struct lwm2m_error *err);

/* Check the Outer_Wrapper shape of payload[0..len) and point encrypt0 at the bytes of its
 * single COSE message (not yet checked: pass them to cose_encrypt0_parse/unprotect). An
 * unprotected message or wrapper is -LWM2M_EINVAL. */
int cose_mqtt_unwrap(const uint8_t *payload, size_t len, struct lwm2m_view *encrypt0,
	struct lwm2m_error *err);

/* cose_mqtt_unwrap then cose_encrypt0_unprotect: appends the LwM2M message map (for
 * mqtt_codec_decode) to plain_out. */
int cose_mqtt_unprotect(const struct cose_key *k, const uint8_t *ext_aad, size_t aad_len,
	const uint8_t *payload, size_t len, struct lwm2m_buf *plain_out,
	struct cose_iv *iv_out, struct lwm2m_error *err);

/* ---- Classification ---- */

/* Whether msg[0..len) claims COSE protection and so must never be read as clear text:
 * tag 16 first, an array of 3 whose first element is a byte string, or a map whose key 1
 * holds a byte string (the protected Outer_Wrapper). Cheap and tolerant: true does not
 * mean well-formed, false covers the unprotected wrapper {1: null, 2: {...}}. */
bool cose_looks_protected(const uint8_t *msg, size_t len);

/* The LwM2M result that answers, in clear, a request of this kind that arrived
 * unprotected where COSE is required: 403 Register, 401 Bootstrap-Pack-Request, 400 any
 * other request; 0 (no answer) for LWM2M_OP_NONE (responses) and Notify. */
uint16_t cose_unprotected_answer(enum lwm2m_op_kind kind);

#endif
