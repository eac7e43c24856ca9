/* Fuzz target: the endpoints file (conf/endpoints.c) on arbitrary bytes.
 *
 * A refused document must say so in one line naming the file. An accepted one is walked
 * whole: entry names agree with their match kind and the lookup finds each entry where
 * its name says it should; every bootstrap write is a sorted, non-empty list of leaves
 * under its instance path, typed as the model types them, and encodes as SenML CBOR. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/endpoints.h"
#include "objects/fmt.h"
#include "objects/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if(!(cond)) abort(); } while(0)

#define NAME "fuzz.json"
#define PREFIX "endpoints file " NAME ": "

/* The built-in object model: made once, kept for the process. */
static const struct obj_registry *model(void)
{
	static struct obj_registry *reg;

	if(!reg){
		reg = obj_registry_new();
		if(!reg) abort();
	}
	return reg;
}

static void check_lookup(const struct endpoints *eps, const struct endpoint_conf *e)
{
	size_t len = strlen(e->name);
	char probe[ENDPOINT_NAME_MAX + 2];

	CHECK(len >= 1 && len <= ENDPOINT_NAME_MAX);
	switch(e->match){
		case ENDPOINT_MATCH_EXACT:
			CHECK(e->name[len - 1] != '*');
			CHECK(endpoints_find(eps, e->name) == e);
			break;
		case ENDPOINT_MATCH_PREFIX:
			/* No name holds a control byte, so nothing longer or exact can match this. */
			CHECK(len >= 2 && e->name[len - 1] == '*');
			memcpy(probe, e->name, len - 1);
			probe[len - 1] = '\x01';
			probe[len] = '\0';
			CHECK(endpoints_find(eps, probe) == e);
			break;
		case ENDPOINT_MATCH_DEFAULT:
			CHECK(strcmp(e->name, "*") == 0);
			CHECK(endpoints_find(eps, "\x01") == e);
			break;
		default:
			abort();
	}
}

static void check_node(const struct obj_registry *reg, const struct endpoint_write *w,
		const struct lwm2m_node *n)
{
	const struct obj_def *def = obj_registry_find(reg, w->path.ids[0], NULL);
	const struct obj_resource_def *rd;

	CHECK(def);
	CHECK(path_starts_with(&n->path, &w->path));
	CHECK(n->prefix == NULL && !n->has_time);
	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE){
		CHECK(w->nodes.count == 1 && n->path.len == LWM2M_PATH_INSTANCE);
		return;
	}
	rd = obj_def_resource(def, n->path.ids[2]);
	CHECK(rd && rd->type != LWM2M_TYPE_NONE);
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE){
		CHECK(rd->multiple && n->path.len == LWM2M_PATH_RESOURCE);
		return;
	}
	CHECK(n->kind == LWM2M_NODE_VALUE);
	CHECK(n->path.len == (rd->multiple ? LWM2M_PATH_RESOURCE_INSTANCE : LWM2M_PATH_RESOURCE));
	CHECK(n->value.type == rd->type);
	if(rd->type == LWM2M_TYPE_STRING || rd->type == LWM2M_TYPE_OPAQUE
			|| rd->type == LWM2M_TYPE_CORELNK){
		CHECK(n->value.v.bytes.data && n->value.v.bytes.data[n->value.v.bytes.len] == '\0');
	}
}

static void check_write(const struct obj_registry *reg, const struct endpoint_write *w)
{
	struct fmt_typer typer = obj_registry_typer(reg);
	struct lwm2m_buf out;
	struct lwm2m_error err;

	CHECK(w->path.len == LWM2M_PATH_INSTANCE && w->nodes.count >= 1);
	for(size_t i = 0; i < w->nodes.count; i++){
		check_node(reg, w, &w->nodes.items[i]);
		if(i > 0) CHECK(path_compare(&w->nodes.items[i - 1].path, &w->nodes.items[i].path) < 0);
	}
	buf_init(&out, 0);
	CHECK(fmt_encode(LWM2M_CF_SENML_CBOR, &w->nodes, &w->path, &typer, NULL, &out, &err) == 0);
	buf_free(&out);
}

static void check_entry(const struct obj_registry *reg, const struct endpoints *eps,
		const struct endpoint_conf *e)
{
	const struct endpoint_bootstrap *bs = &e->bootstrap;
	const struct endpoint_upstream *up = &e->upstream;

	check_lookup(eps, e);
	if(up->kind == ENDPOINT_CRED_PSK){
		CHECK(up->psk_key && up->psk_key_len >= 1 && up->psk_key_len <= ENDPOINT_PSK_KEY_MAX);
		CHECK(!up->psk_identity || strlen(up->psk_identity) <= ENDPOINT_PSK_IDENTITY_MAX);
	}
	if(up->kind == ENDPOINT_CRED_X509) CHECK(up->cert_file && up->key_file);
	if(up->kind == ENDPOINT_CRED_RPK) CHECK(up->key_file && !up->cert_file);
	if(e->http.url){
		size_t len = strlen(e->http.url);
		CHECK(strncmp(e->http.url, "http", 4) == 0 && e->http.url[len - 1] != '/');
	}
	if(!bs->present){
		CHECK(bs->write_count == 0 && bs->delete_count == 0 && bs->read_count == 0);
		return;
	}
	for(size_t i = 0; i < bs->delete_count; i++) CHECK(bs->deletes[i].len <= LWM2M_PATH_INSTANCE);
	for(size_t i = 0; i < bs->read_count; i++){
		CHECK(bs->reads[i].ids[0] == 1 || bs->reads[i].ids[0] == 2);
	}
	for(size_t i = 0; i < bs->write_count; i++) check_write(reg, &bs->writes[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct obj_registry *reg = model();
	struct lwm2m_error err;
	struct endpoints *eps;

	memset(&err, 0, sizeof(err));
	eps = endpoints_parse((const char *)data, size, NAME, reg, &err);
	if(!eps){
		CHECK(err.code > 0);
		CHECK(strncmp(err.msg, PREFIX, strlen(PREFIX)) == 0);
		CHECK(strchr(err.msg, '\n') == NULL);
		return 0;
	}
	for(size_t i = 0; i < endpoints_count(eps); i++) check_entry(reg, eps, endpoints_at(eps, i));
	CHECK(endpoints_at(eps, endpoints_count(eps)) == NULL);
	endpoints_free(eps);
	return 0;
}
