#include "types.h"

#include <strings.h>
#include <stddef.h>

static const char *const type_names[] = {
	[LWM2M_TYPE_NONE] = "none",
	[LWM2M_TYPE_STRING] = "string",
	[LWM2M_TYPE_INTEGER] = "integer",
	[LWM2M_TYPE_UNSIGNED] = "unsigned",
	[LWM2M_TYPE_FLOAT] = "float",
	[LWM2M_TYPE_BOOLEAN] = "boolean",
	[LWM2M_TYPE_OPAQUE] = "opaque",
	[LWM2M_TYPE_TIME] = "time",
	[LWM2M_TYPE_OBJLNK] = "objlnk",
	[LWM2M_TYPE_CORELNK] = "corelnk",
};

const char *lwm2m_type_name(enum lwm2m_type t)
{
	if((unsigned)t >= sizeof(type_names) / sizeof(type_names[0])) return NULL;
	return type_names[t];
}

enum lwm2m_type lwm2m_type_from_name(const char *name)
{
	static const struct { const char *name; enum lwm2m_type type; } aliases[] = {
		{"unsigned integer", LWM2M_TYPE_UNSIGNED},
		{"boolean", LWM2M_TYPE_BOOLEAN},
		{"objlnk", LWM2M_TYPE_OBJLNK},
		{"corelnk", LWM2M_TYPE_CORELNK},
	};
	if(!name) return LWM2M_TYPE_NONE;
	for(size_t i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++){
		if(!strcasecmp(name, type_names[i])) return (enum lwm2m_type)i;
	}
	for(size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++){
		if(!strcasecmp(name, aliases[i].name)) return aliases[i].type;
	}
	return LWM2M_TYPE_NONE;
}
