#include "registry.h"

#include <stdlib.h>
#include <string.h>

/* The registrations of one MQTT client (usually one; more with several prefixes). */
struct client_ix {
	UT_hash_handle hh;
	char *client_id;
	struct registration **regs;
	size_t n, cap;
};

struct registry {
	struct registration *by_key;     /* uthash head */
	struct registration *by_id;      /* HTTP registrations by their id */
	struct client_ix *by_client;     /* online tracking without walking every registration */
	struct registration **heap;      /* min-heap on expires_mono_ms */
	size_t heap_len, heap_cap;
	uint64_t grace_ms;
	size_t max;
};

/* ---- expiry heap ---- */

static void heap_swap(struct registry *r, size_t a, size_t b)
{
	struct registration *t = r->heap[a];
	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->heap[a]->heap_index = a;
	r->heap[b]->heap_index = b;
}

static void heap_up(struct registry *r, size_t i)
{
	while(i > 0){
		size_t parent = (i - 1) / 2;
		if(r->heap[parent]->expires_mono_ms <= r->heap[i]->expires_mono_ms) break;
		heap_swap(r, parent, i);
		i = parent;
	}
}

static void heap_down(struct registry *r, size_t i)
{
	for(;;){
		size_t l = 2 * i + 1, rt = l + 1, m = i;
		if(l < r->heap_len && r->heap[l]->expires_mono_ms < r->heap[m]->expires_mono_ms) m = l;
		if(rt < r->heap_len && r->heap[rt]->expires_mono_ms < r->heap[m]->expires_mono_ms) m = rt;
		if(m == i) break;
		heap_swap(r, i, m);
		i = m;
	}
}

static int heap_insert(struct registry *r, struct registration *reg)
{
	if(r->heap_len == r->heap_cap){
		size_t cap = r->heap_cap ? r->heap_cap * 2 : 64;
		struct registration **h = realloc(r->heap, cap * sizeof(*h));
		if(!h) return -LWM2M_ENOMEM;
		r->heap = h;
		r->heap_cap = cap;
	}
	reg->heap_index = r->heap_len;
	r->heap[r->heap_len++] = reg;
	heap_up(r, reg->heap_index);
	return 0;
}

static void heap_remove(struct registry *r, struct registration *reg)
{
	size_t i = reg->heap_index;
	r->heap_len--;
	if(i != r->heap_len){
		heap_swap(r, i, r->heap_len);
		heap_down(r, i);
		heap_up(r, i);
	}
}

static void heap_changed(struct registry *r, struct registration *reg)
{
	heap_down(r, reg->heap_index);
	heap_up(r, reg->heap_index);
}

/* ---- registrations ---- */

char *registry_key(const char *prefix, const char *endpoint)
{
	size_t pl = prefix ? strlen(prefix) : 0, el = strlen(endpoint);
	char *k = malloc(pl + el + 2);
	if(!k) return NULL;
	if(pl) memcpy(k, prefix, pl);
	k[pl] = '/';
	memcpy(k + pl + 1, endpoint, el + 1);
	return k;
}

/* ---- index by client id ---- */

static void client_ix_remove(struct registry *r, struct registration *reg)
{
	struct client_ix *ix = NULL;

	if(!reg->client_id) return;
	HASH_FIND_STR(r->by_client, reg->client_id, ix);
	if(!ix) return;
	for(size_t i = 0; i < ix->n; i++){
		if(ix->regs[i] == reg){
			ix->regs[i] = ix->regs[--ix->n];
			break;
		}
	}
	if(ix->n == 0){
		HASH_DEL(r->by_client, ix);
		free(ix->client_id);
		free(ix->regs);
		free(ix);
	}
}

static int client_ix_add(struct registry *r, struct registration *reg)
{
	struct client_ix *ix = NULL;

	if(!reg->client_id) return 0;
	HASH_FIND_STR(r->by_client, reg->client_id, ix);
	if(!ix){
		ix = calloc(1, sizeof(*ix));
		if(!ix || !(ix->client_id = strdup(reg->client_id))){
			free(ix);
			return -LWM2M_ENOMEM;
		}
		HASH_ADD_KEYPTR(hh, r->by_client, ix->client_id, strlen(ix->client_id), ix);
	}
	if(ix->n == ix->cap){
		size_t cap = ix->cap ? ix->cap * 2 : 2;
		struct registration **v = realloc(ix->regs, cap * sizeof(*v));
		if(!v) return -LWM2M_ENOMEM;
		ix->regs = v;
		ix->cap = cap;
	}
	ix->regs[ix->n++] = reg;
	return 0;
}

void registration_free(struct registration *reg)
{
	if(!reg) return;
	free(reg->key);
	free(reg->prefix);
	free(reg->endpoint);
	free(reg->client_id);
	free(reg->transport);
	free(reg->reg_id);
	free(reg->version);
	free(reg->binding);
	free(reg->sms);
	free(reg->links);
	free(reg);
}

/* Replace *dst with a copy of src (NULL src: keep *dst). */
static int set_str(char **dst, const char *src)
{
	char *copy;
	if(!src) return 0;
	copy = strdup(src);
	if(!copy) return -LWM2M_ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_links(struct registration *reg, const char *links, size_t len)
{
	char *copy;
	if(!links) return 0;
	copy = malloc(len + 1);
	if(!copy) return -LWM2M_ENOMEM;
	memcpy(copy, links, len);
	copy[len] = '\0';
	free(reg->links);
	reg->links = copy;
	return 0;
}

static uint64_t expiry_of(const struct registry *r, uint64_t lifetime_s, uint64_t now)
{
	if(lifetime_s == 0) return REG_NO_EXPIRY;
	if(lifetime_s > (REG_NO_EXPIRY - now - r->grace_ms) / 1000) return REG_NO_EXPIRY - 1;
	return now + lifetime_s * 1000 + r->grace_ms;
}

static int apply_params(struct registry *r, struct registration *reg, const struct reg_params *p,
		uint64_t now_mono_ms, int64_t now_wall_ms)
{
	int rc = 0;
	rc |= set_str(&reg->transport, p->transport);
	rc |= set_str(&reg->version, p->version);
	rc |= set_str(&reg->binding, p->binding);
	rc |= set_str(&reg->sms, p->sms);
	rc |= set_links(reg, p->links, p->links_len);
	if(rc) return -LWM2M_ENOMEM;
	if(!reg->links && set_links(reg, "", 0)) return -LWM2M_ENOMEM;
	if(p->has_lifetime) reg->lifetime = p->lifetime;
	reg->queue_mode = reg->binding && strchr(reg->binding, 'Q') != NULL;
	reg->expires_mono_ms = expiry_of(r, reg->lifetime, now_mono_ms);
	reg->updated_wall_ms = now_wall_ms;
	reg->last_uplink_mono_ms = now_mono_ms;
	reg->online = true;
	return 0;
}

struct registry *registry_new(uint64_t grace_ms, size_t max)
{
	struct registry *r = calloc(1, sizeof(*r));
	if(!r) return NULL;
	r->grace_ms = grace_ms;
	r->max = max;
	return r;
}

void registry_free(struct registry *r)
{
	struct registration *reg, *tmp;
	if(!r) return;
	struct client_ix *ix, *itmp;
	HASH_CLEAR(hh_id, r->by_id);
	HASH_ITER(hh, r->by_key, reg, tmp){
		HASH_DEL(r->by_key, reg);
		registration_free(reg);
	}
	HASH_ITER(hh, r->by_client, ix, itmp){
		HASH_DEL(r->by_client, ix);
		free(ix->client_id);
		free(ix->regs);
		free(ix);
	}
	free(r->heap);
	free(r);
}

struct registration *registry_find(const struct registry *r, const char *prefix, const char *endpoint)
{
	struct registration *reg = NULL;
	char *key = registry_key(prefix, endpoint);
	if(!key) return NULL;
	HASH_FIND_STR(r->by_key, key, reg);
	free(key);
	return reg;
}

struct registration *registry_find_id(const struct registry *r, const char *reg_id)
{
	struct registration *reg = NULL;
	HASH_FIND(hh_id, r->by_id, reg_id, strlen(reg_id), reg);
	return reg;
}

static void registry_unlink(struct registry *r, struct registration *reg)
{
	HASH_DEL(r->by_key, reg);
	if(reg->reg_id) HASH_DELETE(hh_id, r->by_id, reg);
	heap_remove(r, reg);
	client_ix_remove(r, reg);
}

int registry_register(struct registry *r, const struct reg_params *p, uint64_t now_mono_ms,
		int64_t now_wall_ms, struct registration **out, bool *replaced)
{
	struct registration *old = registry_find(r, p->prefix, p->endpoint);
	struct registration *reg;
	int rc;

	if(!old && HASH_COUNT(r->by_key) >= r->max) return -LWM2M_EFULL;
	reg = calloc(1, sizeof(*reg));
	if(!reg) return -LWM2M_ENOMEM;
	reg->key = registry_key(p->prefix, p->endpoint);
	reg->endpoint = strdup(p->endpoint);
	if(!reg->key || !reg->endpoint || set_str(&reg->prefix, p->prefix) || set_str(&reg->reg_id, p->reg_id)){
		registration_free(reg);
		return -LWM2M_ENOMEM;
	}
	rc = apply_params(r, reg, p, now_mono_ms, now_wall_ms);
	if(rc == 0) rc = heap_insert(r, reg);
	if(rc){
		registration_free(reg);
		return rc;
	}
	reg->registered_wall_ms = now_wall_ms;
	if(old){
		/* A re-Register must not reset a flood counter. */
		reg->rate_window_ms = old->rate_window_ms;
		reg->rate_count = old->rate_count;
		registry_unlink(r, old);
		registration_free(old);
	}
	HASH_ADD_KEYPTR(hh, r->by_key, reg->key, strlen(reg->key), reg);
	if(reg->reg_id) HASH_ADD_KEYPTR(hh_id, r->by_id, reg->reg_id, strlen(reg->reg_id), reg);
	if(registry_set_client(r, reg, p->client_id) != 0){
		registry_unlink(r, reg);
		registration_free(reg);
		return -LWM2M_ENOMEM;
	}
	if(replaced) *replaced = old != NULL;
	if(out) *out = reg;
	return 0;
}

int registry_set_client(struct registry *r, struct registration *reg, const char *client_id)
{
	char *copy;

	if(!client_id || (reg->client_id && !strcmp(reg->client_id, client_id))) return 0;
	copy = strdup(client_id);
	if(!copy) return -LWM2M_ENOMEM;
	client_ix_remove(r, reg);
	free(reg->client_id);
	reg->client_id = copy;
	return client_ix_add(r, reg);
}

int registry_restore(struct registry *r, const struct reg_params *p, int64_t registered_wall_ms,
		int64_t updated_wall_ms, uint64_t expires_mono_ms)
{
	struct registration *reg;
	int rc = registry_register(r, p, 0, updated_wall_ms, &reg, NULL);

	if(rc) return rc;
	reg->registered_wall_ms = registered_wall_ms;
	reg->expires_mono_ms = expires_mono_ms;
	reg->online = false;
	heap_changed(r, reg);
	return 0;
}

int registry_update(struct registry *r, const struct reg_params *p, uint64_t now_mono_ms,
		int64_t now_wall_ms, struct registration **out)
{
	struct registration *reg = registry_find(r, p->prefix, p->endpoint);
	int rc;

	if(!reg) return -LWM2M_ENOENT;
	rc = apply_params(r, reg, p, now_mono_ms, now_wall_ms);
	if(rc == 0) rc = registry_set_client(r, reg, p->client_id);
	heap_changed(r, reg);
	if(out) *out = reg;
	return rc;
}

int registry_deregister(struct registry *r, const char *prefix, const char *endpoint)
{
	struct registration *reg = registry_find(r, prefix, endpoint);
	if(!reg) return -LWM2M_ENOENT;
	registry_unlink(r, reg);
	registration_free(reg);
	return 0;
}

size_t registry_count(const struct registry *r)
{
	return HASH_COUNT(r->by_key);
}

uint64_t registry_next_expiry(const struct registry *r)
{
	return r->heap_len ? r->heap[0]->expires_mono_ms : REG_NO_EXPIRY;
}

struct registration *registry_pop_expired(struct registry *r, uint64_t now_mono_ms)
{
	struct registration *reg;
	if(r->heap_len == 0 || r->heap[0]->expires_mono_ms > now_mono_ms) return NULL;
	reg = r->heap[0];
	registry_unlink(r, reg);
	return reg;
}

size_t registry_client_registrations(const struct registry *r, const char *client_id,
		struct registration ***regs)
{
	struct client_ix *ix = NULL;
	HASH_FIND_STR(r->by_client, client_id, ix);
	*regs = ix ? ix->regs : NULL;
	return ix ? ix->n : 0;
}

size_t registry_set_client_online(struct registry *r, const char *client_id, bool online)
{
	struct registration **regs;
	size_t n = registry_client_registrations(r, client_id, &regs), changed = 0;
	for(size_t i = 0; i < n; i++){
		if(regs[i]->online != online){
			regs[i]->online = online;
			changed++;
		}
	}
	return changed;
}

bool registry_rate_ok(struct registration *reg, uint32_t per_minute, uint64_t now_mono_ms)
{
	if(per_minute == 0) return true;
	if(now_mono_ms - reg->rate_window_ms >= 60000 || now_mono_ms < reg->rate_window_ms){
		reg->rate_window_ms = now_mono_ms;
		reg->rate_count = 0;
	}
	reg->rate_count++;
	return reg->rate_count <= per_minute;
}

struct registration *registry_first(const struct registry *r)
{
	return r->by_key;
}
