/* The LwM2M object model: object definitions (the built-in core objects plus OMA object
 * definition XML files) and typers that answer "what type has this resource?" for the
 * data formats.
 *
 * A registry keeps every version it is given: loading 3303 v1.0 and v1.1 keeps both.
 * A definition loaded later with the same object ID and version replaces the earlier one
 * (a file replaces a built-in too). Definitions are owned by the registry; pointers
 * returned by the find functions stay valid until the registry is freed or a later load
 * replaces that (id, version). */
#ifndef OBJ_MODEL_H
#define OBJ_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "fmt.h"
#include "path.h"
#include "types.h"
#include "../util/lwm2m_err.h"

/* Resource operations (bit set). Security, OSCORE and COSE resources have none: only the
 * bootstrap server touches them. */
#define OBJ_OP_R 1u
#define OBJ_OP_W 2u
#define OBJ_OP_E 4u

struct obj_resource_def {
	uint16_t id;
	char *name;
	enum lwm2m_type type;      /* LWM2M_TYPE_NONE for Execute-only resources */
	bool multiple;
	bool mandatory;
	uint8_t operations;        /* OBJ_OP_* bits */
	char *range_enum;          /* "" when none */
	char *units;               /* "" when none */
};

struct obj_def {
	uint16_t id;
	char *name;
	char *version;             /* ObjectVersion, "1.0" when the file has none */
	char *lwm2m_version;       /* LWM2MVersion, "1.0" when the file has none */
	char *urn;                 /* ObjectURN, "" when none */
	bool multiple;
	bool mandatory;
	bool builtin;              /* from the built-in tables (not replaced by a file) */
	struct obj_resource_def *res;   /* sorted by id */
	size_t res_count;
};

struct obj_registry;

/* A new registry holding the built-in core objects (NULL on allocation failure). */
struct obj_registry *obj_registry_new(void);
void obj_registry_free(struct obj_registry *reg);

/* Number of definitions (every kept version counts). */
size_t obj_registry_count(const struct obj_registry *reg);
/* The i-th definition in (id, version) order, for listing; NULL past the end. */
const struct obj_def *obj_registry_at(const struct obj_registry *reg, size_t i);

/* Load the object definitions of one XML document (one or more <Object> elements). The
 * whole document is rejected when any part of it is wrong: err->msg then reads
 * "<name_for_errors>:<line>: <what>" and err->offset is the byte offset. */
int obj_registry_load_xml(struct obj_registry *reg, const char *buf, size_t len,
		const char *name_for_errors, struct lwm2m_error *err);
/* Same for a file (errors name the file's base name). */
int obj_registry_load_file(struct obj_registry *reg, const char *path, struct lwm2m_error *err);

enum obj_load_event {
	OBJ_LOAD_FAILED = 0,       /* the file was not loaded; line = where (0 when unknown) */
	OBJ_LOAD_REPLACED,         /* the file replaced an earlier definition of the same id+version */
};
/* file = the name inside the directory; msg = one line without the file and line. */
typedef void (*obj_load_report_fn)(void *ctx, enum obj_load_event ev, const char *file,
		unsigned long line, const char *msg);

/* Load every *.xml file of `dir`, in name order. A file that fails is reported and does
 * not stop the others. loaded/failed (may be NULL) count files. Returns 0, or a negative
 * code when the directory cannot be read. */
int obj_registry_load_dir(struct obj_registry *reg, const char *dir, obj_load_report_fn report,
		void *ctx, size_t *loaded, size_t *failed);

/* Exact lookup of (id, version); version NULL = the preferred definition: the version
 * LwM2M 1.2 implies for a core object when the registry has it, otherwise the most
 * recent version. NULL when absent. */
const struct obj_def *obj_registry_find(const struct obj_registry *reg, uint16_t id,
		const char *version);

/* The definition to use for an object a client registered. `ver` is the link's ver=
 * (NULL when absent), `lwm2m_version` the registration's lwm2m= ("1.0", "1.1", "1.2";
 * NULL = 1.2).
 * - ver given: that version, else the most recent one with the same major number, else NULL.
 * - ver absent: the version the LwM2M version implies (Core TS Tbl E-1 for core objects,
 *   1.0 for the others), else the most recent with that major number, else the preferred. */
const struct obj_def *obj_registry_find_for(const struct obj_registry *reg, uint16_t id,
		const char *ver, const char *lwm2m_version);

/* The object version an LwM2M enabler version implies for a core object ("1.0" for every
 * other object). lwm2m_version NULL or unknown = the newest known (1.2). */
const char *obj_implied_version(uint16_t id, const char *lwm2m_version);

/* Resource `rid` of `def` (binary search); NULL when absent or def is NULL. */
const struct obj_resource_def *obj_def_resource(const struct obj_def *def, uint16_t rid);

/* Compare "major.minor" versions numerically (<0, 0, >0); non-numeric parts compare as text. */
int obj_version_compare(const char *a, const char *b);

/* A typer over the registry's preferred definitions (the gateway prefix is ignored).
 * The registry must outlive the typer. */
struct fmt_typer obj_registry_typer(const struct obj_registry *reg);

/* A typer with per-path hints: a hint on a path covers that path and everything below it
 * (the longest matching hint wins). Lookup order: hints, then definitions chosen with
 * obj_hint_typer_use_def, then the registry's preferred definitions (reg may be NULL),
 * then the default type (LWM2M_TYPE_NONE unless set). */
struct obj_hint {
	struct lwm2m_path path;
	enum lwm2m_type type;
};

struct obj_def_choice {
	char *prefix;              /* owned; NULL = objects of the device itself */
	const struct obj_def *def;
};

struct obj_hint_typer {
	const struct obj_registry *reg;
	struct obj_hint *hints;
	size_t hint_count, hint_cap;
	struct obj_def_choice *defs;
	size_t def_count, def_cap;
	enum lwm2m_type fallback;
};

void obj_hint_typer_init(struct obj_hint_typer *ht, const struct obj_registry *reg);
void obj_hint_typer_free(struct obj_hint_typer *ht);     /* accepts NULL */
/* Add (or replace) the hint for `path`. */
int obj_hint_typer_add(struct obj_hint_typer *ht, const struct lwm2m_path *path,
		enum lwm2m_type type);
/* Type used when nothing else knows the path. */
void obj_hint_typer_set_default(struct obj_hint_typer *ht, enum lwm2m_type type);
/* Use `def` (e.g. from obj_registry_find_for) for its object id on nodes with `prefix`
 * (NULL = no prefix) instead of the registry's preferred version. `def` is borrowed. */
int obj_hint_typer_use_def(struct obj_hint_typer *ht, const char *prefix,
		const struct obj_def *def);
/* The typer; valid while `ht` lives and is not changed. */
struct fmt_typer obj_hint_typer_get(struct obj_hint_typer *ht);

/* --- For the model's own files (model*.c) and tests. --- */

/* Free a definition and everything it owns; accepts NULL. */
void obj_def_free(struct obj_def *def);
/* Add `def` (taken over on success; its resources must be sorted and unique). A definition
 * with the same id and version is replaced and freed; *replaced (may be NULL) says so. */
int obj_registry_add(struct obj_registry *reg, struct obj_def *def, bool *replaced);
/* Add the built-in definitions (model_builtin.c). */
int obj_builtin_load(struct obj_registry *reg);
/* How many built-in definitions there are. */
size_t obj_builtin_count(void);

#endif
