/* The object tree of one simulated device (see tree.h). */
#include "tree_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/link_format.h"

/* The Temperature object (IPSO 3303, version 1.0): the registry has no built-in for it. */
static const char temp_xml[] =
	"<LWM2M><Object ObjectType=\"MODefinition\"><Name>Temperature</Name>"
	"<ObjectID>3303</ObjectID><ObjectURN>urn:oma:lwm2m:ext:3303</ObjectURN>"
	"<LWM2MVersion>1.0</LWM2MVersion><ObjectVersion>1.0</ObjectVersion>"
	"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>"
	"<Resources>"
#define ITEM(id, name, ops, mand, type, units) \
	"<Item ID=\"" #id "\"><Name>" name "</Name><Operations>" ops "</Operations>" \
	"<MultipleInstances>Single</MultipleInstances><Mandatory>" mand "</Mandatory>" \
	"<Type>" type "</Type><RangeEnumeration></RangeEnumeration><Units>" units "</Units></Item>"
	ITEM(5601, "Min Measured Value", "R", "Optional", "Float", "")
	ITEM(5602, "Max Measured Value", "R", "Optional", "Float", "")
	ITEM(5603, "Min Range Value", "R", "Optional", "Float", "")
	ITEM(5604, "Max Range Value", "R", "Optional", "Float", "")
	ITEM(5605, "Reset Min and Max Measured Values", "E", "Optional", "", "")
	ITEM(5700, "Sensor Value", "R", "Mandatory", "Float", "")
	ITEM(5701, "Sensor Units", "R", "Optional", "String", "")
	ITEM(5750, "Application Type", "RW", "Optional", "String", "")
#undef ITEM
	"</Resources></Object></LWM2M>";

/* The resources each simulated instance holds (sorted). */
static const uint16_t server_rids[] = {0, 1, 6, 7, 8};
static const uint16_t device_rids[] = {0, 1, 2, 3, 4, 9, 11, 13, 14, 16};
static const uint16_t temp_rids[] = {5601, 5602, 5603, 5604, 5605, 5700, 5701, 5750};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TEMP_PERIOD_S 120u

int tree_model_init(struct tree_model *m, struct lwm2m_error *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->reg = obj_registry_new();
	if(!m->reg) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	rc = obj_registry_load_xml(m->reg, temp_xml, sizeof(temp_xml) - 1, "3303 (built in)", err);
	if(rc){
		tree_model_free(m);
		return rc;
	}
	m->security = obj_registry_find(m->reg, TREE_OBJ_SECURITY, NULL);
	m->server = obj_registry_find(m->reg, TREE_OBJ_SERVER, NULL);
	m->device = obj_registry_find(m->reg, TREE_OBJ_DEVICE, NULL);
	m->cose = obj_registry_find(m->reg, TREE_OBJ_COSE, NULL);
	m->mqtt = obj_registry_find(m->reg, TREE_OBJ_MQTT, NULL);
	m->temp = obj_registry_find(m->reg, TREE_OBJ_TEMP, NULL);
	if(!m->security || !m->server || !m->device || !m->cose || !m->mqtt || !m->temp){
		tree_model_free(m);
		return lwm2m_fail(err, LWM2M_ENOENT, -1, "object model lacks /0, /1, /3, /23, /24 or /3303");
	}
	m->typer = obj_registry_typer(m->reg);
	return 0;
}

void tree_model_free(struct tree_model *m)
{
	if(!m) return;
	obj_registry_free(m->reg);
	memset(m, 0, sizeof(*m));
}

/* ---- lookups ---- */

struct tree_obj *tree_find_obj(const struct tree *t, uint16_t id)
{
	for(size_t i = 0; i < TREE_N_OBJ; i++){
		if(t->obj[i].def && t->obj[i].def->id == id) return (struct tree_obj *)&t->obj[i];
	}
	return NULL;
}

struct tree_inst *tree_find_inst(const struct tree_obj *o, uint16_t id)
{
	for(size_t i = 0; i < o->n_inst; i++){
		if(o->inst[i].id == id) return &o->inst[i];
	}
	return NULL;
}

struct tree_res *tree_find_res(const struct tree_inst *in, uint16_t id)
{
	for(size_t i = 0; i < in->n_res; i++){
		if(in->res[i].def->id == id) return &in->res[i];
	}
	return NULL;
}

static struct tree_ri *find_ri(const struct tree_res *r, uint16_t id)
{
	for(size_t i = 0; i < r->n_ri; i++){
		if(r->ri[i].id == id) return &r->ri[i];
	}
	return NULL;
}

/* Object, instance and resource named by the first levels of p; NULL past what exists. */
struct target {
	struct tree_obj *obj;
	struct tree_inst *inst;
	struct tree_res *res;
	struct tree_ri *ri;
};

/* Objects only the Bootstrap-Server may see (spec digest 1.8: /0, /21, /23). */
static bool dm_hidden(uint16_t obj)
{
	return obj == TREE_OBJ_SECURITY || obj == TREE_OBJ_OSCORE || obj == TREE_OBJ_COSE;
}

/* Resolve p as deep as it goes for the LwM2M Server (hidden objects do not exist): 0 when
 * every level exists, -LWM2M_ENOENT otherwise. */
static int resolve(const struct tree *t, const struct lwm2m_path *p, struct target *tg)
{
	memset(tg, 0, sizeof(*tg));
	if(p->len == 0) return 0;
	tg->obj = dm_hidden(p->ids[0]) ? NULL : tree_find_obj(t, p->ids[0]);
	if(!tg->obj) return -LWM2M_ENOENT;
	if(p->len == 1) return 0;
	tg->inst = tree_find_inst(tg->obj, p->ids[1]);
	if(!tg->inst) return -LWM2M_ENOENT;
	if(p->len == 2) return 0;
	tg->res = tree_find_res(tg->inst, p->ids[2]);
	if(!tg->res) return -LWM2M_ENOENT;
	if(p->len == 3) return 0;
	if(!tg->res->def->multiple) return -LWM2M_ENOENT;
	tg->ri = find_ri(tg->res, p->ids[3]);
	return tg->ri ? 0 : -LWM2M_ENOENT;
}

bool tree_exists(const struct tree *t, const struct lwm2m_path *p)
{
	struct target tg;

	return resolve(t, p, &tg) == 0;
}

/* ---- values ---- */

static void set_int(struct lwm2m_value *v, enum lwm2m_type type, int64_t i)
{
	value_free(v);
	v->type = type;
	v->v.i = i;
}

static void set_float(struct lwm2m_value *v, double f)
{
	value_free(v);
	v->type = LWM2M_TYPE_FLOAT;
	v->v.f = f;
}

static void set_bool(struct lwm2m_value *v, bool b)
{
	value_free(v);
	v->type = LWM2M_TYPE_BOOLEAN;
	v->v.b = b;
}

static int set_str(struct lwm2m_value *v, const char *s)
{
	value_free(v);
	return value_set_bytes(v, LWM2M_TYPE_STRING, s, strlen(s));
}

void tree_res_clear(struct tree_res *r)
{
	value_free(&r->v);
	for(size_t i = 0; i < r->n_ri; i++) value_free(&r->ri[i].v);
	free(r->ri);
	r->ri = NULL;
	r->n_ri = 0;
}

static void inst_clear(struct tree_inst *in)
{
	for(size_t i = 0; i < in->n_res; i++) tree_res_clear(&in->res[i]);
	free(in->res);
	in->res = NULL;
	in->n_res = 0;
}

/* Set (copying) resource instance `id` of a multiple resource, keeping the ids sorted. */
int tree_res_set_ri(struct tree_res *r, uint16_t id, const struct lwm2m_value *v)
{
	struct tree_ri *ri = find_ri(r, id), *grown;
	struct lwm2m_value copy;
	size_t at = 0;
	int rc;

	memset(&copy, 0, sizeof(copy));
	rc = value_copy(&copy, v);
	if(rc) return rc;
	if(ri){
		value_free(&ri->v);
		ri->v = copy;
		return 0;
	}
	grown = realloc(r->ri, (r->n_ri + 1) * sizeof(*grown));
	if(!grown){
		value_free(&copy);
		return -LWM2M_ENOMEM;
	}
	r->ri = grown;
	while(at < r->n_ri && r->ri[at].id < id) at++;
	memmove(&r->ri[at + 1], &r->ri[at], (r->n_ri - at) * sizeof(*grown));
	r->ri[at].id = id;
	r->ri[at].v = copy;
	r->n_ri++;
	return 0;
}

static void res_del_ri(struct tree_res *r, uint16_t id)
{
	for(size_t i = 0; i < r->n_ri; i++){
		if(r->ri[i].id != id) continue;
		value_free(&r->ri[i].v);
		memmove(&r->ri[i], &r->ri[i + 1], (r->n_ri - i - 1) * sizeof(r->ri[0]));
		r->n_ri--;
		return;
	}
}

/* ---- building instances ---- */

/* Insert an empty instance `id` (sorted) holding the resources `rids` of the object. */
struct tree_inst *tree_inst_add(struct tree_obj *o, uint16_t id, const uint16_t *rids, size_t n)
{
	struct tree_inst *grown, *in;
	struct tree_res *res = n ? calloc(n, sizeof(*res)) : NULL;
	size_t at = 0;

	if(n && !res) return NULL;
	for(size_t i = 0; i < n; i++){
		res[i].def = obj_def_resource(o->def, rids[i]);
		if(!res[i].def){
			free(res);
			return NULL;
		}
	}
	grown = realloc(o->inst, (o->n_inst + 1) * sizeof(*grown));
	if(!grown){
		free(res);
		return NULL;
	}
	o->inst = grown;
	while(at < o->n_inst && o->inst[at].id < id) at++;
	memmove(&o->inst[at + 1], &o->inst[at], (o->n_inst - at) * sizeof(*grown));
	in = &o->inst[at];
	in->id = id;
	in->res = res;
	in->n_res = n;
	o->n_inst++;
	return in;
}

void tree_inst_remove(struct tree_obj *o, uint16_t id)
{
	for(size_t i = 0; i < o->n_inst; i++){
		if(o->inst[i].id != id) continue;
		inst_clear(&o->inst[i]);
		memmove(&o->inst[i], &o->inst[i + 1], (o->n_inst - i - 1) * sizeof(o->inst[0]));
		o->n_inst--;
		return;
	}
}

static double temp_at(const struct tree *t, uint16_t inst, uint64_t now_s)
{
	unsigned phase = (t->index * 37u + inst * 11u) % TEMP_PERIOD_S;
	double x = 2.0 * M_PI * (double)((now_s + phase) % TEMP_PERIOD_S) / TEMP_PERIOD_S;

	return round((20.0 + 5.0 * sin(x)) * 100.0) / 100.0;
}

static int temp_fill(struct tree *t, struct tree_inst *in, uint64_t now_s)
{
	double v = temp_at(t, in->id, now_s);
	int rc = 0;

	set_float(&tree_find_res(in, 5700)->v, v);
	set_float(&tree_find_res(in, 5601)->v, v);
	set_float(&tree_find_res(in, 5602)->v, v);
	set_float(&tree_find_res(in, 5603)->v, -40.0);
	set_float(&tree_find_res(in, 5604)->v, 85.0);
	rc |= set_str(&tree_find_res(in, 5701)->v, "Cel");
	rc |= set_str(&tree_find_res(in, 5750)->v, "");
	return rc ? -LWM2M_ENOMEM : 0;
}

struct tree_inst *tree_temp_add(struct tree *t, uint16_t id, uint64_t now_s)
{
	struct tree_obj *o = tree_find_obj(t, TREE_OBJ_TEMP);
	struct tree_inst *in = tree_inst_add(o, id, temp_rids, COUNT(temp_rids));

	if(in && temp_fill(t, in, now_s) != 0){
		tree_inst_remove(o, id);
		return NULL;
	}
	return in;
}

/* The factory LwM2M Server account /1/0 (Short Server ID 1). */
static int server_account_add(struct tree *t, uint32_t lifetime, const char *binding)
{
	struct tree_inst *srv = tree_inst_add(tree_find_obj(t, TREE_OBJ_SERVER), 0, server_rids,
			COUNT(server_rids));

	if(!srv) return -LWM2M_ENOMEM;
	set_int(&tree_find_res(srv, 0)->v, LWM2M_TYPE_INTEGER, 1);
	set_int(&tree_find_res(srv, 1)->v, LWM2M_TYPE_INTEGER, lifetime);
	set_bool(&tree_find_res(srv, 6)->v, false);
	return set_str(&tree_find_res(srv, 7)->v, binding) ? -LWM2M_ENOMEM : 0;
}

/* The factory Bootstrap-Server account /0/0: its URI, Bootstrap-Server true, NoSec. */
static int bs_account_add(struct tree *t, const char *uri)
{
	static const uint16_t rids[] = {0, 1, 2};
	struct tree_inst *sec = tree_inst_add(tree_find_obj(t, TREE_OBJ_SECURITY), 0, rids, COUNT(rids));

	if(!sec) return -LWM2M_ENOMEM;
	set_bool(&tree_find_res(sec, 1)->v, true);
	set_int(&tree_find_res(sec, 2)->v, LWM2M_TYPE_INTEGER, 3);
	return set_str(&tree_find_res(sec, 0)->v, uri) ? -LWM2M_ENOMEM : 0;
}

static void set_objects(struct tree *t, const struct tree_model *m, bool bootstrap)
{
	size_t n = 0;

	if(bootstrap) t->obj[n++].def = m->security;
	t->obj[n++].def = m->server;
	t->obj[n++].def = m->device;
	if(bootstrap){
		t->obj[n++].def = m->cose;
		t->obj[n++].def = m->mqtt;
	}
	t->obj[n].def = m->temp;
}

int tree_init(struct tree *t, const struct tree_model *m, unsigned index, uint64_t now_s,
		uint32_t lifetime, const char *binding, const char *bs_uri)
{
	struct tree_inst *dev;
	struct lwm2m_value zero;
	char serial[32];
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->model = m;
	t->index = index;
	t->start_s = now_s;
	t->lifetime_default = lifetime;
	snprintf(t->binding_default, sizeof(t->binding_default), "%s", binding);
	set_objects(t, m, bs_uri != NULL);
	dev = tree_inst_add(tree_find_obj(t, TREE_OBJ_DEVICE), 0, device_rids, COUNT(device_rids));
	rc = bs_uri ? bs_account_add(t, bs_uri) : server_account_add(t, lifetime, binding);
	if(!dev || rc || !tree_temp_add(t, 0, now_s)){
		tree_free(t);
		return -LWM2M_ENOMEM;
	}
	snprintf(serial, sizeof(serial), "SIM-%08u", index);
	rc |= set_str(&tree_find_res(dev, 0)->v, "Open Mobile Alliance");
	rc |= set_str(&tree_find_res(dev, 1)->v, "lwm2m-sim");
	rc |= set_str(&tree_find_res(dev, 2)->v, serial);
	rc |= set_str(&tree_find_res(dev, 3)->v, "1.0.0");
	rc |= set_str(&tree_find_res(dev, 14)->v, "+00:00");
	/* supported binding: the one transport the device speaks (MQTT, or HTTP with --http) */
	rc |= set_str(&tree_find_res(dev, 16)->v, binding[0] == 'H' ? "H" : "M");
	memset(&zero, 0, sizeof(zero));
	zero.type = LWM2M_TYPE_INTEGER;
	rc |= tree_res_set_ri(tree_find_res(dev, 11), 0, &zero);
	if(rc){
		tree_free(t);
		return -LWM2M_ENOMEM;
	}
	tree_refresh(t, now_s);
	return 0;
}

void tree_free(struct tree *t)
{
	if(!t) return;
	for(size_t i = 0; i < TREE_N_OBJ; i++){
		for(size_t j = 0; j < t->obj[i].n_inst; j++) inst_clear(&t->obj[i].inst[j]);
		free(t->obj[i].inst);
	}
	free(t->attrs);
	memset(t, 0, sizeof(*t));
}

void tree_refresh(struct tree *t, uint64_t now_s)
{
	struct tree_obj *temp = tree_find_obj(t, TREE_OBJ_TEMP);
	struct tree_inst *dev = tree_find_inst(tree_find_obj(t, TREE_OBJ_DEVICE), 0);
	uint64_t minutes = (now_s - t->start_s) / 60u;

	/* Battery drains one percent a minute from a per-device level, 100 down to 10. */
	set_int(&tree_find_res(dev, 9)->v, LWM2M_TYPE_INTEGER, 100 - (int64_t)((minutes + t->index) % 91u));
	set_int(&tree_find_res(dev, 13)->v, LWM2M_TYPE_TIME, (int64_t)now_s + t->time_offset);
	for(size_t i = 0; i < temp->n_inst; i++){
		struct tree_inst *in = &temp->inst[i];
		double v = temp_at(t, in->id, now_s);
		struct tree_res *lo = tree_find_res(in, 5601), *hi = tree_find_res(in, 5602);

		set_float(&tree_find_res(in, 5700)->v, v);
		if(v < lo->v.v.f) lo->v.v.f = v;
		if(v > hi->v.v.f) hi->v.v.f = v;
	}
}

/* ---- read ---- */

static int push_value(struct lwm2m_nodes *out, const struct lwm2m_path *p,
		const struct lwm2m_value *v)
{
	struct lwm2m_node *n = nodes_push(out);

	if(!n) return -LWM2M_ENOMEM;
	n->path = *p;
	n->kind = LWM2M_NODE_VALUE;
	return value_copy(&n->value, v);
}

static int push_marker(struct lwm2m_nodes *out, const struct lwm2m_path *p,
		enum lwm2m_node_kind kind)
{
	struct lwm2m_node *n = nodes_push(out);

	if(!n) return -LWM2M_ENOMEM;
	n->path = *p;
	n->kind = kind;
	return 0;
}

struct lwm2m_path tree_mkpath(uint8_t len, uint16_t o, uint16_t i, uint16_t r, uint16_t ri)
{
	struct lwm2m_path p;

	memset(&p, 0, sizeof(p));
	p.len = len;
	p.ids[0] = o;
	p.ids[1] = i;
	p.ids[2] = r;
	p.ids[3] = ri;
	return p;
}

static int read_res(const struct tree_res *r, uint16_t o, uint16_t i, struct lwm2m_nodes *out)
{
	struct lwm2m_path p = tree_mkpath(3, o, i, r->def->id, 0);
	int rc = 0;

	if(!r->def->multiple) return push_value(out, &p, &r->v);
	if(r->n_ri == 0) return push_marker(out, &p, LWM2M_NODE_EMPTY_MULTIPLE);
	for(size_t k = 0; k < r->n_ri && !rc; k++){
		p = tree_mkpath(4, o, i, r->def->id, r->ri[k].id);
		rc = push_value(out, &p, &r->ri[k].v);
	}
	return rc;
}

int tree_read_inst(const struct tree_inst *in, uint16_t o, struct lwm2m_nodes *out)
{
	size_t before = out->count;
	int rc = 0;

	for(size_t k = 0; k < in->n_res && !rc; k++){
		if(in->res[k].def->operations & OBJ_OP_R) rc = read_res(&in->res[k], o, in->id, out);
	}
	if(!rc && out->count == before){
		struct lwm2m_path p = tree_mkpath(2, o, in->id, 0, 0);
		rc = push_marker(out, &p, LWM2M_NODE_EMPTY_INSTANCE);
	}
	return rc;
}

int tree_read(const struct tree *t, const struct lwm2m_path *p, struct lwm2m_nodes *out)
{
	struct target tg;
	int rc;

	if(p->len == 0) return -LWM2M_EINVAL;
	rc = resolve(t, p, &tg);
	if(rc) return rc;
	if(p->len == 1){
		for(size_t k = 0; k < tg.obj->n_inst && !rc; k++){
			rc = tree_read_inst(&tg.obj->inst[k], p->ids[0], out);
		}
		return rc;
	}
	if(p->len == 2) return tree_read_inst(tg.inst, p->ids[0], out);
	if(!(tg.res->def->operations & OBJ_OP_R)) return -LWM2M_ENOTSUP;
	if(p->len == 3) return read_res(tg.res, p->ids[0], p->ids[1], out);
	return push_value(out, p, &tg.ri->v);
}

int tree_read_all(const struct tree *t, struct lwm2m_nodes *out)
{
	for(size_t k = 0; k < TREE_N_OBJ; k++){
		const struct tree_obj *o = &t->obj[k];
		int rc = 0;

		if(!o->def || dm_hidden(o->def->id)) continue;
		for(size_t i = 0; i < o->n_inst && !rc; i++) rc = tree_read_inst(&o->inst[i], o->def->id, out);
		if(rc) return rc;
	}
	return 0;
}

/* ---- write ---- */

/* Value rules beyond the type. */
int tree_check_value(const struct lwm2m_path *p, const struct lwm2m_value *v)
{
	if(p->ids[0] == TREE_OBJ_SERVER && p->ids[2] == 1 && (v->v.i < 1 || v->v.i > UINT32_MAX)){
		return -LWM2M_ERANGE;
	}
	if(p->ids[0] == TREE_OBJ_SERVER && p->ids[2] == 7){
		const char *b = (const char *)v->v.bytes.data;
		if(v->v.bytes.len == 0 || strspn(b, "UMHSTNQ") != v->v.bytes.len) return -LWM2M_ERANGE;
	}
	return 0;
}

/* Whether node n may be written under target p (nothing is changed). */
static int check_write_node(const struct tree *t, const struct lwm2m_path *p,
		const struct lwm2m_node *n)
{
	struct target tg;
	struct lwm2m_path rp = n->path;
	int rc;

	if(!path_starts_with(&n->path, p)) return -LWM2M_EINVAL;
	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE) return n->path.len == 2 ? 0 : -LWM2M_EINVAL;
	if(n->path.len < 3) return -LWM2M_EINVAL;
	rp.len = 3;
	rc = resolve(t, &rp, &tg);
	if(rc) return rc;
	if(!(tg.res->def->operations & OBJ_OP_W)) return -LWM2M_ENOTSUP;
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE) return tg.res->def->multiple ? 0 : -LWM2M_EINVAL;
	if(tg.res->def->multiple != (n->path.len == 4)) return -LWM2M_EINVAL;
	if(n->value.type == LWM2M_TYPE_NONE){
		/* SenML-ETCH: no value = delete that resource instance */
		return n->path.len == 4 ? 0 : -LWM2M_EINVAL;
	}
	if(n->value.type != tg.res->def->type) return -LWM2M_ETYPE;
	return tree_check_value(&n->path, &n->value);
}

static void note_change(const struct tree *t, const struct lwm2m_path *p, struct tree_changes *ch)
{
	if(p->ids[0] != TREE_OBJ_SERVER || p->ids[1] != t->server_inst || p->len < 3) return;
	if(p->ids[2] == 1) ch->lifetime = true;
	if(p->ids[2] == 7) ch->binding = true;
}

int tree_res_store(struct tree *t, struct tree_res *r, const struct lwm2m_path *p,
		const struct lwm2m_value *v)
{
	struct lwm2m_value copy;
	int rc;

	memset(&copy, 0, sizeof(copy));
	rc = value_copy(&copy, v);
	if(rc) return rc;
	if(p->ids[0] == TREE_OBJ_DEVICE && p->ids[2] == 13 && r->v.type == LWM2M_TYPE_TIME){
		/* Current Time: keep the offset so the clock keeps running from the written time */
		t->time_offset = copy.v.i - (r->v.v.i - t->time_offset);
	}
	value_free(&r->v);
	r->v = copy;
	return 0;
}

static int apply_node(struct tree *t, const struct lwm2m_node *n, struct tree_changes *ch)
{
	struct target tg;
	struct lwm2m_path rp = n->path;

	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE || n->kind == LWM2M_NODE_EMPTY_MULTIPLE) return 0;
	rp.len = 3;
	if(resolve(t, &rp, &tg) != 0) return -LWM2M_ENOENT;
	note_change(t, &n->path, ch);
	if(n->path.len == 4){
		if(n->value.type == LWM2M_TYPE_NONE){
			res_del_ri(tg.res, n->path.ids[3]);
			return 0;
		}
		return tree_res_set_ri(tg.res, n->path.ids[3], &n->value);
	}
	return tree_res_store(t, tg.res, &n->path, &n->value);
}

/* Replace: multiple resources named by the payload lose their old instances first. */
static void clear_replaced(struct tree *t, const struct lwm2m_path *p,
		const struct lwm2m_nodes *nodes)
{
	for(size_t k = 0; k < nodes->count; k++){
		struct lwm2m_path rp = nodes->items[k].path;
		struct target tg;

		if(rp.len < 3) continue;
		rp.len = 3;
		if(resolve(t, &rp, &tg) != 0 || !tg.res->def->multiple) continue;
		if(p->len <= 3) tree_res_clear(tg.res);
	}
}

int tree_write(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		bool replace, struct tree_changes *ch)
{
	struct target tg;
	struct lwm2m_path rp = *p;
	int rc;

	if(p->len == 0) return -LWM2M_EINVAL;
	if(p->len == 4){
		/* a resource instance: its resource must exist and be multiple */
		rp.len = 3;
		rc = resolve(t, &rp, &tg);
		if(rc) return rc;
		if(!tg.res->def->multiple) return -LWM2M_ENOENT;
	}else{
		rc = resolve(t, p, &tg);
		if(rc) return rc;
	}
	if(p->len == 1) return -LWM2M_ENOTSUP;
	if(p->len >= 3 && !(tg.res->def->operations & OBJ_OP_W)) return -LWM2M_ENOTSUP;
	if(nodes->count == 0 && p->len != 2) return -LWM2M_EINVAL;
	for(size_t k = 0; k < nodes->count; k++){
		rc = check_write_node(t, p, &nodes->items[k]);
		if(rc) return rc;
	}
	if(replace) clear_replaced(t, p, nodes);
	for(size_t k = 0; k < nodes->count; k++){
		rc = apply_node(t, &nodes->items[k], ch);
		if(rc) return rc;
	}
	return 0;
}

int tree_write_composite(struct tree *t, const struct lwm2m_nodes *nodes,
		struct tree_changes *ch)
{
	int rc;

	for(size_t k = 0; k < nodes->count; k++){
		const struct lwm2m_node *n = &nodes->items[k];

		if(n->path.len < 3) return -LWM2M_EINVAL;
		rc = check_write_node(t, &n->path, n);
		if(rc) return rc;
	}
	for(size_t k = 0; k < nodes->count; k++){
		rc = apply_node(t, &nodes->items[k], ch);
		if(rc) return rc;
	}
	return 0;
}

/* ---- create / delete / execute ---- */

static uint16_t next_free_id(const struct tree_obj *o)
{
	uint16_t id = 0;

	while(tree_find_inst(o, id) && id < LWM2M_ID_MAX - 1) id++;
	return id;
}

static int check_create_node(const struct tree_obj *o, const struct lwm2m_node *n)
{
	const struct obj_resource_def *def;

	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE) return 0;
	if(n->path.len < 3) return -LWM2M_EINVAL;
	def = obj_def_resource(o->def, n->path.ids[2]);
	if(!def || def->type == LWM2M_TYPE_NONE) return -LWM2M_EINVAL;
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE) return def->multiple ? 0 : -LWM2M_EINVAL;
	if(def->multiple != (n->path.len == 4)) return -LWM2M_EINVAL;
	if(n->value.type != def->type) return -LWM2M_ETYPE;
	return 0;
}

/* Instance id a created node asks for (65535 = the client chooses). */
static uint16_t requested_id(const struct lwm2m_node *n)
{
	return n->path.len >= 2 ? n->path.ids[1] : LWM2M_ID_MAX;
}

int tree_create(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		uint64_t now_s, uint16_t *first_id, struct tree_changes *ch)
{
	struct tree_obj *o;
	size_t k = 0;
	int rc;

	if(p->len != 1) return -LWM2M_EINVAL;
	o = tree_find_obj(t, p->ids[0]);
	if(!o) return -LWM2M_ENOENT;
	if(o->def->id != TREE_OBJ_TEMP) return -LWM2M_ENOTSUP;
	for(size_t j = 0; j < nodes->count; j++){
		uint16_t id = requested_id(&nodes->items[j]);

		if(!path_starts_with(&nodes->items[j].path, p)) return -LWM2M_EINVAL;
		rc = check_create_node(o, &nodes->items[j]);
		if(rc) return rc;
		if(id != LWM2M_ID_MAX && tree_find_inst(o, id)) return -LWM2M_EEXIST;
	}
	if(o->n_inst >= LWM2M_ID_MAX - 1) return -LWM2M_EFULL;
	/* nodes are sorted: each run of one instance id is one new instance */
	do{
		uint16_t want = k < nodes->count ? requested_id(&nodes->items[k]) : LWM2M_ID_MAX;
		uint16_t id = want == LWM2M_ID_MAX ? next_free_id(o) : want;
		struct tree_inst *in = tree_temp_add(t, id, now_s);

		if(!in) return -LWM2M_ENOMEM;
		if(k == 0) *first_id = id;
		ch->objects = true;
		for(; k < nodes->count && requested_id(&nodes->items[k]) == want; k++){
			struct lwm2m_node n = nodes->items[k];

			if(n.kind != LWM2M_NODE_VALUE) continue;
			n.path.ids[1] = id;
			rc = n.path.len == 4 ? tree_res_set_ri(tree_find_res(in, n.path.ids[2]), n.path.ids[3], &n.value)
				: apply_node(t, &n, ch);
			if(rc) return rc;
		}
	}while(k < nodes->count);
	return 0;
}

void tree_drop_attrs_below(struct tree *t, const struct lwm2m_path *p)
{
	size_t w = 0;

	for(size_t k = 0; k < t->n_attrs; k++){
		if(!path_starts_with(&t->attrs[k].path, p)) t->attrs[w++] = t->attrs[k];
	}
	t->n_attrs = w;
}

int tree_delete(struct tree *t, const struct lwm2m_path *p, struct tree_changes *ch)
{
	struct target tg;
	int rc;

	if(p->len == 0) return -LWM2M_ENOTSUP;
	rc = resolve(t, p, &tg);
	if(rc) return rc;
	if(p->len == 2 && tg.obj->def->id == TREE_OBJ_TEMP){
		tree_inst_remove(tg.obj, p->ids[1]);
		ch->objects = true;
	}else if(p->len == 4 && (tg.res->def->operations & OBJ_OP_W)){
		res_del_ri(tg.res, p->ids[3]);
	}else{
		return -LWM2M_ENOTSUP;
	}
	tree_drop_attrs_below(t, p);
	return 0;
}

int tree_execute(struct tree *t, const struct lwm2m_path *p, enum tree_action *act)
{
	struct target tg;
	int rc;

	*act = TREE_ACT_NONE;
	if(p->len == 0) return -LWM2M_ENOTSUP;
	rc = resolve(t, p, &tg);
	if(rc) return rc;
	if(p->len != 3 || !(tg.res->def->operations & OBJ_OP_E)) return -LWM2M_ENOTSUP;
	if(p->ids[0] == TREE_OBJ_SERVER && p->ids[2] == 8) *act = TREE_ACT_UPDATE;
	if(p->ids[0] == TREE_OBJ_DEVICE && p->ids[2] == 4) *act = TREE_ACT_REBOOT;
	if(p->ids[0] == TREE_OBJ_TEMP && p->ids[2] == 5605){
		double v = tree_find_res(tg.inst, 5700)->v.v.f;
		tree_find_res(tg.inst, 5601)->v.v.f = v;
		tree_find_res(tg.inst, 5602)->v.v.f = v;
	}
	return 0;
}

/* ---- attributes ---- */

static struct tree_attr *find_attr(const struct tree *t, const struct lwm2m_path *p)
{
	for(size_t k = 0; k < t->n_attrs; k++){
		if(path_compare(&t->attrs[k].path, p) == 0) return &t->attrs[k];
	}
	return NULL;
}

/* Copy attribute `id` (set, with its value) from src to dst. */
static void attr_take(struct lwm2m_attrs *dst, const struct lwm2m_attrs *src, enum lwm2m_attr_id id)
{
	switch(id){
		case LWM2M_ATTR_PMIN: dst->pmin = src->pmin; break;
		case LWM2M_ATTR_PMAX: dst->pmax = src->pmax; break;
		case LWM2M_ATTR_GT: dst->gt = src->gt; break;
		case LWM2M_ATTR_LT: dst->lt = src->lt; break;
		case LWM2M_ATTR_ST: dst->st = src->st; break;
		case LWM2M_ATTR_EPMIN: dst->epmin = src->epmin; break;
		case LWM2M_ATTR_EPMAX: dst->epmax = src->epmax; break;
		case LWM2M_ATTR_EDGE: dst->edge = src->edge; break;
		case LWM2M_ATTR_CON: dst->con = src->con; break;
		case LWM2M_ATTR_HQMAX: dst->hqmax = src->hqmax; break;
		default: return;
	}
	dst->set |= LWM2M_ATTR_BIT(id);
}

static bool type_numeric(enum lwm2m_type type)
{
	return type == LWM2M_TYPE_INTEGER || type == LWM2M_TYPE_UNSIGNED || type == LWM2M_TYPE_FLOAT;
}

int tree_write_attrs(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_attrs *a,
		struct lwm2m_error *err)
{
	const uint32_t numeric = LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_LT)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_ST);
	struct tree_attr *slot;
	struct lwm2m_attrs merged;
	struct target tg;
	int rc;

	if(p->len == 0) return lwm2m_fail(err, LWM2M_EINVAL, -1, "no attributes on the root");
	if(resolve(t, p, &tg) != 0) return lwm2m_fail(err, LWM2M_ENOENT, -1, "no such path");
	rc = attr_validate_level(a, p, err);
	if(rc) return rc;
	if(((a->set | a->unset) & numeric) && !type_numeric(tg.res->def->type)){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "gt, lt and st need a numeric resource");
	}
	slot = find_attr(t, p);
	memset(&merged, 0, sizeof(merged));
	if(slot) merged = slot->attrs;
	for(unsigned id = 0; id < LWM2M_ATTR_COUNT; id++){
		if(a->set & LWM2M_ATTR_BIT(id)) attr_take(&merged, a, (enum lwm2m_attr_id)id);
		if(a->unset & LWM2M_ATTR_BIT(id)) merged.set &= ~LWM2M_ATTR_BIT(id);
	}
	rc = attr_validate(&merged, err);
	if(rc) return rc;
	if(!slot){
		struct tree_attr *grown = realloc(t->attrs, (t->n_attrs + 1) * sizeof(*grown));
		if(!grown) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		t->attrs = grown;
		slot = &t->attrs[t->n_attrs++];
		slot->path = *p;
	}
	slot->attrs = merged;
	return 0;
}

void tree_effective_attrs(const struct tree *t, const struct lwm2m_path *p,
		struct lwm2m_attrs *out)
{
	memset(out, 0, sizeof(*out));
	for(uint8_t len = 1; len <= p->len; len++){
		struct lwm2m_path q = *p;
		const struct tree_attr *a;

		q.len = len;
		a = find_attr(t, &q);
		if(!a) continue;
		for(unsigned id = 0; id < LWM2M_ATTR_COUNT; id++){
			if(a->attrs.set & LWM2M_ATTR_BIT(id)) attr_take(out, &a->attrs, (enum lwm2m_attr_id)id);
		}
	}
}

/* ---- discover ---- */

#define LINK_MAX_ATTRS (LWM2M_ATTR_COUNT + 2)

/* Append one link: "<path>" with dim or ver and the attributes attached to the path. */
static int discover_link(const struct tree *t, const struct lwm2m_path *p, const char *ver,
		int dim, bool first, struct lwm2m_buf *out)
{
	struct lf_attr attrs[LINK_MAX_ATTRS];
	size_t offs[LINK_MAX_ATTRS];
	char uri[LWM2M_PATH_STR_MAX];
	const struct tree_attr *ta = find_attr(t, p);
	struct lwm2m_buf vals;
	struct lf_link link;
	struct lf_links one;
	size_t n = 0;
	int rc = 0;

	buf_init(&vals, 0);
	memset(attrs, 0, sizeof(attrs));
	path_format(p, uri, sizeof(uri));
	if(ver){
		attrs[n].name = "ver";
		offs[n++] = vals.len;
		rc = buf_printf(&vals, "%s", ver);
		if(!rc) rc = buf_append_byte(&vals, 0);
	}
	if(dim >= 0 && !rc){
		attrs[n].name = "dim";
		offs[n++] = vals.len;
		rc = buf_printf(&vals, "%d", dim);
		if(!rc) rc = buf_append_byte(&vals, 0);
	}
	for(unsigned id = 0; ta && id < LWM2M_ATTR_COUNT && !rc; id++){
		if(!(ta->attrs.set & LWM2M_ATTR_BIT(id))) continue;
		attrs[n].name = (char *)attr_name((enum lwm2m_attr_id)id);
		offs[n++] = vals.len;
		rc = attr_format_value((enum lwm2m_attr_id)id, &ta->attrs, &vals);
		if(!rc) rc = buf_append_byte(&vals, 0);
	}
	/* the value buffer has stopped moving: point the attributes into it */
	for(size_t k = 0; k < n && !rc; k++) attrs[k].value = (char *)vals.data + offs[k];
	memset(&link, 0, sizeof(link));
	link.uri = uri;
	link.attrs = attrs;
	link.n_attrs = n;
	one.items = &link;
	one.count = 1;
	if(!rc && !first) rc = buf_append_byte(out, ',');
	if(!rc) rc = lf_format(&one, out);
	buf_free(&vals);
	return rc;
}

static int discover_res(const struct tree *t, const struct lwm2m_path *rp, const struct tree_res *r,
		int depth, bool first, struct lwm2m_buf *out)
{
	int rc = discover_link(t, rp, NULL, r->def->multiple ? (int)r->n_ri : -1, first, out);

	for(size_t k = 0; depth > 0 && r->def->multiple && k < r->n_ri && !rc; k++){
		struct lwm2m_path q = tree_mkpath(4, rp->ids[0], rp->ids[1], rp->ids[2], r->ri[k].id);
		rc = discover_link(t, &q, NULL, -1, false, out);
	}
	return rc;
}

static int discover_inst(const struct tree *t, uint16_t o, const struct tree_inst *in, int depth,
		bool first, struct lwm2m_buf *out)
{
	struct lwm2m_path ip = tree_mkpath(2, o, in->id, 0, 0);
	int rc = discover_link(t, &ip, NULL, -1, first, out);

	for(size_t k = 0; depth > 0 && k < in->n_res && !rc; k++){
		struct lwm2m_path rp = tree_mkpath(3, o, in->id, in->res[k].def->id, 0);
		rc = discover_res(t, &rp, &in->res[k], depth - 1, false, out);
	}
	return rc;
}

int tree_discover(const struct tree *t, const struct lwm2m_path *p, int depth,
		struct lwm2m_buf *out)
{
	struct target tg;
	const char *ver;
	int rc;

	if(p->len == 0) return -LWM2M_EINVAL;
	rc = resolve(t, p, &tg);
	if(rc) return rc;
	if(depth < 0) depth = p->len == 1 ? 2 : 1;
	switch(p->len){
		case 1:
			ver = strcmp(tg.obj->def->version, "1.0") ? tg.obj->def->version : NULL;
			rc = discover_link(t, p, ver, -1, true, out);
			for(size_t k = 0; depth > 0 && k < tg.obj->n_inst && !rc; k++){
				rc = discover_inst(t, p->ids[0], &tg.obj->inst[k], depth - 1, false, out);
			}
			return rc;
		case 2: return discover_inst(t, p->ids[0], tg.inst, depth, true, out);
		case 3: return discover_res(t, p, tg.res, depth, true, out);
		default: return discover_link(t, p, NULL, -1, true, out);
	}
}

/* ---- registration ---- */

int tree_object_list(const struct tree *t, struct lwm2m_buf *out)
{
	struct lf_object_list list;
	size_t n = 0, cap = 0;
	int rc;

	for(size_t i = 0; i < TREE_N_OBJ; i++) cap += t->obj[i].n_inst ? t->obj[i].n_inst : 1;
	memset(&list, 0, sizeof(list));
	list.alt_path = (char *)"/";   /* lf_format_object_list reads it (never freed here) */
	list.items = calloc(cap, sizeof(*list.items));
	if(!list.items) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < TREE_N_OBJ; i++){
		const struct tree_obj *o = &t->obj[i];

		if(!o->def || dm_hidden(o->def->id)) continue;
		if(o->n_inst == 0) list.items[n++].obj = o->def->id;
		for(size_t k = 0; k < o->n_inst; k++){
			list.items[n].obj = o->def->id;
			list.items[n].has_inst = true;
			list.items[n++].inst = o->inst[k].id;
		}
	}
	list.count = n;
	rc = lf_format_object_list(&list, out);
	free(list.items);
	return rc;
}

/* Resource rid of the registration's /1 instance, when it holds a value of that type. */
static const struct lwm2m_value *server_value(const struct tree *t, uint16_t rid, enum lwm2m_type type)
{
	const struct tree_obj *o = tree_find_obj(t, TREE_OBJ_SERVER);
	const struct tree_inst *srv = o ? tree_find_inst(o, t->server_inst) : NULL;
	const struct tree_res *r = srv ? tree_find_res(srv, rid) : NULL;

	return r && r->v.type == type ? &r->v : NULL;
}

uint32_t tree_lifetime(const struct tree *t)
{
	const struct lwm2m_value *v = server_value(t, 1, LWM2M_TYPE_INTEGER);

	return v ? (uint32_t)v->v.i : t->lifetime_default;
}

const char *tree_binding(const struct tree *t)
{
	const struct lwm2m_value *v = server_value(t, 7, LWM2M_TYPE_STRING);

	return v ? (const char *)v->v.bytes.data : t->binding_default;
}
