/* The Bootstrap interface on the object tree of one device (see tree.h): what the
 * Bootstrap-Server's Write, Delete, Read, Discover, a Bootstrap-Pack and Finish do to it.
 * Pure: no I/O. */
#include "tree_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding/cose.h"
#include "objects/link_format.h"

#define SECURITY_BS 1          /* /0/x/1 Bootstrap-Server */
#define SECURITY_SSID 10       /* /0/x/10 Short Server ID */
#define SECURITY_MQTT 26       /* /0/x/26 MQTT Server (objlnk to /24) */
#define SECURITY_COSE 27       /* /0/x/27 LwM2M COSE Security (objlnk to /23) */
#define SERVER_SSID 0          /* /1/x/0 Short Server ID */
#define ACL_OBJ 2              /* Access Control, a Bootstrap-Read target */

/* ---- reading values ---- */

static const struct lwm2m_value *value_of(const struct tree_inst *in, uint16_t rid, enum lwm2m_type type)
{
	const struct tree_res *r = in ? tree_find_res(in, rid) : NULL;

	return r && !r->def->multiple && r->v.type == type ? &r->v : NULL;
}

static bool bool_of(const struct tree_inst *in, uint16_t rid)
{
	const struct lwm2m_value *v = value_of(in, rid, LWM2M_TYPE_BOOLEAN);

	return v && v->v.b;
}

static bool int_of(const struct tree_inst *in, uint16_t rid, int64_t *out)
{
	const struct lwm2m_value *v = value_of(in, rid, LWM2M_TYPE_INTEGER);

	if(v) *out = v->v.i;
	return v != NULL;
}

/* The first instance of object `obj` that resource rid (an objlnk, single or multiple) of
 * `in` links; false when it links none ("65535:65535" links nothing). */
static bool first_link(const struct tree_inst *in, uint16_t rid, uint16_t obj, uint16_t *inst)
{
	const struct tree_res *r = tree_find_res(in, rid);
	const struct lwm2m_value *v;
	size_t n;

	if(!r) return false;
	n = r->def->multiple ? r->n_ri : 1;
	for(size_t k = 0; k < n; k++){
		v = r->def->multiple ? &r->ri[k].v : &r->v;
		if(v->type == LWM2M_TYPE_OBJLNK && v->v.lnk.obj == obj && v->v.lnk.inst != LWM2M_ID_MAX){
			*inst = v->v.lnk.inst;
			return true;
		}
	}
	return false;
}

static bool links(const struct tree_inst *in, uint16_t rid, uint16_t obj, uint16_t inst)
{
	const struct tree_res *r = tree_find_res(in, rid);
	size_t n;

	if(!r) return false;
	n = r->def->multiple ? r->n_ri : 1;
	for(size_t k = 0; k < n; k++){
		const struct lwm2m_value *v = r->def->multiple ? &r->ri[k].v : &r->v;
		if(v->type == LWM2M_TYPE_OBJLNK && v->v.lnk.obj == obj && v->v.lnk.inst == inst) return true;
	}
	return false;
}

/* ---- accounts ---- */

static bool is_bs_security(const struct tree_inst *in)
{
	return bool_of(in, SECURITY_BS);
}

/* The /0 instance of the Bootstrap-Server account (bs) or of a server account (!bs) that
 * links /obj/inst (/23 through resource 27, /24 through 26); NULL when none. */
static const struct tree_inst *security_linking(const struct tree *t, uint16_t obj, uint16_t inst,
		bool bs)
{
	const struct tree_obj *sec = tree_find_obj(t, TREE_OBJ_SECURITY);
	uint16_t rid = obj == TREE_OBJ_COSE ? SECURITY_COSE : SECURITY_MQTT;

	if(!sec || (obj != TREE_OBJ_COSE && obj != TREE_OBJ_MQTT)) return NULL;
	for(size_t k = 0; k < sec->n_inst; k++){
		const struct tree_inst *in = &sec->inst[k];
		if(is_bs_security(in) == bs && links(in, rid, obj, inst)) return in;
	}
	return NULL;
}

/* Whether /obj/<in> belongs to the Bootstrap-Server account. */
static bool bs_owned(const struct tree *t, uint16_t obj, const struct tree_inst *in)
{
	if(obj == TREE_OBJ_SECURITY) return is_bs_security(in);
	return security_linking(t, obj, in->id, true) != NULL;
}

/* Short Server ID of the server account an instance belongs to; false when none. */
static bool account_ssid(const struct tree *t, uint16_t obj, const struct tree_inst *in, int64_t *ssid)
{
	const struct tree_inst *sec;

	switch(obj){
		case TREE_OBJ_SECURITY: return !is_bs_security(in) && int_of(in, SECURITY_SSID, ssid);
		case TREE_OBJ_SERVER: return int_of(in, SERVER_SSID, ssid);
		case TREE_OBJ_COSE:
		case TREE_OBJ_MQTT:
			sec = security_linking(t, obj, in->id, false);
			return sec && int_of(sec, SECURITY_SSID, ssid);
		default: return false;
	}
}

/* ---- delete ---- */

static void delete_inst(struct tree *t, struct tree_obj *o, uint16_t id)
{
	struct lwm2m_path p = tree_mkpath(2, o->def->id, id, 0, 0);

	tree_inst_remove(o, id);
	tree_drop_attrs_below(t, &p);
}

/* Delete the instances of o that the Bootstrap-Server account does not own. */
static void delete_unowned(struct tree *t, struct tree_obj *o)
{
	for(size_t k = o->n_inst; k-- > 0;){
		if(!bs_owned(t, o->def->id, &o->inst[k])) delete_inst(t, o, o->inst[k].id);
	}
}

int tree_bs_delete(struct tree *t, const struct lwm2m_path *p)
{
	struct tree_obj *o;
	struct tree_inst *in;

	if(p->len > 2) return -LWM2M_EINVAL;
	if(p->len == 0){
		for(size_t k = 0; k < TREE_N_OBJ; k++){
			if(t->obj[k].def && t->obj[k].def->id != TREE_OBJ_DEVICE) delete_unowned(t, &t->obj[k]);
		}
		return 0;
	}
	if(p->ids[0] == TREE_OBJ_DEVICE) return -LWM2M_EINVAL;   /* the Device instance stays */
	o = tree_find_obj(t, p->ids[0]);
	if(!o) return 0;   /* nothing of it here: as good as deleted */
	if(p->len == 1){
		delete_unowned(t, o);
		return 0;
	}
	in = tree_find_inst(o, p->ids[1]);
	if(!in) return 0;
	if(bs_owned(t, o->def->id, in)) return -LWM2M_EINVAL;
	delete_inst(t, o, in->id);
	return 0;
}

/* ---- write ---- */

static int check_instance_id(const struct tree_obj *o, uint16_t id)
{
	if(id == LWM2M_ID_MAX || (!o->def->multiple && id != 0)) return -LWM2M_EINVAL;
	return 0;
}

/* Whether node n may be written under target p (nothing is changed). */
static int check_node(const struct tree *t, const struct lwm2m_path *p, const struct lwm2m_node *n)
{
	const struct obj_resource_def *def;
	const struct tree_obj *o;

	if(!path_starts_with(&n->path, p) || n->path.len < 2 || n->prefix) return -LWM2M_EINVAL;
	o = tree_find_obj(t, n->path.ids[0]);
	if(!o || check_instance_id(o, n->path.ids[1]) != 0) return -LWM2M_EINVAL;
	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE) return n->path.len == 2 ? 0 : -LWM2M_EINVAL;
	if(n->path.len < 3) return -LWM2M_EINVAL;
	def = obj_def_resource(o->def, n->path.ids[2]);
	if(!def || def->type == LWM2M_TYPE_NONE) return -LWM2M_EINVAL;
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE) return def->multiple && n->path.len == 3 ? 0 : -LWM2M_EINVAL;
	if(def->multiple != (n->path.len == 4)) return -LWM2M_EINVAL;
	if(n->value.type != def->type) return -LWM2M_ETYPE;
	return tree_check_value(&n->path, &n->value);
}

static int check_all(const struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes)
{
	for(size_t k = 0; k < nodes->count; k++){
		int rc = check_node(t, p, &nodes->items[k]);
		if(rc) return rc;
	}
	return 0;
}

/* Instance `id` of o, created when missing: a sensor comes with its values, a server
 * account with its Registration Update Trigger, anything else empty. */
static struct tree_inst *instance_for(struct tree *t, struct tree_obj *o, uint16_t id, uint64_t now_s)
{
	static const uint16_t server_exec[] = {8};
	struct tree_inst *in = tree_find_inst(o, id);

	if(in) return in;
	if(o->def->id == TREE_OBJ_TEMP) return tree_temp_add(t, id, now_s);
	if(o->def->id == TREE_OBJ_SERVER) return tree_inst_add(o, id, server_exec, 1);
	return tree_inst_add(o, id, NULL, 0);
}

/* Resource def of `in`, added without a value when missing. */
static struct tree_res *resource_for(struct tree_inst *in, const struct obj_resource_def *def)
{
	struct tree_res *r = tree_find_res(in, def->id), *grown;
	size_t at = 0;

	if(r) return r;
	grown = realloc(in->res, (in->n_res + 1) * sizeof(*grown));
	if(!grown) return NULL;
	in->res = grown;
	while(at < in->n_res && in->res[at].def->id < def->id) at++;
	memmove(&in->res[at + 1], &in->res[at], (in->n_res - at) * sizeof(*grown));
	memset(&in->res[at], 0, sizeof(*grown));
	in->res[at].def = def;
	in->n_res++;
	return &in->res[at];
}

static bool same_resource(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	return a->len >= 3 && b->len >= 3 && a->ids[0] == b->ids[0] && a->ids[1] == b->ids[1]
		&& a->ids[2] == b->ids[2];
}

static int bs_apply_node(struct tree *t, const struct lwm2m_node *n, const struct lwm2m_node *prev,
		uint64_t now_s)
{
	struct tree_obj *o = tree_find_obj(t, n->path.ids[0]);
	struct tree_inst *in = instance_for(t, o, n->path.ids[1], now_s);
	struct tree_res *r;

	if(!in) return -LWM2M_ENOMEM;
	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE) return 0;
	r = resource_for(in, obj_def_resource(o->def, n->path.ids[2]));
	if(!r) return -LWM2M_ENOMEM;
	if(!r->def->multiple) return tree_res_store(t, r, &n->path, &n->value);
	/* a multiple resource holds exactly the instances written: cleared at its first node
	 * (nodes come sorted, so the instances of one resource follow each other) */
	if(!prev || !same_resource(&prev->path, &n->path)) tree_res_clear(r);
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE) return 0;
	return tree_res_set_ri(r, n->path.ids[3], &n->value);
}

static int bs_apply_all(struct tree *t, const struct lwm2m_nodes *nodes, uint64_t now_s)
{
	for(size_t k = 0; k < nodes->count; k++){
		int rc = bs_apply_node(t, &nodes->items[k], k ? &nodes->items[k - 1] : NULL, now_s);
		if(rc) return rc;
	}
	return 0;
}

int tree_bs_write(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		uint64_t now_s)
{
	struct tree_obj *o;
	int rc;

	if(p->len == 0 || p->len > 3) return -LWM2M_EINVAL;
	rc = check_all(t, p, nodes);
	if(rc) return rc;
	if(nodes->count > 0) return bs_apply_all(t, nodes, now_s);
	/* no content: only an instance can be written so (created without resources) */
	o = tree_find_obj(t, p->ids[0]);
	if(p->len != 2 || !o || check_instance_id(o, p->ids[1]) != 0) return -LWM2M_EINVAL;
	return instance_for(t, o, p->ids[1], now_s) ? 0 : -LWM2M_ENOMEM;
}

int tree_bs_pack(struct tree *t, const struct lwm2m_nodes *nodes, uint64_t now_s)
{
	struct lwm2m_path root;
	int rc;

	memset(&root, 0, sizeof(root));
	if(nodes->count == 0) return -LWM2M_EINVAL;
	rc = check_all(t, &root, nodes);
	if(rc) return rc;
	for(size_t k = 0; k < nodes->count; k++){
		uint16_t obj = nodes->items[k].path.ids[0];

		if(k > 0 && nodes->items[k - 1].path.ids[0] == obj) continue;
		if(obj != TREE_OBJ_DEVICE) delete_unowned(t, tree_find_obj(t, obj));
	}
	return bs_apply_all(t, nodes, now_s);
}

/* ---- read ---- */

int tree_bs_read(const struct tree *t, const struct lwm2m_path *p, struct lwm2m_nodes *out)
{
	const struct tree_obj *o;
	const struct tree_inst *in;
	int rc = 0;

	if(p->len < 1 || p->len > 2 || (p->ids[0] != TREE_OBJ_SERVER && p->ids[0] != ACL_OBJ)){
		return -LWM2M_EINVAL;
	}
	o = tree_find_obj(t, p->ids[0]);
	if(!o) return -LWM2M_ENOENT;
	if(p->len == 2){
		in = tree_find_inst(o, p->ids[1]);
		return in ? tree_read_inst(in, o->def->id, out) : -LWM2M_ENOENT;
	}
	for(size_t k = 0; k < o->n_inst && !rc; k++) rc = tree_read_inst(&o->inst[k], o->def->id, out);
	return rc;
}

/* ---- discover ---- */

/* One link of a Bootstrap-Discover answer and the text its attributes point to. */
struct bs_link {
	char uri[LWM2M_PATH_STR_MAX];
	char ssid[8];
	struct lf_attr attrs[2];
};

static void link_instance(const struct tree *t, uint16_t obj, const struct tree_inst *in,
		struct bs_link *bl, struct lf_link *l)
{
	struct lwm2m_path p = tree_mkpath(2, obj, in->id, 0, 0);
	bool server_sec = obj == TREE_OBJ_SECURITY && !is_bs_security(in);
	const struct lwm2m_value *uri = server_sec ? value_of(in, 0, LWM2M_TYPE_STRING) : NULL;
	int64_t ssid;

	path_format(&p, bl->uri, sizeof(bl->uri));
	l->uri = bl->uri;
	l->attrs = bl->attrs;
	if(account_ssid(t, obj, in, &ssid) && ssid >= 1 && ssid < LWM2M_ID_MAX){
		snprintf(bl->ssid, sizeof(bl->ssid), "%u", (unsigned)ssid);
		bl->attrs[l->n_attrs].name = (char *)"ssid";
		bl->attrs[l->n_attrs++].value = bl->ssid;
	}
	if(uri && uri->v.bytes.len){
		bl->attrs[l->n_attrs].name = (char *)"uri";
		bl->attrs[l->n_attrs].quoted = true;
		bl->attrs[l->n_attrs++].value = (char *)uri->v.bytes.data;
	}
}

static size_t discover_count(const struct tree *t, const struct lwm2m_path *p)
{
	size_t n = 1;   /* the root link */

	for(size_t k = 0; k < TREE_N_OBJ; k++){
		const struct tree_obj *o = &t->obj[k];
		if(o->def && (p->len == 0 || o->def->id == p->ids[0])) n += o->n_inst ? o->n_inst : 1;
	}
	return n;
}

int tree_bs_discover(const struct tree *t, const struct lwm2m_path *p, const char *version,
		struct lwm2m_buf *out)
{
	size_t cap, n = 0;
	struct bs_link *bl;
	struct lf_links list;
	struct lf_attr root_attr;
	int rc;

	if(p->len > 1) return -LWM2M_EINVAL;
	if(p->len == 1 && !tree_find_obj(t, p->ids[0])) return -LWM2M_ENOENT;
	cap = discover_count(t, p);
	bl = calloc(cap, sizeof(*bl));
	list.items = calloc(cap, sizeof(*list.items));
	if(!bl || !list.items){
		free(bl);
		free(list.items);
		return -LWM2M_ENOMEM;
	}
	if(p->len == 0){
		/* lwm2m="1.2" first, the form ETS int-19 expects (spec digest 6) */
		root_attr.name = (char *)"lwm2m";
		root_attr.value = (char *)version;
		root_attr.quoted = true;
		list.items[n].uri = (char *)"/";
		list.items[n].bare = true;
		list.items[n].attrs = &root_attr;
		list.items[n++].n_attrs = 1;
	}
	for(size_t k = 0; k < TREE_N_OBJ; k++){
		const struct tree_obj *o = &t->obj[k];

		if(!o->def || (p->len == 1 && o->def->id != p->ids[0])) continue;
		if(o->n_inst == 0){
			snprintf(bl[n].uri, sizeof(bl[n].uri), "/%u", o->def->id);
			list.items[n].uri = bl[n].uri;
			n++;
		}
		for(size_t i = 0; i < o->n_inst; i++, n++) link_instance(t, o->def->id, &o->inst[i], &bl[n], &list.items[n]);
	}
	list.count = n;
	rc = lf_format(&list, out);
	free(list.items);
	free(bl);
	return rc;
}

int tree_bs_account_links(const struct tree *t, struct lwm2m_buf *out)
{
	bool first = true;
	int rc = 0;

	for(size_t k = 0; k < TREE_N_OBJ && !rc; k++){
		const struct tree_obj *o = &t->obj[k];

		for(size_t i = 0; o->def && i < o->n_inst && !rc; i++){
			if(!bs_owned(t, o->def->id, &o->inst[i])) continue;
			rc = buf_printf(out, "%s</%u/%u>", first ? "" : ",", o->def->id, o->inst[i].id);
			first = false;
		}
	}
	return rc;
}

/* ---- finish ---- */

static const struct tree_inst *server_with_ssid(const struct tree_obj *srv, int64_t ssid)
{
	for(size_t k = 0; k < srv->n_inst; k++){
		int64_t v;
		if(int_of(&srv->inst[k], SERVER_SSID, &v) && v == ssid) return &srv->inst[k];
	}
	return NULL;
}

int tree_cose_key(const struct tree *t, uint16_t inst, struct cose_key *k, struct lwm2m_error *err)
{
	const struct tree_obj *o = tree_find_obj(t, TREE_OBJ_COSE);
	const struct tree_inst *in = o ? tree_find_inst(o, inst) : NULL;
	const struct lwm2m_value *kid, *alg, *key;

	if(!in) return lwm2m_fail(err, LWM2M_ENOENT, -1, "no /23/%u", inst);
	kid = value_of(in, 0, LWM2M_TYPE_STRING);
	alg = value_of(in, 1, LWM2M_TYPE_INTEGER);
	key = value_of(in, 2, LWM2M_TYPE_STRING);
	if(!alg || !key) return lwm2m_fail(err, LWM2M_EINVAL, -1, "/23/%u lacks its algorithm or key", inst);
	return cose_key_from_object23(k, alg->v.i, key->v.bytes.data, key->v.bytes.len,
			kid ? kid->v.bytes.data : NULL, kid ? kid->v.bytes.len : 0, err);
}

/* Check the account of /1/<srv> (and /0/<sec>, may be NULL) and make it the registration's. */
static int take_account(struct tree *t, const struct tree_inst *sec, const struct tree_inst *srv,
		struct tree_account *acc, struct lwm2m_error *err)
{
	const struct lwm2m_value *lt = value_of(srv, 1, LWM2M_TYPE_INTEGER);
	const struct lwm2m_value *b = value_of(srv, 7, LWM2M_TYPE_STRING);
	struct lwm2m_path lp = tree_mkpath(3, TREE_OBJ_SERVER, srv->id, 1, 0);
	struct lwm2m_path bp = tree_mkpath(3, TREE_OBJ_SERVER, srv->id, 7, 0);
	struct lwm2m_error why;
	struct cose_key key;
	int64_t ssid = 0;
	int rc;

	if(!lt || tree_check_value(&lp, lt) != 0 || !b || tree_check_value(&bp, b) != 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "/1/%u lacks a valid lifetime or binding", srv->id);
	}
	acc->server_inst = srv->id;
	if(int_of(srv, SERVER_SSID, &ssid)) acc->ssid = (uint16_t)ssid;
	if(sec){
		acc->has_security = true;
		acc->security_inst = sec->id;
		acc->has_cose = first_link(sec, SECURITY_COSE, TREE_OBJ_COSE, &acc->cose_inst);
	}
	if(acc->has_cose){
		rc = tree_cose_key(t, acc->cose_inst, &key, &why);
		cose_key_wipe(&key);
		if(rc) return lwm2m_fail(err, LWM2M_EINVAL, -1, "/0/%u/27 links an unusable key: %s", sec->id, why.msg);
	}
	t->server_inst = srv->id;
	return 0;
}

int tree_bs_commit(struct tree *t, struct tree_account *acc, struct lwm2m_error *err)
{
	const struct tree_obj *sec = tree_find_obj(t, TREE_OBJ_SECURITY);
	const struct tree_obj *srv = tree_find_obj(t, TREE_OBJ_SERVER);
	bool any_security = false;

	memset(acc, 0, sizeof(*acc));
	if(!srv) return lwm2m_fail(err, LWM2M_ENOENT, -1, "no /1 object");
	for(size_t k = 0; sec && k < sec->n_inst; k++){
		const struct tree_inst *in = &sec->inst[k], *server;
		int64_t ssid;

		if(is_bs_security(in)) continue;
		any_security = true;
		if(!int_of(in, SECURITY_SSID, &ssid)) continue;
		server = server_with_ssid(srv, ssid);
		if(server) return take_account(t, in, server, acc, err);
	}
	if(any_security){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "no /1 instance has the Short Server ID of a /0 instance");
	}
	if(srv->n_inst == 0) return lwm2m_fail(err, LWM2M_ENOENT, -1, "no LwM2M Server account (/1 instance)");
	return take_account(t, NULL, &srv->inst[0], acc, err);
}
