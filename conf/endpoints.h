/* The per-endpoint settings file (plugin_opt_endpoints_file; schema and examples in
 * docs/endpoints-file.md): one JSON document that tells the CoAP forwarder which DTLS
 * credentials to use toward the upstream server, the HTTP binding where a device's HTTP
 * server is, and the Bootstrap-Server what to provision.
 *
 * Everything is checked at load: unknown keys, paths, objects and resources, value types
 * and ranges (from the object model), credential files. The first problem fails the whole
 * load, and err->msg names the file, the entry and the place:
 *   endpoints file /etc/x.json: entry "dev-1": bootstrap.write "/0/1" resource 1: expected a boolean
 *
 * A loaded set is immutable and holds no pointer into the model: readers on any thread may
 * share it; a reload builds a new set and swaps it. Pure apart from reading the file and
 * checking that the credential files named in it are readable regular files. */
#ifndef CONF_ENDPOINTS_H
#define CONF_ENDPOINTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../objects/model.h"
#include "../objects/node.h"
#include "../objects/path.h"
#include "../util/lwm2m_err.h"

#define ENDPOINTS_FILE_MAX (16u * 1024u * 1024u)   /* bytes of one endpoints file */
#define ENDPOINT_NAME_MAX 255u                     /* bytes of an entry name */
#define ENDPOINT_PSK_IDENTITY_MAX 64u              /* the CoAP DTLS stack's limits */
#define ENDPOINT_PSK_KEY_MAX 64u

/* How an entry's name matches endpoint names. */
enum endpoint_match {
	ENDPOINT_MATCH_EXACT = 0,     /* "dev-1": that endpoint only */
	ENDPOINT_MATCH_PREFIX,        /* "sensor-*": every name starting with "sensor-" */
	ENDPOINT_MATCH_DEFAULT,       /* "*": every endpoint nothing else matches */
};

/* Credentials toward the upstream CoAP server. */
enum endpoint_cred {
	ENDPOINT_CRED_NONE = 0,       /* no "upstream" section: NoSec */
	ENDPOINT_CRED_PSK,
	ENDPOINT_CRED_X509,
	ENDPOINT_CRED_RPK,
};

struct endpoint_upstream {
	enum endpoint_cred kind;
	char *psk_identity;           /* PSK; NULL = the endpoint's name (endpoint_psk_identity) */
	uint8_t *psk_key;             /* PSK: 1..ENDPOINT_PSK_KEY_MAX bytes */
	size_t psk_key_len;
	char *cert_file;              /* X509: PEM certificate (chain); absolute path */
	char *key_file;               /* X509 and RPK: PEM private key; absolute path */
	char *ca_file;                /* X509: PEM trust anchors for the server; NULL = not given */
};

struct endpoint_http {
	char *url;                    /* the device's base URL ("http[s]://host[:port][/path]",
	                                 no trailing '/'); NULL = no "http" section */
	char *identity;               /* TLS identity the device must show; NULL = not given */
};

/* One Bootstrap-Write: an object instance and its resources. */
struct endpoint_write {
	struct lwm2m_path path;       /* /o/i */
	struct lwm2m_nodes nodes;     /* sorted leaves under path, typed by the model; an instance
	                                 without resources is one LWM2M_NODE_EMPTY_INSTANCE node,
	                                 a multi-instance resource without instances one
	                                 LWM2M_NODE_EMPTY_MULTIPLE node */
};

/* What the Bootstrap-Server does for the endpoint, in this order: Discover (when asked),
 * Read each of reads, Delete each of deletes, Write each of writes, Finish. */
struct endpoint_bootstrap {
	bool present;                 /* the entry has a "bootstrap" section */
	bool discover;
	struct lwm2m_path *reads;     /* /1, /1/i, /2 or /2/i */
	size_t read_count;
	struct lwm2m_path *deletes;   /* /, /o or /o/i */
	size_t delete_count;
	struct endpoint_write *writes;   /* in the file's order */
	size_t write_count;
	int format;                   /* content format for the writes (TLV, SenML JSON/CBOR,
	                                 LwM2M CBOR); -1 = not given */
};

struct endpoint_conf {
	char *name;                   /* the entry's key as written: "dev-1", "sensor-*", "*" */
	enum endpoint_match match;
	struct endpoint_upstream upstream;
	struct endpoint_http http;
	struct endpoint_bootstrap bootstrap;
};

struct endpoints;

/* Parse and check one document. `name_for_errors` names it in messages ("endpoints file
 * <name>: ..."). Typing uses the model's preferred definition of each object. NULL on
 * failure, with err filled (for JSON syntax errors err->offset = the bytes read up to and
 * including the offending token). */
struct endpoints *endpoints_parse(const char *json, size_t len, const char *name_for_errors,
		const struct obj_registry *model, struct lwm2m_error *err);

/* Same for a file (at most ENDPOINTS_FILE_MAX bytes); messages name `path` as given. */
struct endpoints *endpoints_load_file(const char *path, const struct obj_registry *model,
		struct lwm2m_error *err);

void endpoints_free(struct endpoints *eps);      /* accepts NULL */

/* The entry for an endpoint name: the exact entry, else the longest matching prefix
 * pattern, else "*", else NULL (also when eps is NULL). Entries are never merged. */
const struct endpoint_conf *endpoints_find(const struct endpoints *eps, const char *endpoint);

/* Entries in the file's order, for listing. */
size_t endpoints_count(const struct endpoints *eps);
const struct endpoint_conf *endpoints_at(const struct endpoints *eps, size_t i);

/* The PSK identity to present for `endpoint`: the configured one, else the endpoint name. */
const char *endpoint_psk_identity(const struct endpoint_conf *conf, const char *endpoint);

#endif
