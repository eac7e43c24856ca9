/* The typer of the SenML and OMA JSON fuzz targets: object 3442 has every type, picked by
 * the resource id (r % 10; odd resources are multi-instance); elsewhere nothing is typed. */
#ifndef FUZZ_TYPER_H
#define FUZZ_TYPER_H

#include "objects/fmt.h"

static inline enum lwm2m_type fuzz_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	static const enum lwm2m_type types[] = {
		LWM2M_TYPE_STRING, LWM2M_TYPE_INTEGER, LWM2M_TYPE_UNSIGNED, LWM2M_TYPE_FLOAT,
		LWM2M_TYPE_BOOLEAN, LWM2M_TYPE_OPAQUE, LWM2M_TYPE_TIME, LWM2M_TYPE_OBJLNK,
		LWM2M_TYPE_CORELNK, LWM2M_TYPE_NONE,
	};
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 3442) return LWM2M_TYPE_NONE;
	return types[p->ids[2] % 10];
}

static inline int fuzz_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->len >= 3 ? (p->ids[2] & 1) : -1;
}

static const struct fmt_typer fuzz_typer = { fuzz_type_of, fuzz_is_multiple, NULL };

#endif
