/* LwM2M CBOR (content format 11544, Core TS 1.2 section 7.5.4): nested maps keyed by IDs.
 *
 * A key is an ID (uint), or an array of IDs that descends several levels at once; at the
 * top level a text key, or an array whose first element is text, names a Gateway end
 * device (PREFIX). Keys are relative to the enclosing map, and the top level starts at the
 * object. Values are maps (one level further down) or CBOR values at resource or resource
 * instance level; an empty map is an empty instance or an empty multi-instance resource.
 *
 * The encoder groups consecutive nodes of one (prefix, object), keys each group with the
 * path down to its first branch ({[3,0]: {0: "a", 9: 100}}), and writes one map per level
 * below it, definite lengths and preferred serialization throughout. */
#include "fmt_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decoding ------------------------------------------------------------------------- */

struct lc_dec {
	struct fmt_dec d;
	struct fmt_cbor_rd r;
	const struct lwm2m_path *req;
};

static bool below(const struct lwm2m_path *p, const struct lwm2m_path *base)
{
	if(base->len > p->len) return false;
	for(uint8_t i = 0; i < base->len; i++){
		if(p->ids[i] != base->ids[i]) return false;
	}
	return true;
}

static int check_base(struct lc_dec *c, const struct lwm2m_path *p, const char *prefix, size_t off,
		bool leaf)
{
	char ps[LWM2M_PATH_STR_MAX], rs[LWM2M_PATH_STR_MAX];

	if(!c->req || below(p, c->req)) return 0;
	if(!leaf && path_starts_with(c->req, p)) return 0;     /* still on the way down */
	path_format(p, ps, sizeof(ps));
	path_format(c->req, rs, sizeof(rs));
	return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)off,
			"LwM2M CBOR: %s%s%s at byte %zu is outside the request path %s",
			prefix ? prefix : "", prefix ? ":" : "", ps, off, rs);
}

static int push(struct lc_dec *c, const struct lwm2m_path *p, const char *prefix, size_t off,
		struct lwm2m_node **out)
{
	struct lwm2m_node *n = NULL;
	int rc = fmt_dec_push(&c->d, off, &n);

	if(rc) return rc;
	n->path = *p;
	if(prefix){
		n->prefix = strdup(prefix);
		if(!n->prefix) return lwm2m_fail(c->d.err, LWM2M_ENOMEM, (long)off, "out of memory");
	}
	fmt_dec_placed(&c->d);
	*out = n;
	return 0;
}

static int add_id(struct lc_dec *c, struct lwm2m_path *p, uint64_t id, size_t off)
{
	if(id > LWM2M_ID_MAX){
		return lwm2m_fail(c->d.err, LWM2M_ERANGE, (long)off,
				"LwM2M CBOR: ID %" PRIu64 " at byte %zu is above 65535", id, off);
	}
	if(p->len >= LWM2M_PATH_MAX_DEPTH){
		return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)off,
				"LwM2M CBOR: key at byte %zu goes deeper than a resource instance", off);
	}
	p->ids[p->len++] = (uint16_t)id;
	return 0;
}

/* A prefix text string: copied into *prefix (owned). */
static int read_prefix(struct lc_dec *c, const struct fmt_cbor_head *h, char **prefix)
{
	const uint8_t *data;
	size_t len;
	uint8_t *owned;
	int rc = fmt_cbor_string(&c->r, h, &data, &len, &owned);

	if(rc) return rc;
	if(len == 0 || memchr(data, '\0', len) || !fmt_utf8_valid(data, len)){
		free(owned);
		return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h->off,
				"LwM2M CBOR: the end-device prefix at byte %zu is not a valid name", h->off);
	}
	if(owned){
		*prefix = (char *)owned;
		return 0;
	}
	*prefix = malloc(len + 1);
	if(!*prefix) return lwm2m_fail(c->d.err, LWM2M_ENOMEM, (long)h->off, "out of memory");
	memcpy(*prefix, data, len);
	(*prefix)[len] = '\0';
	return 0;
}

/* Reads a key into *p (extending it) and maybe *prefix (only when `top`). */
static int read_key(struct lc_dec *c, struct lwm2m_path *p, char **prefix, bool top)
{
	struct fmt_cbor_head h = { 0 }, e = { 0 };
	size_t ids = 0, items = 0;
	int rc;

	rc = fmt_cbor_head(&c->r, &h);
	if(rc) return rc;
	switch(h.major){
	case FMT_CBOR_UINT:
		return add_id(c, p, h.arg, h.off);
	case FMT_CBOR_TEXT:
		if(!top){
			return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h.off,
					"LwM2M CBOR: text key at byte %zu below the top level", h.off);
		}
		return read_prefix(c, &h, prefix);
	case FMT_CBOR_ARRAY:
		for(;;){
			if(h.indef ? fmt_cbor_break(&c->r) : items == h.arg) break;
			rc = fmt_cbor_head(&c->r, &e);
			if(rc) return rc;
			if(e.major == FMT_CBOR_TEXT && top && items == 0){
				rc = read_prefix(c, &e, prefix);
			}else if(e.major == FMT_CBOR_UINT){
				rc = add_id(c, p, e.arg, e.off);
				ids++;
			}else{
				rc = lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)e.off,
						"LwM2M CBOR: key element at byte %zu is not an ID", e.off);
			}
			if(rc) return rc;
			items++;
		}
		if(items == 0){
			return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h.off, "LwM2M CBOR: empty array key at byte %zu",
					h.off);
		}
		return 0;
	default:
		return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h.off,
				"LwM2M CBOR: key at byte %zu is neither an ID nor an array of IDs", h.off);
	}
}

static int read_map(struct lc_dec *c, const struct fmt_cbor_head *h, const char *prefix,
		const struct lwm2m_path *cur, bool top, size_t depth);

static int value_above_resource(struct lc_dec *c, const struct lwm2m_path *p, size_t off)
{
	char ps[LWM2M_PATH_STR_MAX];

	path_format(p, ps, sizeof(ps));
	return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)off,
			"LwM2M CBOR: value at byte %zu for %s, which is an %s, not a resource", off, ps,
			p->len == 2 ? "instance" : p->len == 1 ? "object" : "end device");
}

/* `inside`: the enclosing map is at or below the request path already, so is this. */
static int read_leaf(struct lc_dec *c, const struct lwm2m_path *p, const char *prefix, size_t off,
		bool inside)
{
	struct lwm2m_node *n = NULL;
	struct fmt_where what;
	enum lwm2m_type type;
	int rc;

	if(p->len < 3) return value_above_resource(c, p, off);
	if(!inside){
		rc = check_base(c, p, prefix, off, true);
		if(rc) return rc;
	}
	type = fmt_type_of(c->d.typer, prefix, p);
	rc = push(c, p, prefix, off, &n);
	if(rc) return rc;
	what = (struct fmt_where){ "LwM2M CBOR", prefix, &n->path };
	return fmt_cbor_read_value_inline(&c->r, type, &what, &n->value);
}

/* read_leaf for the usual leaf, a resource (instance) value inside the request path and
 * without a gateway prefix, kept in one piece so that nothing is passed around per value. */
static inline int read_plain_leaf(struct lc_dec *c, const struct lwm2m_path *p)
{
	size_t off = fmt_cbor_off(&c->r);
	enum lwm2m_type type = fmt_type_of(c->d.typer, NULL, p);
	struct lwm2m_node *n = NULL;
	struct fmt_where what;
	int rc = fmt_dec_push(&c->d, off, &n);

	if(rc) return rc;
	n->path = *p;
	fmt_dec_placed(&c->d);
	what = (struct fmt_where){ "LwM2M CBOR", NULL, &n->path };
	return fmt_cbor_read_value_inline(&c->r, type, &what, &n->value);
}

static inline bool is_plain_leaf(const struct lc_dec *c, const struct lwm2m_path *p,
		const char *prefix, bool inside)
{
	return p->len >= LWM2M_PATH_RESOURCE && inside && !prefix && c->r.p < c->r.end &&
		(*c->r.p >> 5) != FMT_CBOR_MAP;
}

/* The value of an entry whose key led to `p`: a map one level down, or a leaf. */
static int read_entry_value(struct lc_dec *c, const char *prefix, const struct lwm2m_path *p,
		bool inside, size_t depth)
{
	struct fmt_cbor_head vh = { 0 };
	size_t off = fmt_cbor_off(&c->r);
	int rc;

	if(c->r.p < c->r.end && (*c->r.p >> 5) == FMT_CBOR_MAP){
		rc = fmt_cbor_head(&c->r, &vh);
		return rc ? rc : read_map(c, &vh, prefix, p, false, depth + 1);
	}
	return read_leaf(c, p, prefix, off, inside);
}

static int read_entry(struct lc_dec *c, const char *prefix_in, const struct lwm2m_path *cur,
		bool top, bool inside, size_t depth)
{
	struct lwm2m_path p = *cur;
	char *owned_prefix = NULL;
	int rc = read_key(c, &p, &owned_prefix, top);

	if(rc == 0) rc = read_entry_value(c, owned_prefix ? owned_prefix : prefix_in, &p, inside, depth);
	free(owned_prefix);
	return rc;
}

/* A key that is an ID in one to three bytes (nearly every key): p = cur plus that ID,
 * read here rather than by read_key. False, with nothing read, for any other key and for
 * a key below a resource instance (read_key says what is wrong with those). */
static inline bool id_key(struct lc_dec *c, const struct lwm2m_path *cur, struct lwm2m_path *p)
{
	const uint8_t *q = c->r.p;
	size_t avail = (size_t)(c->r.end - q);
	uint16_t id;

	if(avail == 0 || cur->len >= LWM2M_PATH_MAX_DEPTH) return false;
	if(*q < 24){
		id = *q;
		q += 1;
	}else if(*q == 24 && avail >= 2){
		id = q[1];
		q += 2;
	}else if(*q == 25 && avail >= 3){
		id = (uint16_t)(q[1] << 8 | q[2]);
		q += 3;
	}else{
		return false;
	}
	*p = *cur;
	p->ids[p->len++] = id;
	c->r.p = q;
	return true;
}

static int read_map(struct lc_dec *c, const struct fmt_cbor_head *h, const char *prefix,
		const struct lwm2m_path *cur, bool top, size_t depth)
{
	struct lwm2m_node *n = NULL;
	struct lwm2m_path p;
	uint64_t entries = 0;
	bool inside = !c->req || below(cur, c->req);
	int rc;

	if(depth > c->d.max_depth){
		return lwm2m_fail(c->d.err, LWM2M_ETOOBIG, (long)h->off, "LwM2M CBOR: maps nested too deeply at byte %zu",
				h->off);
	}
	if(cur->len == LWM2M_PATH_MAX_DEPTH){
		return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h->off,
				"LwM2M CBOR: map at byte %zu below a resource instance", h->off);
	}
	if(!top && !inside){
		rc = check_base(c, cur, prefix, h->off, false);
		if(rc) return rc;
	}
	/* every entry needs at least two bytes: a larger count cannot be right */
	if(!h->indef && h->arg > (uint64_t)(c->r.end - c->r.p) / 2){
		return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h->off,
				"LwM2M CBOR: map at byte %zu announces %" PRIu64 " entries, more than the input holds",
				h->off, h->arg);
	}
	for(;;){
		if(h->indef){
			if(fmt_cbor_break(&c->r)) break;
			if(fmt_cbor_at_end(&c->r)){
				return lwm2m_fail(c->d.err, LWM2M_EINVAL, (long)h->off,
						"LwM2M CBOR: map at byte %zu has no break", h->off);
			}
		}else if(entries == h->arg){
			break;
		}
		if(!id_key(c, cur, &p)) rc = read_entry(c, prefix, cur, top, inside, depth);
		else if(is_plain_leaf(c, &p, prefix, inside)) rc = read_plain_leaf(c, &p);
		else rc = read_entry_value(c, prefix, &p, inside, depth);
		if(rc) return rc;
		entries++;
	}
	if(entries == 0 && !top && (cur->len == 2 || cur->len == 3)){
		rc = check_base(c, cur, prefix, h->off, true);
		if(rc) return rc;
		rc = push(c, cur, prefix, h->off, &n);
		if(rc) return rc;
		n->kind = cur->len == 2 ? LWM2M_NODE_EMPTY_INSTANCE : LWM2M_NODE_EMPTY_MULTIPLE;
	}
	return 0;
}

static int decode_payload(struct lc_dec *c, size_t len, struct lwm2m_error *err)
{
	struct fmt_cbor_head h = { 0 };
	struct lwm2m_path root = { 0 };
	int rc;

	rc = fmt_cbor_head(&c->r, &h);
	if(rc) return rc;
	if(h.major != FMT_CBOR_MAP){
		return lwm2m_fail(err, LWM2M_EINVAL, 0, "LwM2M CBOR: the payload is not a map");
	}
	rc = read_map(c, &h, NULL, &root, true, 1);
	if(rc) return rc;
	if(!fmt_cbor_at_end(&c->r)){
		size_t off = fmt_cbor_off(&c->r);
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off, "LwM2M CBOR: %zu bytes after the map at byte %zu",
				len - off, off);
	}
	return fmt_dec_finish(&c->d, "LwM2M CBOR");
}

int fmt_lwm2m_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct lc_dec c;
	struct node_pool pool;
	int rc;

	if(len == 0) return lwm2m_fail(err, LWM2M_EINVAL, 0, "LwM2M CBOR: empty payload (a map is required)");
	fmt_dec_init(&c.d, typer, lim, len, out, err);
	fmt_cbor_rd_init(&c.r, buf, len, err);
	node_pool_init(&pool, len);
	c.d.pool = &pool;
	c.r.pool = &pool;
	c.req = req && req->len ? req : NULL;
	/* a value takes at least 2 bytes (key, value) and usually more than 8 */
	fmt_dec_reserve(&c.d, len / 8 + 1);
	rc = decode_payload(&c, len, err);
	node_pool_done(&pool);
	return rc;
}

/* ---- encoding ------------------------------------------------------------------------- */

static int prefix_cmp(const char *a, const char *b)
{
	if(!a || !b) return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int node_ptr_cmp(const void *a, const void *b)
{
	const struct lwm2m_node *x = *(const struct lwm2m_node *const *)a;
	const struct lwm2m_node *y = *(const struct lwm2m_node *const *)b;
	int c = prefix_cmp(x->prefix, y->prefix);

	if(c) return c;
	c = path_compare(&x->path, &y->path);
	if(c) return c;
	return x < y ? -1 : x > y;
}

/* Nodes v[a..b) share ids[0..d); writes the map of level d. */
static int emit_map(struct lwm2m_buf *out, const struct lwm2m_node **v, size_t a, size_t b,
		uint8_t d)
{
	uint64_t count = 0;
	int rc;

	for(size_t i = a; i < b; i++){
		if(i == a || v[i]->path.ids[d] != v[i - 1]->path.ids[d]) count++;
	}
	rc = fmt_cbor_put_head(out, FMT_CBOR_MAP, count);
	for(size_t i = a; i < b && rc == 0;){
		size_t j = i + 1;
		while(j < b && v[j]->path.ids[d] == v[i]->path.ids[d]) j++;
		rc = fmt_cbor_put_head(out, FMT_CBOR_UINT, v[i]->path.ids[d]);
		if(rc) break;
		if(v[i]->path.len == d + 1){
			rc = v[i]->kind == LWM2M_NODE_VALUE ?
				fmt_cbor_put_value(out, &v[i]->value, FMT_CBOR_STYLE_LWM2M) :
				fmt_cbor_put_head(out, FMT_CBOR_MAP, 0);
		}else{
			rc = emit_map(out, v, i, j, (uint8_t)(d + 1));
		}
		i = j;
	}
	return rc;
}

/* One top-level entry for the group v[0..n) (same prefix and object, sorted). */
static int emit_group(struct lwm2m_buf *out, const struct lwm2m_node **v, size_t n)
{
	const char *prefix = v[0]->prefix;
	uint8_t common = v[0]->path.len;
	int rc;

	for(size_t i = 1; i < n; i++){
		uint8_t k = 0;
		while(k < common && k < v[i]->path.len && v[i]->path.ids[k] == v[0]->path.ids[k]) k++;
		common = k;
	}
	if(!prefix && common == 1){
		rc = fmt_cbor_put_head(out, FMT_CBOR_UINT, v[0]->path.ids[0]);
	}else{
		rc = fmt_cbor_put_head(out, FMT_CBOR_ARRAY, (uint64_t)common + (prefix ? 1 : 0));
		if(rc == 0 && prefix) rc = fmt_cbor_put_string(out, FMT_CBOR_TEXT, prefix, strlen(prefix));
		for(uint8_t k = 0; k < common && rc == 0; k++){
			rc = fmt_cbor_put_head(out, FMT_CBOR_UINT, v[0]->path.ids[k]);
		}
	}
	if(rc) return rc;
	if(n == 1 && common == v[0]->path.len){
		if(v[0]->kind == LWM2M_NODE_VALUE) return fmt_cbor_put_value(out, &v[0]->value, FMT_CBOR_STYLE_LWM2M);
		return fmt_cbor_put_head(out, FMT_CBOR_MAP, 0);
	}
	return emit_map(out, v, 0, n, common);
}

static bool same_group(const struct lwm2m_node *a, const struct lwm2m_node *b)
{
	return prefix_cmp(a->prefix, b->prefix) == 0 && a->path.ids[0] == b->path.ids[0];
}

int fmt_lwm2m_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	const struct lwm2m_node **v;
	char a[FMT_NODE_NAME_MAX], b[FMT_NODE_NAME_MAX];
	size_t groups = 0;
	int rc = 0;

	if(in->count == 0) return fmt_cbor_put_head(out, FMT_CBOR_MAP, 0);
	v = malloc(in->count * sizeof(*v));
	if(!v) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	/* Whole-list check first: the same path twice, or a value with values below it, has
	 * no LwM2M CBOR form. */
	for(size_t i = 0; i < in->count; i++) v[i] = &in->items[i];
	qsort(v, in->count, sizeof(*v), node_ptr_cmp);
	for(size_t i = 1; i < in->count; i++){
		if(prefix_cmp(v[i]->prefix, v[i - 1]->prefix) == 0 &&
				path_starts_with(&v[i]->path, &v[i - 1]->path)){
			rc = lwm2m_fail(err, LWM2M_ENOTSUP, -1, "LwM2M CBOR cannot carry %s: %s and %s",
					v[i]->path.len == v[i - 1]->path.len ?
					"two values for one path (it has no timestamps)" : "a value and values below it",
					fmt_node_name(v[i - 1], a, sizeof(a)), fmt_node_name(v[i], b, sizeof(b)));
			goto done;
		}
	}
	/* Groups keep the order they are given in (a composite read answers in request order). */
	for(size_t i = 0; i < in->count; i++){
		if(i == 0 || !same_group(&in->items[i], &in->items[i - 1])) groups++;
	}
	rc = fmt_cbor_put_head(out, FMT_CBOR_MAP, groups);
	for(size_t i = 0; i < in->count && rc == 0;){
		size_t j = i + 1;
		while(j < in->count && same_group(&in->items[j], &in->items[i])) j++;
		for(size_t k = i; k < j; k++) v[k - i] = &in->items[k];
		qsort(v, j - i, sizeof(*v), node_ptr_cmp);
		rc = emit_group(out, v, j - i);
		i = j;
	}
done:
	free(v);
	return rc;
}
