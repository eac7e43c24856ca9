/* OMA TLV (content format 11542): the structural layer (tlv.h) and nodes <-> TLV.
 *
 * TLV says neither the value types nor the object id, so it needs the object model (typer)
 * and a request path of at least an object. Records that restate a level the request path
 * already gives (an object instance record at /3/0, a multiple resource record at /3/0/6)
 * must carry the same id. Resources directly at an object path go to instance 0, as Leshan
 * reads them. */
#include "tlv.h"
#include "fmt_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- structural layer ----------------------------------------------------------------- */

static const char *const kind_names[] = {
	"OBJECT_INSTANCE", "RESOURCE_INSTANCE", "MULTIPLE_RESOURCE", "RESOURCE_VALUE",
};

/* Lower-case words for messages. */
static const char *const kind_words[] = {
	"object instance", "resource instance", "multiple resource", "resource",
};

const char *tlv_kind_name(enum tlv_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : NULL;
}

int tlv_kind_parse(const char *name)
{
	for(int i = 0; i < 4; i++){
		if(name && !strcasecmp(name, kind_names[i])) return i;
	}
	return -1;
}

int tlv_read(const uint8_t *buf, size_t len, size_t *pos, size_t base, struct tlv_record *rec,
		struct lwm2m_error *err)
{
	size_t p = *pos, off = base + p, idlen, lenlen, vlen;
	uint8_t t;

	if(p >= len) return lwm2m_fail(err, LWM2M_EINVAL, (long)off, "TLV: record expected at byte %zu", off);
	t = buf[p];
	idlen = (t & 0x20) ? 2 : 1;
	lenlen = (t >> 3) & 3;
	if(len - p < 1 + idlen + lenlen){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off, "TLV: truncated record header at byte %zu", off);
	}
	rec->kind = (enum tlv_kind)(t >> 6);
	rec->id = idlen == 2 ? (uint16_t)((buf[p + 1] << 8) | buf[p + 2]) : buf[p + 1];
	p += 1 + idlen;
	if(lenlen == 0){
		vlen = t & 7;
	}else{
		vlen = 0;
		for(size_t i = 0; i < lenlen; i++) vlen = (vlen << 8) | buf[p + i];
		p += lenlen;
	}
	if(vlen > len - p){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
				"TLV: %s %u at byte %zu declares %zu value bytes, %zu remain",
				kind_words[rec->kind], (unsigned)rec->id, off, vlen, len - p);
	}
	rec->value = buf + p;
	rec->len = vlen;
	rec->offset = off;
	*pos = p + vlen;
	return 0;
}

/* Kinds allowed inside a container: -1 = top level, anything goes. */
static bool child_allowed(int parent, enum tlv_kind child)
{
	if(parent < 0) return true;
	if(parent == TLV_OBJECT_INSTANCE) return child == TLV_RESOURCE_VALUE || child == TLV_MULTIPLE_RESOURCE;
	if(parent == TLV_MULTIPLE_RESOURCE) return child == TLV_RESOURCE_INSTANCE;
	return false;
}

static int validate_list(const uint8_t *buf, size_t len, size_t base, int parent,
		struct lwm2m_error *err)
{
	size_t pos = 0;
	struct tlv_record rec = { 0 };
	int rc;

	while(pos < len){
		rc = tlv_read(buf, len, &pos, base, &rec, err);
		if(rc) return rc;
		if(!child_allowed(parent, rec.kind)){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)rec.offset, "TLV: %s at byte %zu inside a %s",
					kind_words[rec.kind], rec.offset, kind_words[parent]);
		}
		if(rec.kind == TLV_OBJECT_INSTANCE || rec.kind == TLV_MULTIPLE_RESOURCE){
			rc = validate_list(rec.value, rec.len, (size_t)(rec.value - buf) + base, rec.kind, err);
			if(rc) return rc;
		}
	}
	return 0;
}

int tlv_validate(const uint8_t *buf, size_t len, size_t base, struct lwm2m_error *err)
{
	return validate_list(buf, len, base, -1, err);
}

static size_t header_size(uint16_t id, size_t len)
{
	return 1 + (id > 0xff ? 2 : 1) + (len < 8 ? 0 : len <= 0xff ? 1 : len <= 0xffff ? 2 : 3);
}

int tlv_write_header(struct lwm2m_buf *out, enum tlv_kind kind, uint16_t id, size_t len)
{
	uint8_t h[6];
	size_t n = 1;

	if(len > 0xffffff) return -LWM2M_ETOOBIG;
	h[0] = (uint8_t)(kind << 6);
	if(id > 0xff){
		h[0] |= 0x20;
		h[n++] = (uint8_t)(id >> 8);
	}
	h[n++] = (uint8_t)id;
	if(len < 8){
		h[0] |= (uint8_t)len;
	}else if(len <= 0xff){
		h[0] |= 0x08;
		h[n++] = (uint8_t)len;
	}else if(len <= 0xffff){
		h[0] |= 0x10;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}else{
		h[0] |= 0x18;
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	return buf_append(out, h, n);
}

int tlv_write(struct lwm2m_buf *out, enum tlv_kind kind, uint16_t id, const void *value,
		size_t len)
{
	int rc = tlv_write_header(out, kind, id, len);
	return rc ? rc : buf_append(out, value, len);
}

/* ---- values --------------------------------------------------------------------------- */

static size_t put_be(uint8_t *tmp, uint64_t v, size_t n)
{
	for(size_t i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

/* The value bytes of v: a pointer into v for byte types, else into tmp. */
static int value_bytes(const struct lwm2m_value *v, uint8_t tmp[8], const uint8_t **p, size_t *len)
{
	*p = tmp;
	switch(v->type){
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_OPAQUE:
	case LWM2M_TYPE_CORELNK:
		*p = v->v.bytes.data;
		*len = v->v.bytes.len;
		return 0;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME: {
		int64_t i = v->v.i;
		size_t n = i >= INT8_MIN && i <= INT8_MAX ? 1 : i >= INT16_MIN && i <= INT16_MAX ? 2 :
			i >= INT32_MIN && i <= INT32_MAX ? 4 : 8;
		*len = put_be(tmp, (uint64_t)i, n);
		return 0;
	}
	case LWM2M_TYPE_UNSIGNED: {
		uint64_t u = v->v.u;
		size_t n = u <= 0x7f ? 1 : u <= 0x7fff ? 2 : u <= 0x7fffffff ? 4 : 8;
		*len = put_be(tmp, u, n);
		return 0;
	}
	case LWM2M_TYPE_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v->v.f, sizeof(bits));
		*len = put_be(tmp, bits, 8);
		return 0;
	}
	case LWM2M_TYPE_BOOLEAN:
		tmp[0] = v->v.b ? 1 : 0;
		*len = 1;
		return 0;
	case LWM2M_TYPE_OBJLNK:
		*len = put_be(tmp, ((uint32_t)v->v.lnk.obj << 16) | v->v.lnk.inst, 4);
		return 0;
	case LWM2M_TYPE_NONE:
		break;
	}
	return -LWM2M_ENOTSUP;
}

int tlv_value_encode(const struct lwm2m_value *v, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	uint8_t tmp[8];
	const uint8_t *p;
	size_t len;

	if(value_bytes(v, tmp, &p, &len) != 0){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "TLV cannot carry a value of type %s",
				lwm2m_type_name(v->type) ? lwm2m_type_name(v->type) : "?");
	}
	return buf_append(out, p, len);
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for(size_t i = 0; i < n; i++) v = (v << 8) | p[i];
	return v;
}

int tlv_value_decode(enum lwm2m_type type, const uint8_t *p, size_t len, const char *what,
		size_t offset, struct lwm2m_value *out, struct lwm2m_error *err)
{
	switch(type){
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if(!fmt_utf8_valid(p, len)){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)offset, "TLV %s at byte %zu: invalid UTF-8",
					what, offset);
		}
		/* fall through */
	case LWM2M_TYPE_OPAQUE:
		if(value_set_bytes(out, type, p, len) != 0){
			return lwm2m_fail(err, LWM2M_ENOMEM, (long)offset, "out of memory");
		}
		return 0;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
	case LWM2M_TYPE_UNSIGNED:
		if(len != 1 && len != 2 && len != 4 && len != 8) break;
		if(type == LWM2M_TYPE_UNSIGNED){
			out->v.u = get_be(p, len);
		}else{
			uint64_t raw = get_be(p, len);
			unsigned shift = (unsigned)(64 - 8 * len);
			/* sign-extend from the top bit of the value's width */
			out->v.i = shift ? (int64_t)(raw << shift) >> shift : (int64_t)raw;
		}
		out->type = type;
		return 0;
	case LWM2M_TYPE_FLOAT:
		if(len == 4){
			uint32_t bits = (uint32_t)get_be(p, 4);
			float f;
			memcpy(&f, &bits, sizeof(f));
			out->v.f = f;
		}else if(len == 8){
			uint64_t bits = get_be(p, 8);
			memcpy(&out->v.f, &bits, sizeof(out->v.f));
		}else{
			break;
		}
		out->type = type;
		return 0;
	case LWM2M_TYPE_BOOLEAN:
		if(len != 1 || p[0] > 1) break;
		out->type = type;
		out->v.b = p[0] == 1;
		return 0;
	case LWM2M_TYPE_OBJLNK:
		if(len != 4) break;
		out->type = type;
		out->v.lnk.obj = (uint16_t)get_be(p, 2);
		out->v.lnk.inst = (uint16_t)get_be(p + 2, 2);
		return 0;
	case LWM2M_TYPE_NONE:
		return lwm2m_fail(err, LWM2M_ETYPE, (long)offset,
				"TLV %s at byte %zu: the resource type is unknown, and TLV does not say it",
				what, offset);
	}
	return lwm2m_fail(err, LWM2M_EINVAL, (long)offset, "TLV %s at byte %zu: %zu bytes is not a valid %s",
			what, offset, len, lwm2m_type_name(type));
}

/* ---- TLV -> nodes --------------------------------------------------------------------- */

struct tlv_dec {
	struct fmt_dec d;
	const struct lwm2m_path *req;
	const uint8_t *start;
};

static int level_of(enum tlv_kind k)
{
	switch(k){
	case TLV_OBJECT_INSTANCE: return 2;
	case TLV_RESOURCE_INSTANCE: return 4;
	default: return 3;
	}
}

static int push_marker(struct tlv_dec *t, const struct lwm2m_path *p, enum lwm2m_node_kind kind,
		size_t off)
{
	struct lwm2m_node *n = NULL;
	int rc = fmt_dec_push(&t->d, off, &n);

	if(rc) return rc;
	n->path = *p;
	n->kind = kind;
	fmt_dec_placed(&t->d);
	return 0;
}

static int place_list(struct tlv_dec *t, const uint8_t *buf, size_t len, int parent,
		const struct lwm2m_path *cur, bool at_req);

/* Places one record below `cur` (the path its parent stands for); at_req is true while no
 * id beyond the request path was added. */
static int place_record(struct tlv_dec *t, const struct tlv_record *rec, int parent,
		const struct lwm2m_path *cur, bool at_req)
{
	struct lwm2m_path next = *cur;
	int lvl = level_of(rec->kind);
	char ps[LWM2M_PATH_STR_MAX];
	int rc;

	if(!child_allowed(parent, rec->kind)){
		return lwm2m_fail(t->d.err, LWM2M_EINVAL, (long)rec->offset, "TLV: %s at byte %zu inside a %s",
				kind_words[rec->kind], rec->offset, kind_words[parent]);
	}
	if(cur->len >= lvl){
		/* The record restates a level of the request path: its id must agree. */
		if(!at_req || cur->ids[lvl - 1] != rec->id){
			path_format(t->req, ps, sizeof(ps));
			return lwm2m_fail(t->d.err, LWM2M_EINVAL, (long)rec->offset,
					"TLV: %s %u at byte %zu does not match the request path %s",
					kind_words[rec->kind], (unsigned)rec->id, rec->offset, ps);
		}
	}else if(cur->len == lvl - 1){
		next.ids[next.len++] = rec->id;
		at_req = false;
	}else if(cur->len == 1 && lvl == 3){
		next.ids[next.len++] = 0;         /* resources straight below an object: instance 0 */
		next.ids[next.len++] = rec->id;
		at_req = false;
	}else{
		path_format(cur, ps, sizeof(ps));
		return lwm2m_fail(t->d.err, LWM2M_EINVAL, (long)rec->offset, "TLV: a %s at byte %zu cannot be at %s",
				kind_words[rec->kind], rec->offset, ps);
	}

	switch(rec->kind){
	case TLV_OBJECT_INSTANCE:
	case TLV_MULTIPLE_RESOURCE:
		if(rec->len > 0) return place_list(t, rec->value, rec->len, rec->kind, &next, at_req);
		/* empty: an empty instance or multiple resource, which a deeper request cannot get */
		if(next.len != lvl){
			path_format(t->req, ps, sizeof(ps));
			return lwm2m_fail(t->d.err, LWM2M_EINVAL, (long)rec->offset,
					"TLV: an empty %s at byte %zu does not answer the request path %s",
					kind_words[rec->kind], rec->offset, ps);
		}
		return push_marker(t, &next, rec->kind == TLV_OBJECT_INSTANCE ? LWM2M_NODE_EMPTY_INSTANCE :
				LWM2M_NODE_EMPTY_MULTIPLE, rec->offset);
	case TLV_RESOURCE_VALUE:
	case TLV_RESOURCE_INSTANCE: {
		struct lwm2m_node *n = NULL;
		enum lwm2m_type type;

		if(next.len != lvl){
			path_format(t->req, ps, sizeof(ps));
			return lwm2m_fail(t->d.err, LWM2M_EINVAL, (long)rec->offset,
					"TLV: a %s at byte %zu does not answer the request path %s",
					kind_words[rec->kind], rec->offset, ps);
		}
		type = fmt_type_of(t->d.typer, NULL, &next);
		path_format(&next, ps, sizeof(ps));
		if(type == LWM2M_TYPE_NONE){
			return lwm2m_fail(t->d.err, LWM2M_ETYPE, (long)rec->offset,
					"TLV %s at byte %zu: the resource type is unknown (no object model for it), "
					"and TLV does not say it", ps, rec->offset);
		}
		rc = fmt_dec_push(&t->d, rec->offset, &n);
		if(rc) return rc;
		n->path = next;
		fmt_dec_placed(&t->d);
		return tlv_value_decode(type, rec->value, rec->len, ps, rec->offset, &n->value, t->d.err);
	}
	}
	return -LWM2M_EINVAL;
}

static int place_list(struct tlv_dec *t, const uint8_t *buf, size_t len, int parent,
		const struct lwm2m_path *cur, bool at_req)
{
	size_t pos = 0, base = (size_t)(buf - t->start);
	struct tlv_record rec = { 0 };
	int rc;

	while(pos < len){
		rc = tlv_read(buf, len, &pos, base, &rec, t->d.err);
		if(rc) return rc;
		rc = place_record(t, &rec, parent, cur, at_req);
		if(rc) return rc;
	}
	return 0;
}

static int decode_empty(struct tlv_dec *t, const struct lwm2m_path *req)
{
	char ps[LWM2M_PATH_STR_MAX];
	int m;

	switch(req->len){
	case 1:
		return 0;                                   /* an object without instances */
	case 2:
		return push_marker(t, req, LWM2M_NODE_EMPTY_INSTANCE, 0);
	case 3:
		m = fmt_is_multiple(t->d.typer, NULL, req);
		if(m == 1) return push_marker(t, req, LWM2M_NODE_EMPTY_MULTIPLE, 0);
		path_format(req, ps, sizeof(ps));
		return lwm2m_fail(t->d.err, LWM2M_EINVAL, 0, "TLV: empty payload for %s resource %s",
				m == 0 ? "the single" : "the (unknown)", ps);
	default:
		path_format(req, ps, sizeof(ps));
		return lwm2m_fail(t->d.err, LWM2M_EINVAL, 0, "TLV: empty payload for resource instance %s", ps);
	}
}

int fmt_tlv_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct tlv_dec t;
	int rc;

	if(!req || req->len == 0){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"TLV needs a request path of at least an object: it has no object level");
	}
	fmt_dec_init(&t.d, typer, lim, len, out, err);
	t.req = req;
	t.start = buf;
	rc = len == 0 ? decode_empty(&t, req) : place_list(&t, buf, len, -1, req, true);
	if(rc) return rc;
	return fmt_dec_finish(&t.d, "TLV");
}

/* ---- nodes -> TLV --------------------------------------------------------------------- */

struct tlv_enc {
	const struct lwm2m_node **v;   /* sorted by path */
	struct lwm2m_error *err;
};

/* Size (out == NULL) or bytes of the records for v[a..b) at `level` (2 = instances,
 * 3 = resources, 4 = resource instances). */
static int emit(struct tlv_enc *e, size_t a, size_t b, int level, struct lwm2m_buf *out,
		size_t *size);

static int emit_group(struct tlv_enc *e, size_t a, size_t b, int level, struct lwm2m_buf *out,
		size_t *size)
{
	const struct lwm2m_node *n = e->v[a];
	uint16_t id = n->path.ids[level - 1];
	char name[FMT_NODE_NAME_MAX];
	uint8_t tmp[8];
	const uint8_t *p;
	size_t len = 0;
	enum tlv_kind kind;
	int rc;

	if(n->path.len == level){
		/* a leaf or an empty container at this level */
		if(n->kind == LWM2M_NODE_VALUE){
			kind = level == 4 ? TLV_RESOURCE_INSTANCE : TLV_RESOURCE_VALUE;
			if(value_bytes(&n->value, tmp, &p, &len) != 0){
				return lwm2m_fail(e->err, LWM2M_ENOTSUP, -1, "TLV cannot carry %s: it has no type",
						fmt_node_name(n, name, sizeof(name)));
			}
		}else{
			kind = level == 2 ? TLV_OBJECT_INSTANCE : TLV_MULTIPLE_RESOURCE;
			p = NULL;
		}
	}else{
		kind = level == 2 ? TLV_OBJECT_INSTANCE : TLV_MULTIPLE_RESOURCE;
		p = NULL;
		rc = emit(e, a, b, level + 1, NULL, &len);
		if(rc) return rc;
	}
	if(len > 0xffffff){
		return lwm2m_fail(e->err, LWM2M_ETOOBIG, -1, "TLV: %s is larger than 16 MiB",
				fmt_node_name(n, name, sizeof(name)));
	}
	*size = header_size(id, len) + len;
	if(!out) return 0;
	rc = tlv_write_header(out, kind, id, len);
	if(rc) return rc;
	if(p) return buf_append(out, p, len);
	if(n->path.len == level) return 0;
	return emit(e, a, b, level + 1, out, &len);
}

static int emit(struct tlv_enc *e, size_t a, size_t b, int level, struct lwm2m_buf *out,
		size_t *size)
{
	size_t total = 0, one = 0;
	int rc;

	for(size_t i = a; i < b;){
		size_t j = i + 1;
		uint16_t id = e->v[i]->path.ids[level - 1];

		while(j < b && e->v[j]->path.ids[level - 1] == id) j++;
		rc = emit_group(e, i, j, level, out, &one);
		if(rc) return rc;
		total += one;
		i = j;
	}
	*size = total;
	return 0;
}

static int ptr_compare(const void *a, const void *b)
{
	const struct lwm2m_node *x = *(const struct lwm2m_node *const *)a;
	const struct lwm2m_node *y = *(const struct lwm2m_node *const *)b;
	int c = path_compare(&x->path, &y->path);

	if(c) return c;
	return x < y ? -1 : x > y;    /* keeps the given order of equal paths */
}

int fmt_tlv_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	struct tlv_enc e;
	char name[FMT_NODE_NAME_MAX], other[FMT_NODE_NAME_MAX];
	size_t start, size;
	int level, rc = 0;

	for(size_t i = 0; i < in->count; i++){
		const struct lwm2m_node *n = &in->items[i];
		if(n->prefix){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "TLV cannot carry a gateway prefix (%s)",
					fmt_node_name(n, name, sizeof(name)));
		}
		if(n->path.ids[0] != in->items[0].path.ids[0]){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
					"TLV cannot carry a composite of two objects (%s and %s)",
					fmt_node_name(&in->items[0], name, sizeof(name)),
					fmt_node_name(n, other, sizeof(other)));
		}
	}
	if(!req || req->len == 0){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"TLV cannot carry a composite or root content: it needs one object path");
	}
	if(in->count == 0) return 0;
	e.err = err;
	e.v = malloc(in->count * sizeof(*e.v));
	if(!e.v) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	for(size_t i = 0; i < in->count; i++) e.v[i] = &in->items[i];
	qsort(e.v, in->count, sizeof(*e.v), ptr_compare);
	for(size_t i = 1; i < in->count; i++){
		if(path_starts_with(&e.v[i]->path, &e.v[i - 1]->path)){
			const char *why = e.v[i]->path.len == e.v[i - 1]->path.len ?
				"two values for one path (TLV carries no timestamps)" :
				"a value and values below it";
			rc = lwm2m_fail(err, LWM2M_ENOTSUP, -1, "TLV cannot carry %s: %s and %s", why,
					fmt_node_name(e.v[i - 1], name, sizeof(name)),
					fmt_node_name(e.v[i], other, sizeof(other)));
			break;
		}
	}
	/* The first record level: an object request lists instances, an instance request
	 * resources, a resource request the resource record itself. */
	level = req->len == 1 ? 2 : req->len == 2 ? 3 : req->len;
	/* an empty instance marker at the instance request path is simply no content */
	if(rc == 0 && !(in->count == 1 && e.v[0]->path.len < level)){
		start = out->len;
		rc = emit(&e, 0, in->count, level, NULL, &size);
		if(rc == 0) rc = buf_reserve(out, size);
		if(rc == 0) rc = emit(&e, 0, in->count, level, out, &size);
		if(rc) out->len = start;
	}
	free(e.v);
	return rc;
}
