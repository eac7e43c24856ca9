/* LwM2M data types (Core TS appendix C). */
#ifndef OBJ_TYPES_H
#define OBJ_TYPES_H

enum lwm2m_type {
	LWM2M_TYPE_NONE = 0,      /* no value / unknown */
	LWM2M_TYPE_STRING,
	LWM2M_TYPE_INTEGER,
	LWM2M_TYPE_UNSIGNED,
	LWM2M_TYPE_FLOAT,
	LWM2M_TYPE_BOOLEAN,
	LWM2M_TYPE_OPAQUE,
	LWM2M_TYPE_TIME,
	LWM2M_TYPE_OBJLNK,
	LWM2M_TYPE_CORELNK,
};

/* "string", "integer", ... as in the vectors' node model; NULL for out-of-range. */
const char *lwm2m_type_name(enum lwm2m_type t);
/* Inverse of lwm2m_type_name (also accepts the OMA XML spellings "Integer", "Unsigned Integer",
 * "Objlnk", "Corelnk" ...); LWM2M_TYPE_NONE when unknown. */
enum lwm2m_type lwm2m_type_from_name(const char *name);

#endif
