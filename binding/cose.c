/* COSE_Encrypt0 with AES-CCM-16-64-128 and the LwM2M MQTT Outer_Wrapper.
 * See cose.h for the choices made where the specifications leave room. */
#include "cose.h"
#include "cbor_pull.h"

#include <cbor.h>
#include <mbedtls/ccm.h>
#include <mbedtls/platform_util.h>
#include <string.h>

/* ============================================ CBOR, with the binding's pull reader == */

/* Every tag head is read (COSE_Encrypt0 is tag 16), containers at most COSE_MAX_DEPTH
 * deep, refusals in this module's words. */
static struct pull_reader reader_over(const uint8_t *buf, size_t pos, size_t end)
{
	struct pull_reader r = { .buf = buf, .pos = pos, .end = end,
		.max_depth = COSE_MAX_DEPTH, .every_tag = true, .words = PULL_WORDS_COSE };
	return r;
}

static const char *kind_name(enum pull_kind k)
{
	return pull_kind_name(PULL_WORDS_COSE, k);
}

static bool is_map(enum pull_kind k) { return k == PULL_MAP || k == PULL_MAP_INDEF; }
static bool is_array(enum pull_kind k) { return k == PULL_ARRAY || k == PULL_ARRAY_INDEF; }

/* The value of a map entry: any item but a break. */
static int rd_value(struct pull_reader *r, struct pull_item *v, struct lwm2m_error *err)
{
	int rc = pull_next(r, v, err);

	if(rc) return rc;
	if(v->kind == PULL_BREAK){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)v->off,
			"malformed CBOR: break instead of a map value at byte %zu", v->off);
	}
	return 0;
}

/* A definite byte string, or a refusal naming what. */
static int want_bstr(const struct pull_item *it, const char *what, struct lwm2m_error *err)
{
	if(it->kind == PULL_BSTR) return 0;
	if(it->kind == PULL_BSTR_INDEF){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)it->off,
			"%s: indefinite-length byte strings are not supported at byte %zu", what,
			it->off);
	}
	return lwm2m_fail(err, LWM2M_EINVAL, (long)it->off,
		"%s: expected a byte string at byte %zu (found %s)", what, it->off,
		kind_name(it->kind));
}

static size_t offset_in(const struct pull_reader *r, const uint8_t *p)
{
	return (size_t)(p - r->buf);
}

/* A reader over the bytes of bs, a definite byte string read by outer. */
static struct pull_reader reader_in(const struct pull_reader *outer,
	const struct pull_item *bs)
{
	size_t pos = offset_in(outer, bs->ptr);

	return reader_over(outer->buf, pos, pos + bs->len);
}

/* ================================================================ Headers ======== */

enum bucket { B_PROTECTED = 0, B_UNPROTECTED = 1 };

static const char *const bucket_name[] = { "protected header", "unprotected header" };

struct headers {
	unsigned seen[2];                 /* bit per label 1..6, per bucket */
	struct cose_encrypt0_view *v;
};

#define LABEL_BIT(l) (1u << (l))

static int take_alg(const struct pull_item *val, struct lwm2m_error *err)
{
	if(val->kind == PULL_UINT && val->u == COSE_ALG_AES_CCM_16_64_128) return 0;
	if(val->kind == PULL_UINT || val->kind == PULL_NEGINT){
		/* a negative int is -1 - u; print it as such when it fits */
		bool neg = val->kind == PULL_NEGINT;
		bool fits = val->u <= (uint64_t)INT64_MAX;
		long long shown = neg && fits ? -1 - (long long)val->u : 0;
		if(neg && fits){
			return lwm2m_fail(err, LWM2M_ENOTSUP, (long)val->off,
				"alg %lld at byte %zu is not AES-CCM-16-64-128 (10)", shown, val->off);
		}
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)val->off,
			"alg %s%llu at byte %zu is not AES-CCM-16-64-128 (10)", neg ? "-1-" : "",
			(unsigned long long)val->u, val->off);
	}
	if(val->kind == PULL_TSTR){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)val->off,
			"alg \"%.*s\" at byte %zu is not AES-CCM-16-64-128 (10)",
			(int)(val->len > 32 ? 32 : val->len), (const char *)val->ptr, val->off);
	}
	return lwm2m_fail(err, LWM2M_EINVAL, (long)val->off,
		"alg: expected an integer at byte %zu (found %s)", val->off, kind_name(val->kind));
}

static int take_partial_iv(const struct pull_reader *r, const struct pull_item *val,
	struct cose_encrypt0_view *v, struct lwm2m_error *err)
{
	int rc = want_bstr(val, "Partial IV (6)", err);

	if(rc) return rc;
	if(val->len == 0){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)val->off,
			"Partial IV (6) at byte %zu is empty", val->off);
	}
	if(val->len > COSE_PARTIAL_IV_MAX){
		return lwm2m_fail(err, LWM2M_ERANGE, (long)val->off,
			"Partial IV (6) at byte %zu has %zu bytes (at most %u)", val->off, val->len,
			COSE_PARTIAL_IV_MAX);
	}
	if(val->len > 1 && val->ptr[0] == 0){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)offset_in(r, val->ptr),
			"Partial IV (6) at byte %zu has a leading zero byte", val->off);
	}
	v->iv_kind = COSE_IV_PARTIAL;
	v->iv.ptr = val->ptr;
	v->iv.len = val->len;
	v->seq = 0;
	for(size_t i = 0; i < val->len; i++) v->seq = (v->seq << 8) | val->ptr[i];
	return 0;
}

static int take_known(const struct pull_reader *r, unsigned label, enum bucket b,
	const struct pull_item *val, struct cose_encrypt0_view *v, struct lwm2m_error *err)
{
	int rc;

	switch(label){
		case COSE_HDR_ALG:
			if(b != B_PROTECTED){
				return lwm2m_fail(err, LWM2M_EINVAL, (long)val->off,
					"alg (1) must be in the protected header (byte %zu)", val->off);
			}
			return take_alg(val, err);
		case COSE_HDR_CRIT:
			return lwm2m_fail(err, LWM2M_ENOTSUP, (long)val->off,
				"crit (2) at byte %zu: no critical header parameter is supported", val->off);
		case COSE_HDR_KID:
			rc = want_bstr(val, "kid (4)", err);
			if(rc) return rc;
			v->has_kid = true;
			v->kid.ptr = val->ptr;
			v->kid.len = val->len;
			return 0;
		case COSE_HDR_IV:
			rc = want_bstr(val, "IV (5)", err);
			if(rc) return rc;
			if(val->len != COSE_NONCE_LEN){
				return lwm2m_fail(err, LWM2M_EINVAL, (long)val->off,
					"IV (5) at byte %zu has %zu bytes (AES-CCM-16-64-128 needs %u)", val->off,
					val->len, COSE_NONCE_LEN);
			}
			v->iv_kind = COSE_IV_FULL;
			v->iv.ptr = val->ptr;
			v->iv.len = val->len;
			return 0;
		default:
			return take_partial_iv(r, val, v, err);
	}
}

/* One header entry: the label is read, the value head val too; the value's content is
 * consumed here. Containers inside the header map sit at map_level + 1. */
static int take_header(struct pull_reader *r, struct headers *h, enum bucket b,
	const struct pull_item *label, const struct pull_item *val, unsigned map_level,
	struct lwm2m_error *err)
{
	unsigned l, bit;

	if(label->kind == PULL_TSTR || label->kind == PULL_NEGINT ||
		(label->kind == PULL_UINT && (label->u == 0 || label->u > COSE_HDR_PARTIAL_IV))){
		return pull_skip(r, val, map_level, err);   /* unknown: ignored */
	}
	if(label->kind != PULL_UINT){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)label->off,
			"%s: label at byte %zu is a %s, not an integer or text string", bucket_name[b],
			label->off, kind_name(label->kind));
	}
	l = (unsigned)label->u;
	bit = LABEL_BIT(l);
	if(h->seen[b] & bit){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)label->off,
			"%s: duplicate label %u at byte %zu", bucket_name[b], l, label->off);
	}
	if(h->seen[!b] & bit){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)label->off,
			"label %u at byte %zu is in both the protected and the unprotected header", l,
			label->off);
	}
	h->seen[b] |= bit;
	if(l == COSE_HDR_CONTENT_TYPE) return pull_skip(r, val, map_level, err);
	return take_known(r, l, b, val, h->v, err);
}

/* The entries of a header map whose head mh (at map_level) has been read. */
static int read_header_map(struct pull_reader *r, struct headers *h, enum bucket b,
	const struct pull_item *mh, unsigned map_level, struct lwm2m_error *err)
{
	struct pull_members m;
	struct pull_item label, val;
	bool done;
	int rc;

	if(!is_map(mh->kind)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)mh->off,
			"%s: expected a map at byte %zu (found %s)", bucket_name[b], mh->off,
			kind_name(mh->kind));
	}
	rc = pull_members_start(r, mh, &m, err);
	if(rc) return rc;
	for(;;){
		rc = pull_members_next(r, &m, &label, &done, err);
		if(rc) return rc;
		if(done) return 0;
		if(!m.indef) m.left--;   /* the value is read here, not as a member */
		rc = rd_value(r, &val, err);
		if(rc) return rc;
		rc = take_header(r, h, b, &label, &val, map_level, err);
		if(rc) return rc;
	}
}

/* The protected bucket: a byte string holding one serialized map, or nothing. */
static int read_protected(const struct pull_reader *r, struct headers *h,
	const struct pull_item *bs, struct lwm2m_error *err)
{
	struct pull_reader pr;
	struct pull_item mh;
	int rc;

	rc = want_bstr(bs, "protected header", err);
	if(rc) return rc;
	if(bs->len > COSE_PROTECTED_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, (long)bs->off,
			"protected header at byte %zu has %zu bytes (at most %u)", bs->off, bs->len,
			COSE_PROTECTED_MAX);
	}
	h->v->protected_hdr.ptr = bs->ptr;
	h->v->protected_hdr.len = bs->len;
	if(bs->len == 0) return 0;
	pr = reader_in(r, bs);
	rc = pull_next(&pr, &mh, err);
	if(rc) return rc;
	rc = read_header_map(&pr, h, B_PROTECTED, &mh, 1, err);
	if(rc) return rc;
	if(pr.pos != pr.end){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)pr.pos,
			"protected header: %zu trailing bytes at byte %zu", pr.end - pr.pos, pr.pos);
	}
	return 0;
}

static int read_ciphertext(const struct pull_item *ct, struct cose_encrypt0_view *v,
	struct lwm2m_error *err)
{
	int rc;

	if(ct->kind == PULL_NULL){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)ct->off,
			"ciphertext at byte %zu is nil: detached content is not supported", ct->off);
	}
	rc = want_bstr(ct, "ciphertext", err);
	if(rc) return rc;
	if(ct->len < COSE_TAG_LEN){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)ct->off,
			"ciphertext at byte %zu has %zu bytes, shorter than the %u-byte tag", ct->off,
			ct->len, COSE_TAG_LEN);
	}
	if(ct->len - COSE_TAG_LEN > COSE_CONTENT_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, (long)ct->off,
			"ciphertext at byte %zu: %zu bytes of content exceed %u", ct->off,
			ct->len - COSE_TAG_LEN, COSE_CONTENT_MAX);
	}
	v->ciphertext.ptr = ct->ptr;
	v->ciphertext.len = ct->len;
	return 0;
}

/* ========================================================== COSE_Encrypt0 ======== */

/* The array head of a COSE_Encrypt0, after at most one tag 16. */
static int read_encrypt0_head(struct pull_reader *r, struct cose_encrypt0_view *v,
	struct pull_item *ah, struct lwm2m_error *err)
{
	int rc = pull_next(r, ah, err);

	if(rc) return rc;
	if(ah->kind == PULL_TAG){
		if(ah->u != COSE_TAG_ENCRYPT0){
			return lwm2m_fail(err, LWM2M_ENOTSUP, (long)ah->off,
				"tag %llu at byte %zu is not COSE_Encrypt0 (16)", (unsigned long long)ah->u,
				ah->off);
		}
		v->tagged = true;
		rc = pull_next(r, ah, err);
		if(rc) return rc;
		if(ah->kind == PULL_TAG){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)ah->off,
				"second tag at byte %zu: only one tag 16 may precede COSE_Encrypt0", ah->off);
		}
	}
	if(!is_array(ah->kind)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)ah->off,
			"expected the COSE_Encrypt0 array at byte %zu (found %s)", ah->off,
			kind_name(ah->kind));
	}
	if(ah->kind == PULL_ARRAY && ah->u == 4){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)ah->off,
			"array of 4 at byte %zu: COSE_Encrypt (with recipients) is not supported",
			ah->off);
	}
	if(ah->kind == PULL_ARRAY && ah->u != 3){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)ah->off,
			"array of %llu at byte %zu: COSE_Encrypt0 has 3 elements",
			(unsigned long long)ah->u, ah->off);
	}
	return 0;
}

/* Element i (0..2) of the array, or the break/end check when i == 3. */
static int read_element(struct pull_reader *r, struct pull_members *m, unsigned i,
	struct pull_item *it, size_t array_off, struct lwm2m_error *err)
{
	bool done;
	int rc = pull_members_next(r, m, it, &done, err);

	if(rc) return rc;
	if(i < 3 && done){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)it->off,
			"COSE_Encrypt0 at byte %zu has %u elements, not 3", array_off, i);
	}
	if(i == 3 && !done){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)it->off,
			"COSE_Encrypt0 at byte %zu has more than 3 elements", array_off);
	}
	return 0;
}

/* What the headers must hold once both buckets are read. */
static int check_headers(const struct headers *h, size_t array_off,
	struct lwm2m_error *err)
{
	unsigned all = h->seen[B_PROTECTED] | h->seen[B_UNPROTECTED];

	if(!(h->seen[B_PROTECTED] & LABEL_BIT(COSE_HDR_ALG))){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)array_off,
			"COSE_Encrypt0 at byte %zu: no alg (1) in the protected header", array_off);
	}
	if((all & LABEL_BIT(COSE_HDR_IV)) && (all & LABEL_BIT(COSE_HDR_PARTIAL_IV))){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)array_off,
			"COSE_Encrypt0 at byte %zu has both IV (5) and Partial IV (6)", array_off);
	}
	if(!(all & (LABEL_BIT(COSE_HDR_IV) | LABEL_BIT(COSE_HDR_PARTIAL_IV)))){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)array_off,
			"COSE_Encrypt0 at byte %zu has no IV (5) and no Partial IV (6)", array_off);
	}
	return 0;
}

static int read_encrypt0(struct pull_reader *r, struct cose_encrypt0_view *v,
	struct lwm2m_error *err)
{
	struct headers h = { .v = v };
	struct pull_members m;
	struct pull_item ah, it;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = read_encrypt0_head(r, v, &ah, err);
	if(rc) return rc;
	rc = pull_members_start(r, &ah, &m, err);
	if(rc) return rc;
	rc = read_element(r, &m, 0, &it, ah.off, err);
	if(rc) return rc;
	rc = read_protected(r, &h, &it, err);
	if(rc) return rc;
	rc = read_element(r, &m, 1, &it, ah.off, err);
	if(rc) return rc;
	rc = read_header_map(r, &h, B_UNPROTECTED, &it, 2, err);
	if(rc) return rc;
	rc = read_element(r, &m, 2, &it, ah.off, err);
	if(rc) return rc;
	rc = read_ciphertext(&it, v, err);
	if(rc) return rc;
	rc = read_element(r, &m, 3, &it, ah.off, err);
	if(rc) return rc;
	return check_headers(&h, ah.off, err);
}

int cose_encrypt0_parse(const uint8_t *msg, size_t len, struct cose_encrypt0_view *out,
	struct lwm2m_error *err)
{
	struct pull_reader r = reader_over(msg, 0, msg ? len : 0);
	int rc;

	rc = read_encrypt0(&r, out, err);
	if(rc) return rc;
	if(r.pos != r.end){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r.pos,
			"%zu trailing bytes after COSE_Encrypt0 at byte %zu", r.end - r.pos, r.pos);
	}
	return 0;
}

/* ============================================================== Crypto ========== */

/* The nonce: the full IV, or base IV (left-aligned, zero-filled) XOR the sequence
 * number left-padded to 13 bytes (RFC 9052 3.1; C.4.2). */
static void make_nonce(const struct cose_key *k, enum cose_iv_kind kind,
	const uint8_t *full, uint64_t seq, uint8_t nonce[COSE_NONCE_LEN])
{
	if(kind == COSE_IV_FULL){
		memcpy(nonce, full, COSE_NONCE_LEN);
		return;
	}
	memset(nonce, 0, COSE_NONCE_LEN);
	memcpy(nonce, k->base_iv, k->base_iv_len);
	for(unsigned i = 0; i < 8; i++){
		nonce[COSE_NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
	}
}

/* Bytes needed for a Partial IV: big-endian without leading zero bytes, at least one. */
static size_t partial_iv_len(uint64_t seq)
{
	size_t n = 1;

	while(n < 8 && (seq >> (8 * n)) != 0) n++;
	return n;
}

#define ENC_STRUCTURE_MAX (1 + 9 + 9 + COSE_PROTECTED_MAX + 9 + COSE_EXT_AAD_MAX)

/* Enc_structure = ["Encrypt0", protected, external_aad] (RFC 9052 5.3). Sizes are
 * checked by the callers, so it always fits. */
static size_t enc_structure(uint8_t out[ENC_STRUCTURE_MAX], struct lwm2m_view prot,
	const uint8_t *aad, size_t aad_len)
{
	size_t n = 0;

	n += cbor_encode_array_start(3, out + n, ENC_STRUCTURE_MAX - n);
	n += cbor_encode_string_start(8, out + n, ENC_STRUCTURE_MAX - n);
	memcpy(out + n, "Encrypt0", 8);
	n += 8;
	n += cbor_encode_bytestring_start(prot.len, out + n, ENC_STRUCTURE_MAX - n);
	if(prot.len) memcpy(out + n, prot.ptr, prot.len);
	n += prot.len;
	n += cbor_encode_bytestring_start(aad_len, out + n, ENC_STRUCTURE_MAX - n);
	if(aad_len) memcpy(out + n, aad, aad_len);
	return n + aad_len;
}

/* mbedTLS's answer as ours; off is where the ciphertext starts. */
static int ccm_result(int rc, size_t off, struct lwm2m_error *err)
{
	if(rc == MBEDTLS_ERR_CCM_AUTH_FAILED){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
			"authentication failed (wrong key, wrong external AAD or altered message) "
			"for the ciphertext at byte %zu", off);
	}
	if(rc){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off, "AES-CCM failed (-0x%04x)",
			(unsigned)-rc);
	}
	return 0;
}

/* AES-CCM-16-64-128 encryption of in[0..len) to out, the 8-byte tag to tag. */
static int ccm_seal(const struct cose_key *k, const uint8_t nonce[COSE_NONCE_LEN],
	const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	uint8_t *tag, struct lwm2m_error *err)
{
	mbedtls_ccm_context ccm;
	int rc;

	mbedtls_ccm_init(&ccm);
	rc = mbedtls_ccm_setkey(&ccm, MBEDTLS_CIPHER_ID_AES, k->key, COSE_KEY_LEN * 8);
	if(rc == 0){
		rc = mbedtls_ccm_encrypt_and_tag(&ccm, len, nonce, COSE_NONCE_LEN, aad, aad_len, in,
			out, tag, COSE_TAG_LEN);
	}
	mbedtls_ccm_free(&ccm);
	return ccm_result(rc, 0, err);
}

/* Authenticate and decrypt in[0..len) followed by its tag; mbedTLS compares the tag in
 * constant time and wipes out on failure. */
static int ccm_open(const struct cose_key *k, const uint8_t nonce[COSE_NONCE_LEN],
	const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	size_t err_off, struct lwm2m_error *err)
{
	mbedtls_ccm_context ccm;
	int rc;

	mbedtls_ccm_init(&ccm);
	rc = mbedtls_ccm_setkey(&ccm, MBEDTLS_CIPHER_ID_AES, k->key, COSE_KEY_LEN * 8);
	if(rc == 0){
		rc = mbedtls_ccm_auth_decrypt(&ccm, len, nonce, COSE_NONCE_LEN, aad, aad_len, in,
			out, in + len, COSE_TAG_LEN);
	}
	mbedtls_ccm_free(&ccm);
	return ccm_result(rc, err_off, err);
}

/* ================================================================ Keys ========== */

int cose_key_from_object23(struct cose_key *k, int64_t alg, const uint8_t *key,
	size_t key_len, const uint8_t *kid, size_t kid_len, struct lwm2m_error *err)
{
	if(!k) return lwm2m_fail(err, LWM2M_EINVAL, -1, "cose key: missing");
	memset(k, 0, sizeof(*k));
	if(alg != COSE_ALG_AES_CCM_16_64_128){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
			"/23 AEAD algorithm %lld is not supported (only AES-CCM-16-64-128 = 10)",
			(long long)alg);
	}
	if(!key || key_len != COSE_KEY_LEN){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
			"/23 key has %zu bytes; AES-CCM-16-64-128 needs %u", key ? key_len : 0,
			COSE_KEY_LEN);
	}
	if(kid_len && !kid) return lwm2m_fail(err, LWM2M_EINVAL, -1, "/23 KID: missing bytes");
	if(kid_len > COSE_KID_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, -1, "/23 KID has %zu bytes (at most %u)",
			kid_len, COSE_KID_MAX);
	}
	memcpy(k->key, key, COSE_KEY_LEN);
	if(kid_len) memcpy(k->kid, kid, kid_len);
	k->kid_len = kid_len;
	return 0;
}

int cose_key_set_base_iv(struct cose_key *k, const uint8_t *base_iv, size_t len,
	struct lwm2m_error *err)
{
	if(!k || !base_iv || len == 0 || len > COSE_NONCE_LEN){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "base IV has %zu bytes (1..%u)",
			base_iv ? len : 0, COSE_NONCE_LEN);
	}
	memset(k->base_iv, 0, sizeof(k->base_iv));
	memcpy(k->base_iv, base_iv, len);
	k->base_iv_len = len;
	return 0;
}

void cose_key_wipe(struct cose_key *k)
{
	if(k) mbedtls_platform_zeroize(k, sizeof(*k));
}

/* A key whose lengths are in range (memcpy sizes come from it). */
static bool key_usable(const struct cose_key *k)
{
	return k && k->kid_len <= COSE_KID_MAX && k->base_iv_len <= COSE_NONCE_LEN;
}

/* ============================================================== Protect ========== */

/* Everything about one message to seal, and the CBOR that precedes its ciphertext. */
struct sealing {
	const struct cose_key *k;
	const uint8_t *aad, *plain;
	size_t aad_len, len;
	uint8_t nonce[COSE_NONCE_LEN];
	uint8_t head[128];       /* [tag] array, protected, unprotected, ciphertext head */
	size_t head_len;
};

static const uint8_t protected_alg10[] = { 0xa1, 0x01, 0x0a };

static void put(struct sealing *s, const void *p, size_t n)
{
	memcpy(s->head + s->head_len, p, n);
	s->head_len += n;
}

/* CBOR heads; head[] is sized for the largest (tag, kid of COSE_KID_MAX, IV). */
static void put_uint(struct sealing *s, uint64_t v)
{
	s->head_len += cbor_encode_uint(v, s->head + s->head_len, sizeof(s->head) - s->head_len);
}

static void put_bstr_head(struct sealing *s, size_t n)
{
	s->head_len += cbor_encode_bytestring_start(n, s->head + s->head_len,
		sizeof(s->head) - s->head_len);
}

static void put_map_head(struct sealing *s, size_t n)
{
	s->head_len += cbor_encode_map_start(n, s->head + s->head_len,
		sizeof(s->head) - s->head_len);
}

static void put_array_head(struct sealing *s, size_t n)
{
	s->head_len += cbor_encode_array_start(n, s->head + s->head_len,
		sizeof(s->head) - s->head_len);
}

static void put_tag(struct sealing *s, uint64_t tag)
{
	s->head_len += cbor_encode_tag(tag, s->head + s->head_len, sizeof(s->head) - s->head_len);
}

/* The unprotected map {?4: kid, 5: iv / 6: partial iv}. */
static void put_unprotected(struct sealing *s, const struct cose_iv *iv)
{
	const struct cose_key *k = s->k;
	uint8_t piv[8];
	size_t n;

	put_map_head(s, k->kid_len ? 2 : 1);
	if(k->kid_len){
		put_uint(s, COSE_HDR_KID);
		put_bstr_head(s, k->kid_len);
		put(s, k->kid, k->kid_len);
	}
	if(iv->kind == COSE_IV_FULL){
		put_uint(s, COSE_HDR_IV);
		put_bstr_head(s, COSE_NONCE_LEN);
		put(s, iv->full, COSE_NONCE_LEN);
		return;
	}
	n = partial_iv_len(iv->seq);
	for(size_t i = 0; i < n; i++) piv[i] = (uint8_t)(iv->seq >> (8 * (n - 1 - i)));
	put_uint(s, COSE_HDR_PARTIAL_IV);
	put_bstr_head(s, n);
	put(s, piv, n);
}

static int sealing_init(struct sealing *s, const struct cose_key *k,
	const struct cose_iv *iv, unsigned flags, const uint8_t *aad, size_t aad_len,
	const uint8_t *plain, size_t len, struct lwm2m_error *err)
{
	memset(s, 0, sizeof(*s));
	if(!key_usable(k) || !iv){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "protect: missing or invalid key, or no IV");
	}
	if((len && !plain) || (aad_len && !aad)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "protect: missing input bytes");
	}
	if(iv->kind != COSE_IV_FULL && iv->kind != COSE_IV_PARTIAL){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "protect: unknown IV kind %d",
			(int)iv->kind);
	}
	if(iv->kind == COSE_IV_PARTIAL && !k->base_iv_len){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
			"protect: a Partial IV needs a key with a base IV");
	}
	if(len > COSE_CONTENT_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, -1,
			"protect: %zu bytes of content exceed %u (AES-CCM-16-64-128)", len,
			COSE_CONTENT_MAX);
	}
	if(aad_len > COSE_EXT_AAD_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, -1,
			"protect: external AAD of %zu bytes exceeds %u", aad_len, COSE_EXT_AAD_MAX);
	}
	s->k = k;
	s->aad = aad;
	s->aad_len = aad_len;
	s->plain = plain;
	s->len = len;
	make_nonce(k, iv->kind, iv->full, iv->seq, s->nonce);
	if(flags & COSE_F_TAGGED) put_tag(s, COSE_TAG_ENCRYPT0);
	put_array_head(s, 3);
	put_bstr_head(s, sizeof(protected_alg10));
	put(s, protected_alg10, sizeof(protected_alg10));
	put_unprotected(s, iv);
	put_bstr_head(s, len + COSE_TAG_LEN);
	return 0;
}

static size_t sealed_len(const struct sealing *s)
{
	return s->head_len + s->len + COSE_TAG_LEN;
}

/* Append prefix, the COSE_Encrypt0 and suffix to out (out unchanged on error). */
static int seal_into(const struct sealing *s, const uint8_t *prefix, size_t prefix_len,
	const uint8_t *suffix, size_t suffix_len, struct lwm2m_buf *out,
	struct lwm2m_error *err)
{
	struct lwm2m_view prot = { protected_alg10, sizeof(protected_alg10) };
	uint8_t aad[ENC_STRUCTURE_MAX];
	size_t aad_len, start, total;
	uint8_t *ct;
	int rc;

	if(!out) return lwm2m_fail(err, LWM2M_EINVAL, -1, "protect: missing output buffer");
	total = prefix_len + sealed_len(s) + suffix_len;
	rc = buf_reserve(out, total);
	if(rc){
		return lwm2m_fail(err, rc, -1, "protect: cannot grow the output by %zu bytes",
			total);
	}
	start = out->len;
	if(prefix_len) memcpy(out->data + start, prefix, prefix_len);
	memcpy(out->data + start + prefix_len, s->head, s->head_len);
	ct = out->data + start + prefix_len + s->head_len;
	aad_len = enc_structure(aad, prot, s->aad, s->aad_len);
	rc = ccm_seal(s->k, s->nonce, aad, aad_len, s->plain, s->len, ct, ct + s->len, err);
	if(rc){
		mbedtls_platform_zeroize(out->data + start, total);
		return rc;
	}
	if(suffix_len) memcpy(ct + s->len + COSE_TAG_LEN, suffix, suffix_len);
	out->len += total;
	return 0;
}

int cose_encrypt0_protect(const struct cose_key *k, const struct cose_iv *iv,
	unsigned flags, const uint8_t *ext_aad, size_t aad_len, const uint8_t *plain,
	size_t len, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	struct sealing s;
	int rc;

	rc = sealing_init(&s, k, iv, flags, ext_aad, aad_len, plain, len, err);
	if(rc) return rc;
	return seal_into(&s, NULL, 0, NULL, 0, out, err);
}

int cose_mqtt_protect(const struct cose_key *k, const struct cose_iv *iv,
	const uint8_t *ext_aad, size_t aad_len, const uint8_t *msg, size_t len,
	struct lwm2m_buf *out, struct lwm2m_error *err)
{
	static const uint8_t suffix[] = { 0x02, 0xa0 };   /* 2: {} */
	uint8_t prefix[16];
	size_t n = 0;
	struct sealing s;
	int rc;

	rc = sealing_init(&s, k, iv, 0, ext_aad, aad_len, msg, len, err);
	if(rc) return rc;
	/* {1: bstr .cbor [COSE_Encrypt0], ...: the bstr holds 0x81 and the message */
	n += cbor_encode_map_start(2, prefix + n, sizeof(prefix) - n);
	n += cbor_encode_uint(1, prefix + n, sizeof(prefix) - n);
	n += cbor_encode_bytestring_start(1 + sealed_len(&s), prefix + n, sizeof(prefix) - n);
	n += cbor_encode_array_start(1, prefix + n, sizeof(prefix) - n);
	return seal_into(&s, prefix, n, suffix, sizeof(suffix), out, err);
}

/* ============================================================ Unprotect ========== */

static int check_kid(const struct cose_key *k, const struct cose_encrypt0_view *v,
	const uint8_t *msg, struct lwm2m_error *err)
{
	size_t off = v->has_kid ? (size_t)(v->kid.ptr - msg) : 0;

	if(k->kid_len && !v->has_kid){
		return lwm2m_fail(err, LWM2M_ENOENT, 0,
			"no kid (4) in the message; the key has kid of %zu bytes", k->kid_len);
	}
	if(!k->kid_len && v->has_kid){
		return lwm2m_fail(err, LWM2M_ENOENT, (long)off,
			"kid (4) at byte %zu given, but the key has no kid", off);
	}
	if(v->has_kid && (v->kid.len != k->kid_len || memcmp(v->kid.ptr, k->kid, k->kid_len))){
		return lwm2m_fail(err, LWM2M_ENOENT, (long)off,
			"kid (4) at byte %zu does not name this key", off);
	}
	return 0;
}

int cose_encrypt0_unprotect(const struct cose_key *k, const uint8_t *ext_aad,
	size_t aad_len, const uint8_t *msg, size_t len, struct lwm2m_buf *plain_out,
	struct cose_iv *iv_out, struct lwm2m_error *err)
{
	struct cose_encrypt0_view v;
	uint8_t nonce[COSE_NONCE_LEN], aad[ENC_STRUCTURE_MAX], dummy;
	size_t aad_n, pt_len, ct_off;
	uint8_t *dst;
	int rc;

	if(!key_usable(k) || !plain_out){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
			"unprotect: missing or invalid key, or no output buffer");
	}
	if(aad_len && !ext_aad){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "unprotect: missing external AAD bytes");
	}
	if(aad_len > COSE_EXT_AAD_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, -1,
			"unprotect: external AAD of %zu bytes exceeds %u", aad_len, COSE_EXT_AAD_MAX);
	}
	rc = cose_encrypt0_parse(msg, len, &v, err);
	if(rc) return rc;
	rc = check_kid(k, &v, msg, err);
	if(rc) return rc;
	if(v.iv_kind == COSE_IV_PARTIAL && !k->base_iv_len){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)(v.iv.ptr - msg),
			"Partial IV at byte %zu, but the key has no base IV", (size_t)(v.iv.ptr - msg));
	}
	make_nonce(k, v.iv_kind, v.iv.ptr, v.seq, nonce);
	aad_n = enc_structure(aad, v.protected_hdr, ext_aad, aad_len);
	pt_len = v.ciphertext.len - COSE_TAG_LEN;
	ct_off = (size_t)(v.ciphertext.ptr - msg);
	rc = buf_reserve(plain_out, pt_len);
	if(rc){
		return lwm2m_fail(err, rc, -1, "unprotect: cannot grow the output by %zu bytes",
			pt_len);
	}
	dst = pt_len ? plain_out->data + plain_out->len : &dummy;
	rc = ccm_open(k, nonce, aad, aad_n, v.ciphertext.ptr, pt_len, dst, ct_off, err);
	if(rc) return rc;
	plain_out->len += pt_len;
	if(iv_out){
		memset(iv_out, 0, sizeof(*iv_out));
		iv_out->kind = v.iv_kind;
		if(v.iv_kind == COSE_IV_FULL) memcpy(iv_out->full, v.iv.ptr, COSE_NONCE_LEN);
		else iv_out->seq = v.seq;
	}
	return 0;
}

/* ======================================================= MQTT Outer_Wrapper ====== */

/* Key 2 once the message is protected: the empty map. */
static int read_empty_map(struct pull_reader *r, const struct pull_item *v,
	struct lwm2m_error *err)
{
	struct pull_item brk;
	int rc;

	if(v->kind == PULL_MAP && v->u == 0) return 0;
	if(v->kind == PULL_MAP_INDEF){
		rc = pull_next(r, &brk, err);
		if(rc) return rc;
		if(brk.kind == PULL_BREAK) return 0;
	}
	return lwm2m_fail(err, LWM2M_EINVAL, (long)v->off,
		"wrapper key 2 at byte %zu must be the empty map once the message is protected",
		v->off);
}

static int read_wrapper_key(struct pull_reader *r, const struct pull_item *key,
	const struct pull_item *val, unsigned *seen, struct pull_item *msg_wrapper,
	struct lwm2m_error *err)
{
	if(key->kind != PULL_UINT || (key->u != 1 && key->u != 2)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)key->off,
			"wrapper: key at byte %zu is not 1 or 2", key->off);
	}
	if(*seen & (1u << key->u)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)key->off,
			"wrapper: duplicate key %llu at byte %zu", (unsigned long long)key->u, key->off);
	}
	*seen |= 1u << key->u;
	if(key->u == 2) return read_empty_map(r, val, err);
	if(val->kind == PULL_NULL){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)val->off,
			"not COSE-protected: wrapper key 1 at byte %zu is null", val->off);
	}
	*msg_wrapper = *val;
	return want_bstr(val, "wrapper key 1 (msg-wrapper)", err);
}

/* The Outer_Wrapper map: finds key 1's byte string. */
static int read_wrapper(struct pull_reader *r, struct pull_item *msg_wrapper,
	struct lwm2m_error *err)
{
	struct pull_members m;
	struct pull_item mh, key, val;
	unsigned seen = 0;
	bool done;
	int rc;

	rc = pull_next(r, &mh, err);
	if(rc) return rc;
	if(!is_map(mh.kind)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)mh.off,
			"not an MQTT COSE wrapper: expected a map at byte %zu (found %s)", mh.off,
			kind_name(mh.kind));
	}
	rc = pull_members_start(r, &mh, &m, err);
	if(rc) return rc;
	for(;;){
		rc = pull_members_next(r, &m, &key, &done, err);
		if(rc) return rc;
		if(done) break;
		if(!m.indef) m.left--;
		rc = rd_value(r, &val, err);
		if(rc) return rc;
		rc = read_wrapper_key(r, &key, &val, &seen, msg_wrapper, err);
		if(rc) return rc;
	}
	if(seen != ((1u << 1) | (1u << 2))){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)mh.off,
			"wrapper at byte 0 lacks key %u", (seen & (1u << 1)) ? 2u : 1u);
	}
	return 0;
}

/* The msg-wrapper bytes: an array holding exactly one COSE message. */
static int read_msg_wrapper(const struct pull_reader *outer, const struct pull_item *bs,
	struct lwm2m_view *encrypt0, struct lwm2m_error *err)
{
	struct pull_reader r = reader_in(outer, bs);
	struct pull_members m;
	struct pull_item ah, it;
	size_t start;
	bool done;
	int rc;

	rc = pull_next(&r, &ah, err);
	if(rc) return rc;
	if(!is_array(ah.kind)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)ah.off,
			"msg-wrapper: expected an array at byte %zu (found %s)", ah.off,
			kind_name(ah.kind));
	}
	if(ah.kind == PULL_ARRAY && ah.u > 1){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)ah.off,
			"msg-wrapper at byte %zu holds %llu COSE messages; one is supported", ah.off,
			(unsigned long long)ah.u);
	}
	rc = pull_members_start(&r, &ah, &m, err);
	if(rc) return rc;
	start = r.pos;
	rc = pull_members_next(&r, &m, &it, &done, err);
	if(rc) return rc;
	if(done){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)ah.off,
			"msg-wrapper at byte %zu holds no COSE message", ah.off);
	}
	rc = pull_skip(&r, &it, 1, err);
	if(rc) return rc;
	encrypt0->ptr = r.buf + start;
	encrypt0->len = r.pos - start;
	rc = pull_members_next(&r, &m, &it, &done, err);
	if(rc) return rc;
	if(!done){
		return lwm2m_fail(err, LWM2M_ENOTSUP, (long)it.off,
			"msg-wrapper at byte %zu holds several COSE messages; one is supported", ah.off);
	}
	if(r.pos != r.end){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r.pos,
			"msg-wrapper: %zu trailing bytes at byte %zu", r.end - r.pos, r.pos);
	}
	return 0;
}

int cose_mqtt_unwrap(const uint8_t *payload, size_t len, struct lwm2m_view *encrypt0,
	struct lwm2m_error *err)
{
	struct pull_reader r = reader_over(payload, 0, payload ? len : 0);
	struct pull_item bs = { 0 };
	int rc;

	encrypt0->ptr = NULL;
	encrypt0->len = 0;
	rc = read_wrapper(&r, &bs, err);
	if(rc) return rc;
	if(r.pos != r.end){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r.pos,
			"%zu trailing bytes after the wrapper at byte %zu", r.end - r.pos, r.pos);
	}
	rc = read_msg_wrapper(&r, &bs, encrypt0, err);
	if(rc){
		encrypt0->ptr = NULL;
		encrypt0->len = 0;
	}
	return rc;
}

int cose_mqtt_unprotect(const struct cose_key *k, const uint8_t *ext_aad, size_t aad_len,
	const uint8_t *payload, size_t len, struct lwm2m_buf *plain_out,
	struct cose_iv *iv_out, struct lwm2m_error *err)
{
	struct lwm2m_view e0;
	size_t base;
	int rc;

	rc = cose_mqtt_unwrap(payload, len, &e0, err);
	if(rc) return rc;
	base = (size_t)(e0.ptr - payload);
	rc = cose_encrypt0_unprotect(k, ext_aad, aad_len, e0.ptr, e0.len, plain_out, iv_out,
		err);
	/* offsets were relative to the COSE message: make them point into the payload */
	if(rc && err && err->has_offset) err->offset += base;
	return rc;
}

/* ======================================================== Classification ========= */

static bool map_has_bstr_key1(struct pull_reader *r, const struct pull_item *mh)
{
	struct pull_members m;
	struct pull_item key, val;
	bool done;

	if(pull_members_start(r, mh, &m, NULL)) return false;
	for(;;){
		if(pull_members_next(r, &m, &key, &done, NULL) || done) return false;
		if(!m.indef) m.left--;
		if(rd_value(r, &val, NULL)) return false;
		if(key.kind == PULL_UINT && key.u == 1){
			return val.kind == PULL_BSTR || val.kind == PULL_BSTR_INDEF;
		}
		if(pull_skip(r, &val, 1, NULL)) return false;
	}
}

bool cose_looks_protected(const uint8_t *msg, size_t len)
{
	struct pull_reader r = reader_over(msg, 0, msg ? len : 0);
	struct pull_item it, first;

	if(!msg || len == 0) return false;
	if(pull_next(&r, &it, NULL)) return false;
	if(it.kind == PULL_TAG) return it.u == COSE_TAG_ENCRYPT0;
	if((it.kind == PULL_ARRAY && it.u == 3) || it.kind == PULL_ARRAY_INDEF){
		if(pull_next(&r, &first, NULL)) return false;
		return first.kind == PULL_BSTR || first.kind == PULL_BSTR_INDEF;
	}
	if(is_map(it.kind)) return map_has_bstr_key1(&r, &it);
	return false;
}

uint16_t cose_unprotected_answer(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_NONE:
		case LWM2M_OP_NOTIFY:
			return 0;
		case LWM2M_OP_REGISTER:
			return 403;
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			return 401;
		default:
			return kind < LWM2M_OP_KIND_COUNT ? 400 : 0;
	}
}
