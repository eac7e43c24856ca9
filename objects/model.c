/* The object registry (definitions kept in (id, version) order), the version pickers and
 * the typers. The built-in tables are in model_builtin.c, the XML loader in model_xml.c. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

struct obj_registry {
	struct obj_def **defs;     /* owned, sorted by (id, version) */
	size_t count, cap;
	/* The preferred definition of each object id, sorted by id: typing a value must not
	 * compare version strings (decoders ask once per value). Rebuilt by every add. */
	const struct obj_def **preferred;
	size_t n_preferred;
	/* The resources of the preferred definitions by (object ID, resource ID): the typers'
	 * per-value question in one or two probes instead of two binary searches. Open
	 * addressing, a power of two of slots at most half full, rebuilt with `preferred`;
	 * NULL when it could not be allocated (lookups then search the definitions). */
	struct res_slot *res_index;
	size_t res_mask;
};

struct res_slot {
	uint32_t key;                          /* object ID << 16 | resource ID */
	uint8_t type;                          /* res->type, one load closer */
	const struct obj_resource_def *res;    /* NULL: a free slot */
};

void obj_def_free(struct obj_def *def)
{
	if(!def) return;
	for(size_t i = 0; i < def->res_count; i++){
		free(def->res[i].name);
		free(def->res[i].range_enum);
		free(def->res[i].units);
	}
	free(def->res);
	free(def->name);
	free(def->version);
	free(def->lwm2m_version);
	free(def->urn);
	free(def);
}

struct obj_registry *obj_registry_new(void)
{
	struct obj_registry *reg = calloc(1, sizeof(*reg));

	if(!reg) return NULL;
	if(obj_builtin_load(reg) != 0){
		obj_registry_free(reg);
		return NULL;
	}
	return reg;
}

void obj_registry_free(struct obj_registry *reg)
{
	if(!reg) return;
	for(size_t i = 0; i < reg->count; i++) obj_def_free(reg->defs[i]);
	free(reg->defs);
	free(reg->preferred);
	free(reg->res_index);
	free(reg);
}

size_t obj_registry_count(const struct obj_registry *reg)
{
	return reg ? reg->count : 0;
}

const struct obj_def *obj_registry_at(const struct obj_registry *reg, size_t i)
{
	if(!reg || i >= reg->count) return NULL;
	return reg->defs[i];
}

/* ---- versions ---- */

static bool all_digits(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(s[i] < '0' || s[i] > '9') return false;
	}
	return true;
}

/* One dot-separated segment: numerically when both are digits (any length), else as text. */
static int compare_segment(const char *a, size_t na, const char *b, size_t nb)
{
	if(all_digits(a, na) && all_digits(b, nb)){
		while(na > 0 && *a == '0'){ a++; na--; }
		while(nb > 0 && *b == '0'){ b++; nb--; }
		if(na != nb) return na < nb ? -1 : 1;
		return memcmp(a, b, na);
	}
	int c = memcmp(a, b, na < nb ? na : nb);
	if(c != 0) return c;
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

int obj_version_compare(const char *a, const char *b)
{
	if(!a) a = "";
	if(!b) b = "";
	while(*a || *b){
		size_t na = strcspn(a, ".");
		size_t nb = strcspn(b, ".");
		int c = compare_segment(a, na, b, nb);

		if(c != 0) return c < 0 ? -1 : 1;
		a += na;
		b += nb;
		if(*a == '.') a++;
		if(*b == '.') b++;
	}
	return 0;
}

/* Versions with the same major number (the part before the first dot). */
static bool same_major(const char *a, const char *b)
{
	size_t na = strcspn(a, ".");
	size_t nb = strcspn(b, ".");

	return compare_segment(a, na, b, nb) == 0;
}

/* Object versions each enabler version implies for its core objects: Core TS 1.2.2 Tbl E-1,
 * and for 1.1 the 1.1.1 set (Device 1.1, Connectivity Monitoring 1.2), which is backward
 * compatible with what 1.1 listed. /5 under 1.2: Tbl E-1 says 1.1 but the same TS defines
 * 1.2 in E.6; 1.2 only adds an optional resource, so it types a 1.1 device correctly too. */
struct implied_row {
	uint16_t id;
	const char *v10, *v11, *v12;   /* NULL: not a core object of that enabler version */
};

static const struct implied_row implied_rows[] = {
	{0, "1.0", "1.1", "1.2"},
	{1, "1.0", "1.1", "1.2"},
	{2, "1.0", "1.0", "1.1"},
	{3, "1.0", "1.1", "1.2"},
	{4, "1.0", "1.2", "1.3"},
	{5, "1.0", "1.0", "1.2"},
	{6, "1.0", "1.0", "1.0"},
	{7, "1.0", "1.0", "1.0"},
	{21, NULL, "1.0", "2.0"},
	{23, NULL, NULL, "1.0"},
	{24, NULL, NULL, "1.0"},
	{25, NULL, NULL, "1.0"},
	{26, NULL, NULL, "1.0"},
	{27, NULL, NULL, "1.0"},
};

static const char *implied_core_version(uint16_t id, const char *lwm2m_version)
{
	int which = 2;

	if(lwm2m_version){
		if(obj_version_compare(lwm2m_version, "1.0") <= 0) which = 0;
		else if(obj_version_compare(lwm2m_version, "1.1") <= 0) which = 1;
	}
	for(size_t i = 0; i < sizeof(implied_rows) / sizeof(implied_rows[0]); i++){
		const struct implied_row *r = &implied_rows[i];
		if(r->id != id) continue;
		return which == 0 ? r->v10 : which == 1 ? r->v11 : r->v12;
	}
	return NULL;
}

const char *obj_implied_version(uint16_t id, const char *lwm2m_version)
{
	const char *v = implied_core_version(id, lwm2m_version);

	return v ? v : "1.0";
}

/* ---- lookup ---- */

static int compare_key(const struct obj_def *d, uint16_t id, const char *version)
{
	if(d->id != id) return d->id < id ? -1 : 1;
	return obj_version_compare(d->version, version);
}

/* Index of the first definition not below (id, version); version NULL = first of id. */
static size_t lower_bound(const struct obj_registry *reg, uint16_t id, const char *version)
{
	size_t lo = 0, hi = reg->count;

	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		const struct obj_def *d = reg->defs[mid];
		bool below = version ? compare_key(d, id, version) < 0 : d->id < id;

		if(below) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/* The range [*first, *end) of definitions of object `id`. */
static void id_range(const struct obj_registry *reg, uint16_t id, size_t *first, size_t *end)
{
	size_t i = lower_bound(reg, id, NULL);

	*first = i;
	while(i < reg->count && reg->defs[i]->id == id) i++;
	*end = i;
}

static const struct obj_def *find_exact(const struct obj_registry *reg, uint16_t id,
		const char *version)
{
	size_t i = lower_bound(reg, id, version);

	if(i < reg->count && compare_key(reg->defs[i], id, version) == 0) return reg->defs[i];
	return NULL;
}

/* The most recent version of `id` with the major number of `version`. */
static const struct obj_def *find_same_major(const struct obj_registry *reg, uint16_t id,
		const char *version)
{
	size_t first, end;

	id_range(reg, id, &first, &end);
	for(size_t i = end; i > first; i--){
		if(same_major(reg->defs[i - 1]->version, version)) return reg->defs[i - 1];
	}
	return NULL;
}

/* The rule behind obj_registry_find(id, NULL), without the cache. */
static const struct obj_def *find_preferred(const struct obj_registry *reg, uint16_t id)
{
	size_t first, end;
	const char *implied = implied_core_version(id, "1.2");

	if(implied){
		const struct obj_def *d = find_exact(reg, id, implied);
		if(d) return d;
	}
	id_range(reg, id, &first, &end);
	return end > first ? reg->defs[end - 1] : NULL;
}

/* Room for one more preferred entry, taken before the registry changes so that the
 * rebuild after it cannot fail. */
static int reserve_preferred(struct obj_registry *reg)
{
	const struct obj_def **v = realloc(reg->preferred, (reg->count + 1) * sizeof(*v));
	if(!v) return -LWM2M_ENOMEM;
	reg->preferred = v;
	return 0;
}

static size_t res_slot_of(uint32_t key, size_t mask)
{
	/* multiplicative hashing: the high bits mix both IDs */
	return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static void rebuild_res_index(struct obj_registry *reg)
{
	size_t total = 0, slots = 16;

	free(reg->res_index);
	reg->res_index = NULL;
	reg->res_mask = 0;
	for(size_t i = 0; i < reg->n_preferred; i++) total += reg->preferred[i]->res_count;
	while(slots < 2 * total && slots <= SIZE_MAX / 4 / sizeof(struct res_slot)) slots *= 2;
	if(slots < 2 * total) return;
	reg->res_index = calloc(slots, sizeof(*reg->res_index));
	if(!reg->res_index) return;          /* lookups fall back to the binary searches */
	reg->res_mask = slots - 1;
	for(size_t i = 0; i < reg->n_preferred; i++){
		const struct obj_def *d = reg->preferred[i];
		for(size_t k = 0; k < d->res_count; k++){
			uint32_t key = (uint32_t)d->id << 16 | d->res[k].id;
			size_t at = res_slot_of(key, reg->res_mask);
			while(reg->res_index[at].res && reg->res_index[at].key != key) at = (at + 1) & reg->res_mask;
			if(reg->res_index[at].res) continue;     /* a duplicate ID: the first one stays */
			reg->res_index[at].key = key;
			reg->res_index[at].type = (uint8_t)d->res[k].type;
			reg->res_index[at].res = &d->res[k];
		}
	}
}

static void rebuild_preferred(struct obj_registry *reg)
{
	size_t n = 0;
	for(size_t i = 0; i < reg->count; i++){
		if(i == 0 || reg->defs[i]->id != reg->defs[i - 1]->id){
			reg->preferred[n++] = find_preferred(reg, reg->defs[i]->id);
		}
	}
	reg->n_preferred = n;
	rebuild_res_index(reg);
}

/* The index slot of resource `rid` of object `id`: a free slot when there is none. */
static inline const struct res_slot *index_slot(const struct obj_registry *reg, uint16_t id,
		uint16_t rid)
{
	uint32_t key = (uint32_t)id << 16 | rid;
	const struct res_slot *slot;

	for(size_t at = res_slot_of(key, reg->res_mask);; at = (at + 1) & reg->res_mask){
		slot = &reg->res_index[at];
		if(!slot->res || slot->key == key) return slot;
	}
}

/* Resource `rid` of the preferred definition of object `id` (NULL when either is absent). */
static const struct obj_resource_def *preferred_resource(const struct obj_registry *reg,
		uint16_t id, uint16_t rid)
{
	if(!reg->res_index) return obj_def_resource(obj_registry_find(reg, id, NULL), rid);
	return index_slot(reg, id, rid)->res;
}

const struct obj_def *obj_registry_find(const struct obj_registry *reg, uint16_t id,
		const char *version)
{
	size_t lo = 0, hi;

	if(!reg) return NULL;
	if(version) return find_exact(reg, id, version);
	hi = reg->n_preferred;
	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		if(reg->preferred[mid]->id == id) return reg->preferred[mid];
		if(reg->preferred[mid]->id < id) lo = mid + 1;
		else hi = mid;
	}
	return NULL;
}

const struct obj_def *obj_registry_find_for(const struct obj_registry *reg, uint16_t id,
		const char *ver, const char *lwm2m_version)
{
	const struct obj_def *d;
	const char *want;

	if(!reg) return NULL;
	if(ver && *ver){
		d = find_exact(reg, id, ver);
		return d ? d : find_same_major(reg, id, ver);
	}
	want = obj_implied_version(id, lwm2m_version);
	d = find_exact(reg, id, want);
	if(!d) d = find_same_major(reg, id, want);
	if(!d) d = obj_registry_find(reg, id, NULL);
	return d;
}

int obj_registry_add(struct obj_registry *reg, struct obj_def *def, bool *replaced)
{
	size_t i;

	if(replaced) *replaced = false;
	if(!reg || !def || !def->version) return -LWM2M_EINVAL;
	if(reserve_preferred(reg) != 0) return -LWM2M_ENOMEM;
	i = lower_bound(reg, def->id, def->version);
	if(i < reg->count && compare_key(reg->defs[i], def->id, def->version) == 0){
		obj_def_free(reg->defs[i]);
		reg->defs[i] = def;
		if(replaced) *replaced = true;
		rebuild_preferred(reg);
		return 0;
	}
	if(reg->count == reg->cap){
		size_t cap = reg->cap ? reg->cap * 2 : 32;
		struct obj_def **defs = realloc(reg->defs, cap * sizeof(*defs));
		if(!defs) return -LWM2M_ENOMEM;
		reg->defs = defs;
		reg->cap = cap;
	}
	memmove(&reg->defs[i + 1], &reg->defs[i], (reg->count - i) * sizeof(*reg->defs));
	reg->defs[i] = def;
	reg->count++;
	rebuild_preferred(reg);
	return 0;
}

const struct obj_resource_def *obj_def_resource(const struct obj_def *def, uint16_t rid)
{
	size_t lo = 0, hi;

	if(!def) return NULL;
	hi = def->res_count;
	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		uint16_t id = def->res[mid].id;

		if(id == rid) return &def->res[mid];
		if(id < rid) lo = mid + 1;
		else hi = mid;
	}
	return NULL;
}

/* ---- typers ---- */

static const struct obj_resource_def *resource_of(const struct obj_def *def,
		const struct lwm2m_path *p)
{
	if(!def || !p || p->len < LWM2M_PATH_RESOURCE) return NULL;
	return obj_def_resource(def, p->ids[2]);
}

static const struct obj_resource_def *registry_resource(const struct obj_registry *reg,
		const struct lwm2m_path *p)
{
	if(!reg || !p || p->len < LWM2M_PATH_RESOURCE) return NULL;
	return preferred_resource(reg, p->ids[0], p->ids[2]);
}

static enum lwm2m_type registry_type_of(void *ctx, const char *prefix,
		const struct lwm2m_path *p)
{
	const struct obj_registry *reg = ctx;
	const struct obj_resource_def *r;

	/* decoders ask once per value: straight to the index when there is one */
	if(reg && p && p->len >= LWM2M_PATH_RESOURCE && reg->res_index){
		const struct res_slot *slot = index_slot(reg, p->ids[0], p->ids[2]);
		return slot->res ? (enum lwm2m_type)slot->type : LWM2M_TYPE_NONE;
	}
	r = registry_resource(reg, p);
	return r ? r->type : LWM2M_TYPE_NONE;
}

static int registry_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	const struct obj_resource_def *r = registry_resource(ctx, p);

	if(!r) return -1;
	return r->multiple ? 1 : 0;
}

struct fmt_typer obj_registry_typer(const struct obj_registry *reg)
{
	struct fmt_typer t = {
		.type_of = registry_type_of,
		.is_multiple = registry_is_multiple,
		.ctx = (void *)reg,
	};
	return t;
}

void obj_hint_typer_init(struct obj_hint_typer *ht, const struct obj_registry *reg)
{
	memset(ht, 0, sizeof(*ht));
	ht->reg = reg;
	ht->fallback = LWM2M_TYPE_NONE;
}

void obj_hint_typer_free(struct obj_hint_typer *ht)
{
	if(!ht) return;
	for(size_t i = 0; i < ht->def_count; i++) free(ht->defs[i].prefix);
	free(ht->defs);
	free(ht->hints);
	ht->defs = NULL;
	ht->hints = NULL;
	ht->def_count = ht->def_cap = ht->hint_count = ht->hint_cap = 0;
}

/* Local path helpers, so the model depends on nothing but the path struct. */
static bool path_is_under(const struct lwm2m_path *p, const struct lwm2m_path *prefix)
{
	if(prefix->len > p->len || p->len > LWM2M_PATH_MAX_DEPTH) return false;
	for(uint8_t i = 0; i < prefix->len; i++){
		if(p->ids[i] != prefix->ids[i]) return false;
	}
	return true;
}

static bool path_equal(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	return a->len == b->len && path_is_under(a, b);
}

int obj_hint_typer_add(struct obj_hint_typer *ht, const struct lwm2m_path *path,
		enum lwm2m_type type)
{
	if(!ht || !path) return -LWM2M_EINVAL;
	for(size_t i = 0; i < ht->hint_count; i++){
		if(path_equal(&ht->hints[i].path, path)){
			ht->hints[i].type = type;
			return 0;
		}
	}
	if(ht->hint_count == ht->hint_cap){
		size_t cap = ht->hint_cap ? ht->hint_cap * 2 : 8;
		struct obj_hint *h = realloc(ht->hints, cap * sizeof(*h));
		if(!h) return -LWM2M_ENOMEM;
		ht->hints = h;
		ht->hint_cap = cap;
	}
	ht->hints[ht->hint_count].path = *path;
	ht->hints[ht->hint_count].type = type;
	ht->hint_count++;
	return 0;
}

void obj_hint_typer_set_default(struct obj_hint_typer *ht, enum lwm2m_type type)
{
	if(ht) ht->fallback = type;
}

static bool same_prefix(const char *a, const char *b)
{
	if(!a || !b) return a == b;
	return strcmp(a, b) == 0;
}

int obj_hint_typer_use_def(struct obj_hint_typer *ht, const char *prefix,
		const struct obj_def *def)
{
	char *copy = NULL;

	if(!ht || !def) return -LWM2M_EINVAL;
	for(size_t i = 0; i < ht->def_count; i++){
		if(ht->defs[i].def->id == def->id && same_prefix(ht->defs[i].prefix, prefix)){
			ht->defs[i].def = def;
			return 0;
		}
	}
	if(prefix && !(copy = strdup(prefix))) return -LWM2M_ENOMEM;
	if(ht->def_count == ht->def_cap){
		size_t cap = ht->def_cap ? ht->def_cap * 2 : 8;
		struct obj_def_choice *d = realloc(ht->defs, cap * sizeof(*d));
		if(!d){
			free(copy);
			return -LWM2M_ENOMEM;
		}
		ht->defs = d;
		ht->def_cap = cap;
	}
	ht->defs[ht->def_count].prefix = copy;
	ht->defs[ht->def_count].def = def;
	ht->def_count++;
	return 0;
}

/* The deepest hint at or above `p`. */
static const struct obj_hint *hint_for(const struct obj_hint_typer *ht, const struct lwm2m_path *p)
{
	const struct obj_hint *best = NULL;

	for(size_t i = 0; i < ht->hint_count; i++){
		const struct obj_hint *h = &ht->hints[i];
		if(!p || !path_is_under(p, &h->path)) continue;
		if(!best || h->path.len > best->path.len) best = h;
	}
	return best;
}

static const struct obj_resource_def *hint_typer_resource(const struct obj_hint_typer *ht,
		const char *prefix, const struct lwm2m_path *p)
{
	if(!p || p->len < LWM2M_PATH_RESOURCE) return NULL;
	for(size_t i = 0; i < ht->def_count; i++){
		const struct obj_def_choice *c = &ht->defs[i];
		if(c->def->id == p->ids[0] && same_prefix(c->prefix, prefix)) return resource_of(c->def, p);
	}
	return registry_resource(ht->reg, p);
}

static enum lwm2m_type hint_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	const struct obj_hint_typer *ht = ctx;
	const struct obj_hint *h = hint_for(ht, p);
	const struct obj_resource_def *r;

	if(h && h->type != LWM2M_TYPE_NONE) return h->type;
	r = hint_typer_resource(ht, prefix, p);
	if(r && r->type != LWM2M_TYPE_NONE) return r->type;
	return ht->fallback;
}

static int hint_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	const struct obj_hint_typer *ht = ctx;
	const struct obj_resource_def *r = hint_typer_resource(ht, prefix, p);

	if(r) return r->multiple ? 1 : 0;
	/* A hint on a resource instance says the resource has instances. */
	for(size_t i = 0; p && p->len >= LWM2M_PATH_RESOURCE && i < ht->hint_count; i++){
		const struct lwm2m_path *hp = &ht->hints[i].path;
		if(hp->len == LWM2M_PATH_RESOURCE_INSTANCE && hp->ids[0] == p->ids[0] &&
				hp->ids[1] == p->ids[1] && hp->ids[2] == p->ids[2]) return 1;
	}
	return -1;
}

struct fmt_typer obj_hint_typer_get(struct obj_hint_typer *ht)
{
	struct fmt_typer t = {
		.type_of = hint_type_of,
		.is_multiple = hint_is_multiple,
		.ctx = ht,
	};
	return t;
}
