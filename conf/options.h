/* The plugin's options (plugin_opt_* lines of mosquitto.conf): parsing and validation.
 * Pure: no I/O beyond what a caller asks for, no logging; every problem is reported in
 * struct lwm2m_error so the plugin can print one line naming the option. */
#ifndef CONF_OPTIONS_H
#define CONF_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../util/lwm2m_err.h"

enum conf_identity {
	CONF_IDENTITY_USERNAME = 0,   /* endpoint = the client's authenticated MQTT username */
	CONF_IDENTITY_CLIENTID,       /* endpoint = the MQTT client identifier */
	CONF_IDENTITY_CERT_CN,        /* endpoint = CN of the TLS client certificate */
	CONF_IDENTITY_ANY,            /* development only: any client may use any endpoint */
};

/* What the plugin answers for topics that are not LwM2M topics. */
enum conf_other_topics {
	CONF_OTHER_AUTO = 0,   /* defer when the broker has another ACL source, else allow */
	CONF_OTHER_DEFER,      /* always defer to the broker's other ACL sources */
	CONF_OTHER_ALLOW,      /* always allow (the plugin is the only ACL source) */
};

#define CONF_MAX_PREFIXES 64
#define CONF_DEFAULT_HTTP_LISTEN "127.0.0.1:8080"

struct conf_addr {
	bool set;
	bool is_unix;
	char host[256];       /* or the unix socket path */
	uint16_t port;
};

/* The upstream CoAP LwM2M server (plugin_opt_coap_server). */
struct conf_coap_server {
	bool set;
	bool secure;          /* coaps:// (DTLS) */
	char host[256];
	uint16_t port;        /* default 5683, 5684 for coaps */
};

struct lwm2m_config {
	enum conf_identity identity;
	enum conf_other_topics other_topics;
	char *prefixes[CONF_MAX_PREFIXES];   /* owned; allowed topic prefixes */
	size_t n_prefixes;
	bool allow_no_prefix;                /* plain "lwm2m/..." topics */
	struct conf_addr doorbell;
	uint32_t request_timeout_s;
	uint32_t queue_awake_window_s;
	uint32_t queue_max_length;           /* queued requests per device */
	uint32_t queue_max_age_s;            /* a queued request older than this expires */
	uint32_t send_retention_s;           /* stored Send data older than this is forgotten */
	uint32_t max_payload;                /* bytes of one MQTT payload */
	uint32_t lifetime_grace_s;           /* extra time before a registration expires */
	uint32_t min_lifetime_s;
	uint32_t max_lifetime_s;
	uint32_t inbox_size;                 /* messages waiting for the core thread */
	uint32_t outbox_size;                /* messages waiting for the broker thread */
	uint32_t max_registrations;
	uint32_t register_rate;              /* Register/Update per endpoint per minute, 0 = unlimited */
	char *http_listen;                   /* owned; REST/events listener "addr:port"; NULL = off */
	bool http_off;                       /* "plugin_opt_http_listen off" was given */
	bool http_listen_default;            /* http_listen was not given: the default applies */
	char *api_token;                     /* owned; bearer token for /api, NULL = none */
	char *cors_origins;                  /* owned; comma list of allowed origins, NULL = none */
	char *tls_cert;                      /* owned; PEM file: HTTPS for the REST API, NULL = HTTP */
	char *tls_key;                       /* owned; PEM file of tls_cert's private key */
	char *tls_ca;                        /* owned; PEM trust anchors: HTTP binding devices need client certificates */
	char *http_binding_listen;           /* owned; device-facing HTTP binding listener, NULL = off */
	char *objects_dir;                   /* owned; extra OMA object XML files, NULL = none */
	char *state_db;                      /* owned; SQLite file for durable state, NULL = none */
	char *endpoints_file;                /* owned; per-endpoint settings (JSON), NULL = none */
	struct conf_coap_server coap_server; /* the CoAP forwarder's server; !set = off */
	uint32_t coap_max_inflight;          /* upstream Register/Update/De-register in flight at once */
	uint32_t coap_sessions_per_context;  /* device sessions per libcoap context (shard) */
	bool coap_deregister_on_shutdown;    /* plugin_opt_coap_shutdown deregister (default) / keep */
	char *log_level_str;                 /* owned or NULL */
	bool debug;                          /* log every message received/sent */
};

struct conf_kv {
	const char *key;      /* without the "plugin_opt_" prefix */
	const char *value;
};

/* Defaults for every option (allocation-free; conf_parse fills the default listener). */
void conf_defaults(struct lwm2m_config *c);
/* Parse all options; the first problem stops parsing and is described in err
 * ("plugin_opt_identity: 'user' is not one of username, clientid, cert-cn, any"). */
int conf_parse(struct lwm2m_config *c, const struct conf_kv *kv, size_t n, struct lwm2m_error *err);
void conf_free(struct lwm2m_config *c);

/* True for 127.0.0.0/8, ::1 and "localhost". */
bool conf_addr_is_loopback(const char *host);

/* Parse "coap://host[:port]" / "coaps://host[:port]" (host may be [v6]). */
int conf_parse_coap_uri(const char *s, struct conf_coap_server *out, struct lwm2m_error *err);

/* Parse "unix:/path", "host:port", "[v6]:port". */
int conf_parse_addr(const char *s, struct conf_addr *out, struct lwm2m_error *err);

const char *conf_identity_name(enum conf_identity id);

/* Describes every option for `--help`-style listings and the README table check:
 * name, type, default, meaning. Terminated by a NULL name. */
struct conf_option_doc {
	const char *name;
	const char *type;
	const char *def;
	const char *meaning;
};
extern const struct conf_option_doc conf_option_docs[];

#endif
