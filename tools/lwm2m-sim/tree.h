/* The object tree of one simulated device: /1/0 (Server), /3/0 (Device) and /3303/x
 * (Temperature), with the values a real device would hold, typed by the object model.
 *
 * Every function returns 0 or a negative -LWM2M_E* code that the message layer maps to
 * an LwM2M result: ENOENT -> 404, ENOTSUP -> 405 (operation not allowed on that target),
 * EINVAL/ETYPE/ERANGE/EEXIST -> 400, ENOMEM -> 500. */
#ifndef SIM_TREE_H
#define SIM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objects/attributes.h"
#include "objects/fmt.h"
#include "objects/model.h"
#include "objects/node.h"
#include "objects/path.h"
#include "util/buf.h"

#define TREE_OBJ_SERVER 1
#define TREE_OBJ_DEVICE 3
#define TREE_OBJ_TEMP 3303

/* The object definitions every device shares (built once per process). */
struct tree_model {
	struct obj_registry *reg;
	struct fmt_typer typer;
	const struct obj_def *server, *device, *temp;
};

int tree_model_init(struct tree_model *m, struct lwm2m_error *err);
void tree_model_free(struct tree_model *m);

struct tree_ri {
	uint16_t id;
	struct lwm2m_value v;
};

struct tree_res {
	const struct obj_resource_def *def;
	struct lwm2m_value v;           /* single resources */
	struct tree_ri *ri;             /* multiple resources, sorted by id */
	size_t n_ri;
};

struct tree_inst {
	uint16_t id;
	struct tree_res *res;           /* sorted by resource id */
	size_t n_res;
};

struct tree_obj {
	const struct obj_def *def;
	struct tree_inst *inst;         /* sorted by instance id */
	size_t n_inst;
};

struct tree_attr {
	struct lwm2m_path path;
	struct lwm2m_attrs attrs;
};

#define TREE_N_OBJ 3

struct tree {
	const struct tree_model *model;
	unsigned index;                 /* device number: seeds serial number and sensor phases */
	struct tree_obj obj[TREE_N_OBJ];
	struct tree_attr *attrs;        /* Write-Attributes, one entry per path */
	size_t n_attrs;
	int64_t time_offset;            /* Current Time written by the server minus the real clock */
	uint64_t start_s;               /* wall clock at creation: the battery drains from there */
};

/* What an Execute asks the device to do beyond answering. */
enum tree_action {
	TREE_ACT_NONE = 0,
	TREE_ACT_UPDATE,                /* /1/0/8 Registration Update Trigger */
	TREE_ACT_REBOOT,                /* /3/0/4 Reboot */
};

/* What a write changed that the registration must hear about. */
struct tree_changes {
	bool lifetime;                  /* /1/0/1 */
	bool binding;                   /* /1/0/7 */
	bool objects;                   /* instances created or deleted */
};

int tree_init(struct tree *t, const struct tree_model *m, unsigned index, uint64_t now_s,
		uint32_t lifetime, const char *binding);
void tree_free(struct tree *t);

/* Move the simulated sensors, battery and clock to wall time now_s. */
void tree_refresh(struct tree *t, uint64_t now_s);

/* Nodes of every readable value at or below p (root not allowed). */
int tree_read(const struct tree *t, const struct lwm2m_path *p, struct lwm2m_nodes *out);
/* Whether p names something that exists. */
bool tree_exists(const struct tree *t, const struct lwm2m_path *p);

/* Write (replace = Write-Replace, else Partial Update) nodes decoded for target p. All
 * nodes are checked before any is applied. */
int tree_write(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		bool replace, struct tree_changes *ch);
/* Write-Composite: every node replaces its resource or resource instance. */
int tree_write_composite(struct tree *t, const struct lwm2m_nodes *nodes,
		struct tree_changes *ch);
/* Create instances of object p from nodes (instance 65535 or no node = next free id).
 * *first_id receives the (first) new instance id. */
int tree_create(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		uint64_t now_s, uint16_t *first_id, struct tree_changes *ch);
int tree_delete(struct tree *t, const struct lwm2m_path *p, struct tree_changes *ch);
int tree_execute(struct tree *t, const struct lwm2m_path *p, enum tree_action *act);

/* Merge a Write-Attributes request into the attributes attached to p. */
int tree_write_attrs(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_attrs *a,
		struct lwm2m_error *err);
/* Attributes in effect for an observation of p: each one from the deepest level of p
 * (object, instance, resource, resource instance) that sets it. */
void tree_effective_attrs(const struct tree *t, const struct lwm2m_path *p,
		struct lwm2m_attrs *out);

/* Discover: link-format of p and `depth` levels below it (depth < 0 = the default: 2 for
 * an object, 1 otherwise). */
int tree_discover(const struct tree *t, const struct lwm2m_path *p, int depth,
		struct lwm2m_buf *out);

/* The registration object list: </1/0>,</3/0>,</3303/0>,... */
int tree_object_list(const struct tree *t, struct lwm2m_buf *out);

/* Current values the registration carries. */
uint32_t tree_lifetime(const struct tree *t);
const char *tree_binding(const struct tree *t);

#endif
