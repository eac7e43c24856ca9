/* What tree.c shares with tree_bs.c (the Bootstrap interface on the same tree). The finders
 * see every object, /0 and /23 included: hiding them from the LwM2M Server is done where
 * the device management operations resolve their paths. */
#ifndef SIM_TREE_INTERNAL_H
#define SIM_TREE_INTERNAL_H

#include "tree.h"

struct tree_obj *tree_find_obj(const struct tree *t, uint16_t id);
struct tree_inst *tree_find_inst(const struct tree_obj *o, uint16_t id);
struct tree_res *tree_find_res(const struct tree_inst *in, uint16_t id);

/* Insert an empty instance `id` (sorted) holding the resources `rids` (sorted) of the
 * object, without values; NULL on allocation failure or a resource the object lacks. */
struct tree_inst *tree_inst_add(struct tree_obj *o, uint16_t id, const uint16_t *rids, size_t n);
void tree_inst_remove(struct tree_obj *o, uint16_t id);
/* A simulated temperature sensor instance, values filled in. */
struct tree_inst *tree_temp_add(struct tree *t, uint16_t id, uint64_t now_s);

void tree_res_clear(struct tree_res *r);
/* Set (copying) resource instance `id` of a multiple resource, keeping the ids sorted. */
int tree_res_set_ri(struct tree_res *r, uint16_t id, const struct lwm2m_value *v);
/* Replace the value of a single resource (a copy of v) at path p (/3/0/13 moves the clock). */
int tree_res_store(struct tree *t, struct tree_res *r, const struct lwm2m_path *p,
		const struct lwm2m_value *v);

/* Value rules beyond the type (/1/x/1 lifetime, /1/x/7 binding). */
int tree_check_value(const struct lwm2m_path *p, const struct lwm2m_value *v);
int tree_read_inst(const struct tree_inst *in, uint16_t o, struct lwm2m_nodes *out);
void tree_drop_attrs_below(struct tree *t, const struct lwm2m_path *p);
struct lwm2m_path tree_mkpath(uint8_t len, uint16_t o, uint16_t i, uint16_t r, uint16_t ri);

#endif
