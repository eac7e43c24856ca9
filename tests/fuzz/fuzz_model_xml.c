/* obj_registry_load_xml on arbitrary bytes; what loads is then looked up through the
 * finders and the typer, so every definition the loader accepts is walked. */
#include <stddef.h>
#include <stdint.h>

#include "objects/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct obj_registry *reg, const struct obj_def *d)
{
	struct fmt_typer t = obj_registry_typer(reg);

	(void)obj_registry_find_for(reg, d->id, d->version, d->lwm2m_version);
	(void)obj_registry_find_for(reg, d->id, NULL, d->lwm2m_version);
	for(size_t k = 0; k < d->res_count; k++){
		struct lwm2m_path p = {3, {d->id, 0, d->res[k].id, 0}};
		const struct obj_resource_def *r = obj_def_resource(d, d->res[k].id);

		if(!r || r->id != d->res[k].id || !r->name || !r->units || !r->range_enum) __builtin_trap();
		if(k > 0 && d->res[k - 1].id >= d->res[k].id) __builtin_trap();
		(void)t.type_of(t.ctx, NULL, &p);
		(void)t.is_multiple(t.ctx, NULL, &p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obj_registry *reg = obj_registry_new();
	struct lwm2m_error err;
	size_t before;

	if(!reg) return 0;
	before = obj_registry_count(reg);
	if(obj_registry_load_xml(reg, (const char *)data, size, "fuzz.xml", &err) == 0){
		for(size_t i = 0; i < obj_registry_count(reg); i++) walk(reg, obj_registry_at(reg, i));
	}else if(obj_registry_count(reg) != before){
		__builtin_trap();     /* a rejected document must not leave anything behind */
	}
	obj_registry_free(reg);
	return 0;
}
