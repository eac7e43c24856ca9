/* SenML data formats as LwM2M uses them (Core TS 7.4.4, 7.4.5, 7.4.7; RFC 8428, RFC 8790):
 * SenML JSON (110), SenML CBOR (112), SenML-ETCH JSON (320), SenML-ETCH CBOR (322), and
 * the SenML-ETCH path lists of composite operations (and MQTT key 6).
 *
 * Decoding (the same for JSON and CBOR):
 * - a record's name is bn + n, concatenated as strings (RFC 8428), and must then read as
 *   [alternate path]/[gateway prefix/]o/i/r[/ri]: a first segment that is not a number is
 *   the gateway end-device prefix ("/d01/3303/0/5700"); the alternate path ("/lwm2m") is
 *   stripped when the options name it (without the option, "/lwm2m/3/0/0" reads "lwm2m"
 *   as a gateway prefix: the caller that knows a client's alternate path must pass it).
 *   The leading '/' is optional.
 * - base name, base time and base value persist until the next record that sets them;
 *   time = bt + t (negative t = historical values); a resolved time of 0 means "now" and
 *   gives a node without a timestamp. A resolved time below 2^28 is relative to now
 *   (RFC 8428 4.5.3): it is kept as is for the caller to resolve against its clock.
 * - values are typed with the typer; without a type the wire decides: an integer literal
 *   gives INTEGER (UNSIGNED above INT64_MAX), any other number FLOAT, vs STRING, vb
 *   BOOLEAN, vd OPAQUE (base64url in JSON, padding and the standard alphabet tolerated),
 *   vlo OBJLNK ("oid:iid"). A typed resource takes vs for STRING/CORELNK/OBJLNK, v (or a
 *   text under v, as Zephyr writes) for OBJLNK, an integral float for INTEGER/UNSIGNED/
 *   TIME (TIME truncates fractions); other mismatches fail with -LWM2M_ETYPE.
 * - integers are exact over the whole int64 and uint64 ranges, in JSON too.
 * - a payload without records (empty, "[]", 0x80) addressed to an instance gives an empty
 *   instance, to a multi-instance resource (typer) an empty multiple resource, to the
 *   root, an object or a composite nothing; to a single resource it fails.
 * - the same path twice at the same time (or both without time) fails, as does a value
 *   nested below another value; the same path at different times is a time series.
 * - records are not checked against the request path (the operation layer does that).
 * - unknown fields are ignored, except must-understand ones (names ending in '_').
 * - JSON is read by json_num.h (exact numbers, UTF-8 checked); one trailing comma after
 *   the pack is tolerated, as Leshan does. CBOR: definite or indefinite arrays, maps and
 *   strings, any key order, half/single/double floats, tag 4 decimal fractions.
 * - nodes come out sorted (nodes_sort order), also when appended to a non-empty list; on
 *   failure `out` is left as it was given.
 * - 110/112 need a value in every record; in 320/322 a record without a value, or with a
 *   null value, becomes a node of type LWM2M_TYPE_NONE (Write-Composite: delete that
 *   resource instance; RFC 8790 4: a null value removes the target record; Anjay Lite
 *   treats a record with no value the same way). Like values, they must name a resource
 *   or a resource instance.
 *
 * Encoding: names and times follow a layout (struct senml_opts); floats are shortest in
 * JSON and 8-byte doubles in CBOR (as Zephyr and Leshan write them); integers shortest;
 * opaque is vd (base64url without padding in JSON, a byte string in CBOR); objlnk is vlo
 * (a text key in CBOR too: SenML CBOR has no integer label for it). Marker nodes (empty
 * instance, empty multiple resource) write no record. */
#ifndef OBJ_FMT_SENML_H
#define OBJ_FMT_SENML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "fmt_internal.h"
#include "json_num.h"
#include "node.h"
#include "path.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

/* ---- entry points with fmt_decode / fmt_encode parameters ---------------------------- */

int senml_json_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int senml_json_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int senml_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int senml_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
/* SenML-ETCH (320/322): as above, plus NONE nodes for records without a value (decode)
 * and a null value for NONE nodes (encode). */
int senml_etch_json_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int senml_etch_json_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int senml_etch_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int senml_etch_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);

/* ---- options ---------------------------------------------------------------------------- */

enum senml_layout {
	/* bn = the request path ("/3/0/" + n for an instance, "/3/0/7/" + n for a multiple
	 * resource, the full "/3/0/0" and no n for a single resource); object, root and
	 * composite reads get one bn per instance (or per composite group). A new bn, with bt,
	 * starts at every change of group or time stamp; t is never written. Leshan's form. */
	SENML_LAYOUT_REQUEST = 0,
	/* bn = "/o/i/" of each instance, n = "r" or "r/ri"; the first time stamp goes into bt,
	 * later ones into a relative t. Zephyr's form. */
	SENML_LAYOUT_INSTANCE,
};

struct senml_opts {
	const char *alt_path;     /* alternate path ("/lwm2m", "/a/b"); NULL or "" = none */
	enum senml_layout layout; /* encoders */
	/* Encoders: the request paths of a composite (Read-Composite, Send...). Each node is
	 * named relative to the longest group path above it, one bn per group, as Leshan does;
	 * NULL = the layout's default grouping. */
	const struct lwm2m_path *groups;
	size_t ngroups;
	bool cbor_bt_tag4;        /* CBOR encoder: integral bt as tag 4 [0, m] (Leshan) */
};

int senml_json_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err);
int senml_json_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_buf *out,
		struct lwm2m_error *err);
int senml_cbor_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err);
int senml_cbor_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_buf *out,
		struct lwm2m_error *err);

/* ---- SenML-ETCH path lists (Read-Composite, Observe-Composite, MQTT key 6) ------------- */

/* Decode a path list (cf 320 or 110: JSON; 322 or 112: CBOR): every record names a path
 * (bn + n; "/" is the root) and carries no value and no time. *paths is malloc'd (free()
 * it; NULL when n is 0). A gateway prefix or an alternate path in a name fails here. */
int senml_etch_paths_decode(uint16_t cf, const uint8_t *buf, size_t len,
		struct lwm2m_path **paths, size_t *n, struct lwm2m_error *err);
/* The same with an alternate path to strip and, when prefixes is not NULL, the gateway
 * prefix of each path (*prefixes: malloc'd array of n malloc'd strings or NULLs; free
 * with senml_prefixes_free). */
int senml_etch_paths_decode_ex(uint16_t cf, const uint8_t *buf, size_t len,
		const char *alt_path, struct lwm2m_path **paths, char ***prefixes, size_t *n,
		struct lwm2m_error *err);
void senml_prefixes_free(char **prefixes, size_t n);
/* Encode a path list: one record per path with the full path in n and nothing else
 * (`[{"n":"/3/0/0"},{"n":"/1/0"}]`, `[{0:"/3/0/0"}, ...]`). */
int senml_etch_paths_encode(uint16_t cf, const struct lwm2m_path *paths, size_t n,
		struct lwm2m_buf *out, struct lwm2m_error *err);

/* ---- the record layer (raw SenML, no LwM2M model) ------------------------------------- */

enum senml_vkind {
	SENML_V_NONE = 0,   /* no value field */
	SENML_V_NUM,        /* v */
	SENML_V_STR,        /* vs (OMA JSON: sv) */
	SENML_V_BOOL,       /* vb (OMA JSON: bv) */
	SENML_V_DATA,       /* vd */
	SENML_V_OBJLNK,     /* vlo (OMA JSON: ov) */
	SENML_V_NULL,       /* a value field holding null */
	SENML_V_NUMTEXT,    /* CBOR v holding a text string (Zephyr's objlnk reader accepts it) */
};

/* Fields besides the value, as bits of senml_rec.has. */
#define SENML_HAS_BN   (1u << 0)
#define SENML_HAS_BT   (1u << 1)
#define SENML_HAS_BU   (1u << 2)
#define SENML_HAS_BV   (1u << 3)
#define SENML_HAS_BS   (1u << 4)
#define SENML_HAS_BVER (1u << 5)
#define SENML_HAS_N    (1u << 6)
#define SENML_HAS_U    (1u << 7)
#define SENML_HAS_S    (1u << 8)
#define SENML_HAS_T    (1u << 9)
#define SENML_HAS_UT   (1u << 10)

struct senml_str {
	const char *p;      /* not NUL-terminated in general */
	size_t len;
};

struct senml_rec {
	uint32_t has;
	struct senml_str bn, bu, n, u;
	struct json_num bt, bv, bs, bver, s, t, ut;
	enum senml_vkind vkind;
	struct json_num v;      /* SENML_V_NUM */
	struct senml_str vs;    /* STR, OBJLNK, NUMTEXT text; DATA bytes or, when data_b64, text */
	bool data_b64;          /* vs holds the base64 text of vd (JSON) instead of the bytes */
	bool vb;
	size_t offset;          /* where the record starts in the input */
};

/* A record list with storage for its strings. */
struct senml_pack {
	struct senml_rec *recs;
	size_t count, cap;
	struct senml_pack_blk *blocks;    /* owned string copies */
};

void senml_pack_init(struct senml_pack *p);
void senml_pack_free(struct senml_pack *p);        /* accepts NULL */
/* Append a deep copy of `r` (strings copied into the pack). */
int senml_pack_add(struct senml_pack *p, const struct senml_rec *r);

/* Parse a whole payload into records (no name resolution, no typing). */
int senml_json_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct senml_pack *out, struct lwm2m_error *err);
int senml_cbor_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct senml_pack *out, struct lwm2m_error *err);
/* Write records, fields in the order bver, bn, bt, bu, bv, bs, n, u, t, ut, value, s.
 * JSON writes data_b64 text as is and base64url-encodes bytes; CBOR needs bytes. */
int senml_json_write(const struct senml_rec *recs, size_t n, struct lwm2m_buf *out,
		struct lwm2m_error *err);
int senml_cbor_write(const struct senml_rec *recs, size_t n, struct lwm2m_buf *out,
		struct lwm2m_error *err);

/* ---- helpers shared with other formats ------------------------------------------------ */

/* base64 (url = '-' '_' alphabet, no padding; otherwise '+' '/' with padding). */
int senml_base64_encode(const uint8_t *p, size_t len, bool url, struct lwm2m_buf *out);
/* Accepts both alphabets, with or without padding. *out is malloc'd (NUL-terminated). */
int senml_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

/* ---- private to the SenML and OMA JSON codecs (fmt_senml_*.c, fmt_omajson.c) ---------- */

/* Record callback of the parsers; a non-zero return stops parsing with that code. */
typedef int (*senml_rec_fn)(void *ctx, const struct senml_rec *r);
int senml_json_records(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		senml_rec_fn fn, void *ctx, struct lwm2m_error *err);
int senml_cbor_records(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		senml_rec_fn fn, void *ctx, struct lwm2m_error *err);
int senml_pack_add_cb(void *pack, const struct senml_rec *r);
/* The signature of senml_json_records and senml_cbor_records. */
typedef int (*senml_records_fn)(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		senml_rec_fn fn, void *ctx, struct lwm2m_error *err);
/* Reads one JSON object of fields into *r (cleared first; r->offset = where it starts):
 * '{', then "key": value pairs, each value read by field(), then '}'. `what` names the
 * object in the message of a missing '{' ("'{' (a record)"). */
typedef int (*senml_json_field_fn)(struct json_rd *rd, struct senml_rec *r, const char *k, size_t klen);
int senml_json_read_object(struct json_rd *rd, struct senml_rec *r, const char *what,
		senml_json_field_fn field);
/* Writes `"key":` into a JSON object, after a ',' unless *first (which it then clears). */
int senml_json_put_key(struct lwm2m_buf *b, bool *first, const char *key);

enum senml_mode {
	SENML_MODE_VALUES = 0,   /* 110/112: every record carries a value */
	SENML_MODE_ETCH,         /* 320/322: no value or null = a NONE node */
	SENML_MODE_PATHS,        /* path lists: names only */
};

/* Resolves records (base fields, names, times, types) into nodes or paths. */
struct senml_dec {
	struct fmt_dec d;
	const struct lwm2m_path *req;
	const char *alt;                  /* alternate path without its outer slashes */
	size_t alt_len;
	enum senml_mode mode;
	bool oma;                         /* OMA JSON: untyped numbers are floats, sv may be base64 opaque */
	const char *fmt_name;             /* for messages */
	size_t first;                     /* out->count when decoding started */
	size_t nrec;                      /* records seen */
	char *bn;                         /* current base name (owned) */
	size_t bn_len, bn_cap;
	char *name;                       /* bn + n of the current record (owned) */
	size_t name_cap;
	/* A base name ending in '/' after at least one ID is resolved once: names are then
	 * that path plus the IDs of n. */
	bool bn_fast;
	struct lwm2m_path bn_path;
	size_t bn_pfx_off, bn_pfx_len;
	double bt;
	bool has_bv;
	struct json_num bv;
	struct lwm2m_path *paths;         /* SENML_MODE_PATHS output (owned until taken) */
	char **prefixes;
	size_t npaths, paths_cap;
	bool want_prefixes;
};

void senml_dec_init(struct senml_dec *s, size_t input_len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim, const char *alt_path,
		enum senml_mode mode, const char *fmt_name, struct lwm2m_nodes *out,
		struct lwm2m_error *err);
int senml_dec_record(struct senml_dec *s, const struct senml_rec *r);
int senml_dec_record_cb(void *s, const struct senml_rec *r);
/* After the last record: empty-payload markers, duplicate checks, sorting. */
int senml_dec_finish(struct senml_dec *s);
/* Releases the resolver; on failure (rc != 0) also drops the nodes it appended. */
void senml_dec_done(struct senml_dec *s, int rc);
/* The *_decode_ex of SenML JSON and CBOR: the records `records` reads, resolved into nodes
 * (etch: 320/322 rules); fmt_name for messages. */
int senml_decode_nodes(senml_records_fn records, const char *fmt_name, const uint8_t *buf,
		size_t len, const struct lwm2m_path *req, const struct fmt_typer *typer,
		const struct fmt_limits *lim, const struct senml_opts *opts, bool etch,
		struct lwm2m_nodes *out, struct lwm2m_error *err);

/* Encoder walk: one record per value node, named and timed per the layout. */
typedef int (*senml_emit_fn)(void *ctx, const struct senml_rec *r);
int senml_enc_walk(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct senml_opts *o, bool etch, senml_emit_fn emit, void *ctx,
		struct lwm2m_error *err);
/* Number of records senml_enc_walk emits. */
size_t senml_enc_count(const struct lwm2m_nodes *in);
/* Record value fields of a node's value (objlnk text goes into lnkbuf, >= 12 bytes). */
int senml_value_to_rec(const struct lwm2m_value *v, bool etch, struct senml_rec *r,
		char *lnkbuf, struct lwm2m_error *err);
/* "[/alt][/prefix]/o/i..." for the first `depth` IDs of p. */
int senml_name_build(struct lwm2m_buf *b, const char *alt_path, const char *prefix,
		const struct lwm2m_path *p, size_t depth);
/* The alternate path without outer slashes. */
void senml_alt_trim(const char *alt_path, const char **core, size_t *len);

#endif
