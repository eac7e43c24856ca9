/* The object tree of one simulated device: /1/0 (Server), /3/0 (Device) and /3303/x
 * (Temperature), with the values a real device would hold, typed by the object model.
 * A device that bootstraps (--bootstrap) starts instead with its Bootstrap-Server account
 * /0/0 and no /1 instance, and also holds /23 (LwM2M COSE) and /24 (MQTT Server): the
 * Bootstrap-Server writes them (tree_bs.c). /0 and /23 are never visible to the LwM2M
 * Server: every operation of the device management interface finds nothing there, and the
 * registration object list leaves them out (spec digest 1.8).
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

#define TREE_OBJ_SECURITY 0
#define TREE_OBJ_SERVER 1
#define TREE_OBJ_DEVICE 3
#define TREE_OBJ_OSCORE 21
#define TREE_OBJ_COSE 23
#define TREE_OBJ_MQTT 24
#define TREE_OBJ_TEMP 3303

/* The object definitions every device shares (built once per process). */
struct tree_model {
	struct obj_registry *reg;
	struct fmt_typer typer;
	const struct obj_def *security, *server, *device, *cose, *mqtt, *temp;
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

#define TREE_N_OBJ 6

struct tree {
	const struct tree_model *model;
	unsigned index;                 /* device number: seeds serial number and sensor phases */
	struct tree_obj obj[TREE_N_OBJ];   /* ascending object ids; def NULL = not on this device */
	uint16_t server_inst;           /* the /1 instance of the account the device registers with */
	uint32_t lifetime_default;      /* what the registration carries while that instance */
	char binding_default[8];        /* lacks its lifetime or binding */
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

/* bs_uri NULL: the factory tree /1/0 (lifetime, binding), /3/0, /3303/0. Else the tree of a
 * device that bootstraps: /0/0 its Bootstrap-Server account (LwM2M Server URI bs_uri), /3/0,
 * /3303/0, and the objects /1, /23, /24 without instances. */
int tree_init(struct tree *t, const struct tree_model *m, unsigned index, uint64_t now_s,
		uint32_t lifetime, const char *binding, const char *bs_uri);
void tree_free(struct tree *t);

/* Move the simulated sensors, battery and clock to wall time now_s. */
void tree_refresh(struct tree *t, uint64_t now_s);

/* Nodes of every readable value at or below p (root not allowed). */
int tree_read(const struct tree *t, const struct lwm2m_path *p, struct lwm2m_nodes *out);
/* Every readable value of the objects the LwM2M Server may see (a composite read of "/"). */
int tree_read_all(const struct tree *t, struct lwm2m_nodes *out);
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

/* The registration object list: </1/0>,</3/0>,</3303/0>,... (never /0, /21, /23). */
int tree_object_list(const struct tree *t, struct lwm2m_buf *out);

/* Current values the registration carries: resources 1 and 7 of /1/<server_inst>. */
uint32_t tree_lifetime(const struct tree *t);
const char *tree_binding(const struct tree *t);

/* ---- the Bootstrap interface (tree_bs.c) ----
 *
 * The Bootstrap-Server account: the /0 instances whose resource 1 (Bootstrap-Server) is
 * true, and the /23 and /24 instances they link (resources 27 and 26). Bootstrap-Delete
 * never removes them, nor the Device object instance. Errors: -LWM2M_EINVAL (4.00) for a
 * target the operation does not allow or content that does not fit the object model,
 * -LWM2M_ETYPE / -LWM2M_ERANGE (4.00) for a wrong value, -LWM2M_ENOENT (4.04). */

/* Bootstrap-Write of nodes decoded for target p (/o, /o/i or /o/i/r): instances that do not
 * exist are created, the resources written replace theirs, the others stay. Resources
 * read-only for the LwM2M Server can be written. All nodes are checked first. */
int tree_bs_write(struct tree *t, const struct lwm2m_path *p, const struct lwm2m_nodes *nodes,
		uint64_t now_s);
/* Bootstrap-Delete of "/", /o or /o/i: instances that do not exist are no error; the
 * Bootstrap-Server account and /3/0 are refused when named, kept otherwise. */
int tree_bs_delete(struct tree *t, const struct lwm2m_path *p);
/* Bootstrap-Read of /1, /1/i, /2 or /2/i. */
int tree_bs_read(const struct tree *t, const struct lwm2m_path *p, struct lwm2m_nodes *out);
/* Bootstrap-Discover of "/" (with lwm2m="version" first) or /o: every instance (or the
 * object alone when it has none); ssid on the instances of a server account (/0 with its
 * resource 10, /1 with its resource 0, /23 and /24 linked from such a /0 instance) and uri
 * on those /0 instances. */
int tree_bs_discover(const struct tree *t, const struct lwm2m_path *p, const char *version,
		struct lwm2m_buf *out);
/* A Bootstrap-Pack (nodes decoded for "/"): the instances of every object it carries are
 * replaced by its own, except those of the Bootstrap-Server account and /3/0. */
int tree_bs_pack(struct tree *t, const struct lwm2m_nodes *nodes, uint64_t now_s);
/* The Bootstrap-Server account instances as links for Bootstrap-Pack-Request ("</0/0>"). */
int tree_bs_account_links(const struct tree *t, struct lwm2m_buf *out);

/* The LwM2M Server account that Bootstrap-Finish commits. */
struct tree_account {
	bool has_security;              /* a /0 instance names it (else: the first /1 instance) */
	uint16_t security_inst;
	uint16_t server_inst;
	uint16_t ssid;
	bool has_cose;                  /* /0/<security_inst>/27 links /23/<cose_inst> */
	uint16_t cose_inst;
};

/* Bootstrap-Finish: find the account the device registers with - the first /0 instance
 * that is not a Bootstrap-Server with the /1 instance of the same Short Server ID (or, with
 * no such /0 instance at all, the first /1 instance) - check it (lifetime, binding, and a
 * linked /23 key that cose_key_from_object23 accepts) and make its /1 instance the one
 * tree_lifetime and tree_binding read. -LWM2M_ENOENT when there is none, -LWM2M_EINVAL when
 * it is inconsistent; err says what. */
int tree_bs_commit(struct tree *t, struct tree_account *acc, struct lwm2m_error *err);

struct cose_key;
/* The COSE key of /23/<inst> (resources 0 KID, 1 algorithm, 2 key). */
int tree_cose_key(const struct tree *t, uint16_t inst, struct cose_key *k, struct lwm2m_error *err);

#endif
