/* COSE end-to-end protection of a device's registration-interface topic (spec digest 1.8):
 * when the device's entry in the endpoints file provisions a Security (/0) instance whose
 * resource 27 links an LwM2M COSE (/23) instance, its messages on lwm2m/rd/{ep} travel as
 * COSE Encrypt0 (AES-CCM-16-64-128) under that /23 key, in both directions. */
#include "protect.h"
#include "core_internal.h"
#include "../binding/cose.h"
#include "../conf/endpoints.h"

#include <string.h>

/* The value of resource res (or its first instance, for a multi-instance resource). */
static const struct lwm2m_node *resource(const struct endpoint_write *w, uint16_t res)
{
	for(size_t i = 0; i < w->nodes.count; i++){
		const struct lwm2m_node *n = &w->nodes.items[i];
		if(n->kind == LWM2M_NODE_VALUE && n->path.len >= 3 && n->path.ids[2] == res) return n;
	}
	return NULL;
}

static const struct endpoint_write *instance(const struct endpoint_bootstrap *bs, uint16_t obj, uint16_t inst)
{
	for(size_t i = 0; i < bs->write_count; i++){
		const struct lwm2m_path *p = &bs->writes[i].path;
		if(p->len == 2 && p->ids[0] == obj && p->ids[1] == inst) return &bs->writes[i];
	}
	return NULL;
}

/* The /23 instance a /0 instance links through resource 27, if any. */
static const struct endpoint_write *linked_cose(const struct endpoint_bootstrap *bs)
{
	for(size_t i = 0; i < bs->write_count; i++){
		const struct endpoint_write *w = &bs->writes[i];
		const struct lwm2m_node *link;
		if(w->path.len != 2 || w->path.ids[0] != 0) continue;
		link = resource(w, 27);
		if(link && link->value.type == LWM2M_TYPE_OBJLNK && link->value.v.lnk.obj == 23){
			const struct endpoint_write *cose = instance(bs, 23, link->value.v.lnk.inst);
			if(cose) return cose;
		}
	}
	return NULL;
}

bool protect_key(struct core *c, const char *endpoint, struct cose_key *key)
{
	const struct endpoint_conf *conf = endpoints_find(c->endpoints, endpoint);
	const struct endpoint_write *cose;
	const struct lwm2m_node *kid, *alg, *k;

	if(!conf || !conf->bootstrap.present) return false;
	cose = linked_cose(&conf->bootstrap);
	if(!cose) return false;
	kid = resource(cose, 0);
	alg = resource(cose, 1);
	k = resource(cose, 2);
	if(!alg || !k || (k->value.type != LWM2M_TYPE_STRING && k->value.type != LWM2M_TYPE_OPAQUE)) return false;
	return cose_key_from_object23(key, alg->value.v.i, k->value.v.bytes.data, k->value.v.bytes.len,
			kid ? kid->value.v.bytes.data : NULL, kid ? kid->value.v.bytes.len : 0, NULL) == 0;
}

int protect_wrap(const struct cose_key *key, const uint8_t *msg, size_t len, struct lwm2m_buf *out)
{
	struct cose_iv iv = { .kind = COSE_IV_FULL };

	/* One /23 key serves both directions: a random 13-byte IV per message never repeats in
	 * practice (the specification gives no nonce rule). */
	if(uv_random(NULL, NULL, iv.full, sizeof(iv.full), 0, NULL) != 0) return -LWM2M_EINVAL;
	return cose_mqtt_protect(key, &iv, NULL, 0, msg, len, out, NULL);
}

int protect_unwrap(const struct cose_key *key, const uint8_t *payload, size_t len, struct lwm2m_buf *plain,
		struct lwm2m_error *err)
{
	return cose_mqtt_unprotect(key, NULL, 0, payload, len, plain, NULL, err);
}
