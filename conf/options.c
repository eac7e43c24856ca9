#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct conf_option_doc conf_option_docs[] = {
	{"identity", "enum", "username",
		"How a client's endpoint name is bound to its MQTT identity: username, clientid, cert-cn, any (development only: no binding)"},
	{"prefixes", "list", "(none)",
		"Comma-separated topic prefixes (one topic level each) allowed before lwm2m/; '-' alone in the list also allows topics without prefix"},
	{"other_topics", "enum", "auto",
		"ACL answer for non-LwM2M topics: auto (defer if the broker has acl_file or another plugin, else allow), defer, allow"},
	{"doorbell", "address", "(unset: TICK only)",
		"A listener of this broker (host:port or unix:/path) the plugin's core thread connects to, so replies go out at once instead of at the next 100 ms tick"},
	{"request_timeout", "seconds", "30", "How long a request to a device waits for its answer before it fails (1..3600)"},
	{"queue_awake_window", "seconds", "93",
		"How long a queue-mode device (binding with Q) counts as awake after it sent anything (1..86400)"},
	{"queue_max_length", "requests", "100", "Requests queued per sleeping or offline device; more are refused (1..100000)"},
	{"queue_max_age", "seconds", "86400", "A queued request not delivered within this time expires (1..31536000)"},
	{"send_retention", "seconds", "604800", "How long stored Send data stays readable at /api/send (60..31536000)"},
	{"max_payload", "bytes", "65536", "Largest LwM2M MQTT message (the whole CBOR map) accepted; larger gets 413 (64..16777216)"},
	{"lifetime_grace", "seconds", "15", "Extra time a registration lives after its lifetime ends, before it expires (0..3600)"},
	{"min_lifetime", "seconds", "1", "Smallest lifetime accepted in Register/Update; smaller gets 400"},
	{"max_lifetime", "seconds", "0 (no limit)", "Largest lifetime accepted in Register/Update; larger gets 400"},
	{"inbox_size", "messages", "16384", "Device messages queued for the core thread; beyond it requests get 503"},
	{"outbox_size", "messages", "65536", "Messages queued for the broker thread; beyond it they are dropped and counted"},
	{"max_registrations", "count", "1000000", "Registrations kept at once; a Register beyond it gets 503"},
	{"register_rate", "per minute", "60", "Register + Update messages accepted per endpoint per minute; beyond it 503 (0 = no limit)"},
	{"http_listen", "address", "127.0.0.1:8080",
		"REST API and event stream listener (host:port, [v6]:port), or off"},
	{"api_token", "string", "(none)",
		"Bearer token required on every /api request; required when http_listen is not a loopback address"},
	{"cors_origins", "list", "(none)",
		"Comma-separated browser origins allowed to call the REST API (CORS), or *"},
	{"tls_cert", "file", "(none: plain HTTP)",
		"PEM certificate (chain) for HTTPS on the REST API listener; needs tls_key"},
	{"tls_key", "file", "(none)", "PEM private key of tls_cert"},
	{"tls_ca", "file", "(none)",
		"PEM trust anchors: with it, devices on the HTTP binding listener must present a client certificate signed by them, whose CN is their endpoint name"},
	{"http_binding_listen", "address", "(none: off)",
		"Device-facing LwM2M HTTP binding listener (host:port): /rd, /dp; HTTPS with tls_cert and tls_key"},
	{"objects_dir", "directory", "(none)",
		"Folder of OMA LwM2M object definition files (*.xml) loaded beside the built-in core objects"},
	{"state_db", "file", "(none: state is lost at restart)",
		"SQLite file (created if missing; writable by the broker's user) where registrations survive broker restarts"},
	{"endpoints_file", "file", "(none)",
		"JSON file of per-endpoint settings: upstream DTLS credentials, HTTP device base URL, bootstrap data (docs/endpoints-file.md)"},
	{"coap_server", "URI", "(none: no forwarding)",
		"The CoAP LwM2M server every device is registered at, coap://host[:port] or coaps://host[:port] (DTLS; credentials per endpoint in endpoints_file)"},
	{"coap_max_inflight", "count", "64",
		"Upstream Register/Update/De-register requests in flight at once, so a restart with many devices does not flood the server (1..10000)"},
	{"coap_sessions_per_context", "count", "100",
		"Device sessions per libcoap context: libcoap walks every session of a context on each event, so devices are spread over several contexts of at most this many (1..100000)"},
	{"coap_shutdown", "enum", "deregister",
		"What a clean broker shutdown does at the upstream server: deregister (every device, waiting at most 2 s) or keep (the registrations expire there by themselves)"},
	{"debug", "bool", "false", "Log one line per LwM2M message received and sent"},
	{NULL, NULL, NULL, NULL}
};

/* Options whose names are reserved by the design for capabilities this version does not
 * have yet: refusing them beats silently ignoring an operator's setting. */
static const char *const reserved_options[] = {
	NULL
};

void conf_defaults(struct lwm2m_config *c)
{
	memset(c, 0, sizeof(*c));
	c->identity = CONF_IDENTITY_USERNAME;
	c->other_topics = CONF_OTHER_AUTO;
	c->allow_no_prefix = true;
	c->request_timeout_s = 30;
	c->queue_awake_window_s = 93;
	c->queue_max_length = 100;
	c->queue_max_age_s = 86400;
	c->send_retention_s = 604800;
	c->max_payload = 65536;
	c->lifetime_grace_s = 15;
	c->min_lifetime_s = 1;
	c->max_lifetime_s = 0;
	c->inbox_size = 16384;
	c->outbox_size = 65536;
	c->max_registrations = 1000000;
	c->register_rate = 60;
	c->coap_max_inflight = 64;
	c->coap_sessions_per_context = 100;
	c->coap_deregister_on_shutdown = true;
}

void conf_free(struct lwm2m_config *c)
{
	if(!c) return;
	for(size_t i = 0; i < c->n_prefixes; i++) free(c->prefixes[i]);
	c->n_prefixes = 0;
	free(c->log_level_str);
	c->log_level_str = NULL;
	free(c->http_listen);
	c->http_listen = NULL;
	free(c->api_token);
	c->api_token = NULL;
	free(c->cors_origins);
	c->cors_origins = NULL;
	free(c->objects_dir);
	c->objects_dir = NULL;
	free(c->tls_cert);
	c->tls_cert = NULL;
	free(c->tls_key);
	c->tls_key = NULL;
	free(c->state_db);
	c->state_db = NULL;
	free(c->endpoints_file);
	c->endpoints_file = NULL;
	free(c->tls_ca);
	c->tls_ca = NULL;
	free(c->http_binding_listen);
	c->http_binding_listen = NULL;
}

const char *conf_identity_name(enum conf_identity id)
{
	switch(id){
		case CONF_IDENTITY_USERNAME: return "username";
		case CONF_IDENTITY_CLIENTID: return "clientid";
		case CONF_IDENTITY_CERT_CN: return "cert-cn";
		case CONF_IDENTITY_ANY: return "any";
	}
	return "?";
}

static int parse_u32(const char *key, const char *v, uint32_t min, uint32_t max, uint32_t *out,
		struct lwm2m_error *err)
{
	char *end;
	unsigned long long n;

	if(!v || !*v || *v == '-' || *v == '+'){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: '%s' is not a number", key, v ? v : "");
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if(errno || *end != '\0'){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: '%s' is not a number", key, v);
	}
	if(n < min || n > max){
		return lwm2m_fail(err, LWM2M_ERANGE, -1, "plugin_opt_%s: %llu is outside %u..%u", key, n, min, max);
	}
	*out = (uint32_t)n;
	return 0;
}

static int parse_bool(const char *key, const char *v, bool *out, struct lwm2m_error *err)
{
	if(!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")){
		*out = true;
	}else if(!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off")){
		*out = false;
	}else{
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: '%s' is not true or false", key, v);
	}
	return 0;
}

static int parse_identity(const char *v, enum conf_identity *out, struct lwm2m_error *err)
{
	static const enum conf_identity all[] = {
		CONF_IDENTITY_USERNAME, CONF_IDENTITY_CLIENTID, CONF_IDENTITY_CERT_CN, CONF_IDENTITY_ANY
	};
	for(size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++){
		if(!strcmp(v, conf_identity_name(all[i]))){
			*out = all[i];
			return 0;
		}
	}
	return lwm2m_fail(err, LWM2M_EINVAL, -1,
			"plugin_opt_identity: '%s' is not one of username, clientid, cert-cn, any", v);
}

static int parse_other_topics(const char *v, enum conf_other_topics *out, struct lwm2m_error *err)
{
	if(!strcmp(v, "auto")) *out = CONF_OTHER_AUTO;
	else if(!strcmp(v, "defer")) *out = CONF_OTHER_DEFER;
	else if(!strcmp(v, "allow")) *out = CONF_OTHER_ALLOW;
	else return lwm2m_fail(err, LWM2M_EINVAL, -1,
			"plugin_opt_other_topics: '%s' is not one of auto, defer, allow", v);
	return 0;
}

static bool prefix_valid(const char *p, size_t len)
{
	if(len == 0 || len > 128) return false;
	for(size_t i = 0; i < len; i++){
		unsigned char ch = (unsigned char)p[i];
		if(ch == '/' || ch == '+' || ch == '#' || ch < 0x20 || ch == 0x7f) return false;
	}
	return p[0] != '$';
}

static int parse_prefixes(struct lwm2m_config *c, const char *v, struct lwm2m_error *err)
{
	const char *p = v;

	c->allow_no_prefix = false;
	while(*p){
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		while(len && (*p == ' ' || *p == '\t')){ p++; len--; }
		while(len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;

		if(len == 1 && p[0] == '-'){
			c->allow_no_prefix = true;
		}else if(!prefix_valid(p, len)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1,
					"plugin_opt_prefixes: '%.*s' is not a valid topic level (empty, '/', '+', '#', '$' or control characters)",
					(int)len, p);
		}else if(c->n_prefixes >= CONF_MAX_PREFIXES){
			return lwm2m_fail(err, LWM2M_ETOOBIG, -1, "plugin_opt_prefixes: more than %d prefixes",
					CONF_MAX_PREFIXES);
		}else{
			char *copy = strndup(p, len);
			if(!copy) return -LWM2M_ENOMEM;
			c->prefixes[c->n_prefixes++] = copy;
		}
		if(!comma) break;
		p = comma + 1;
	}
	if(c->n_prefixes == 0 && !c->allow_no_prefix){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_prefixes: empty list");
	}
	return 0;
}

int conf_parse_addr(const char *s, struct conf_addr *out, struct lwm2m_error *err)
{
	const char *colon;
	size_t hlen;
	uint32_t port;
	int rc;

	memset(out, 0, sizeof(*out));
	if(!strncmp(s, "unix:", 5)){
		if(s[5] != '/' || strlen(s + 5) >= 108){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': a unix socket needs an absolute path under 108 bytes", s);
		}
		out->is_unix = true;
		strcpy(out->host, s + 5);
		out->set = true;
		return 0;
	}
	if(s[0] == '['){
		const char *close = strchr(s, ']');
		if(!close || close[1] != ':') return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': expected [v6addr]:port", s);
		hlen = (size_t)(close - s - 1);
		if(hlen == 0 || hlen >= sizeof(out->host)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': bad address", s);
		memcpy(out->host, s + 1, hlen);
		colon = close + 1;
	}else{
		colon = strrchr(s, ':');
		if(!colon || colon == s) return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': expected host:port or unix:/path", s);
		hlen = (size_t)(colon - s);
		if(hlen >= sizeof(out->host)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': host too long", s);
		memcpy(out->host, s, hlen);
	}
	rc = parse_u32("port", colon + 1, 1, 65535, &port, err);
	if(rc) return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': port must be 1..65535", s);
	out->port = (uint16_t)port;
	out->set = true;
	return 0;
}

struct u32_option {
	const char *name;
	size_t offset;
	uint32_t min, max;
};

#define U32_OPT(name, field, min, max) { name, offsetof(struct lwm2m_config, field), min, max }

static const struct u32_option u32_options[] = {
	U32_OPT("request_timeout", request_timeout_s, 1, 3600),
	U32_OPT("queue_awake_window", queue_awake_window_s, 1, 86400),
	U32_OPT("queue_max_length", queue_max_length, 1, 100000),
	U32_OPT("queue_max_age", queue_max_age_s, 1, 31536000),
	U32_OPT("send_retention", send_retention_s, 60, 31536000),
	U32_OPT("max_payload", max_payload, 64, 16777216),
	U32_OPT("lifetime_grace", lifetime_grace_s, 0, 3600),
	U32_OPT("min_lifetime", min_lifetime_s, 0, UINT32_MAX),
	U32_OPT("max_lifetime", max_lifetime_s, 0, UINT32_MAX),
	U32_OPT("inbox_size", inbox_size, 16, 10000000),
	U32_OPT("outbox_size", outbox_size, 16, 10000000),
	U32_OPT("max_registrations", max_registrations, 1, 100000000),
	U32_OPT("register_rate", register_rate, 0, 1000000),
	U32_OPT("coap_max_inflight", coap_max_inflight, 1, 10000),
	U32_OPT("coap_sessions_per_context", coap_sessions_per_context, 1, 100000),
};

bool conf_addr_is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

static int set_string(char **dst, const char *v)
{
	char *copy = strdup(v);
	if(!copy) return -LWM2M_ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int conf_parse_coap_uri(const char *s, struct conf_coap_server *out, struct lwm2m_error *err)
{
	struct conf_addr a;
	const char *rest;
	char hostport[300];

	memset(out, 0, sizeof(*out));
	if(!strncmp(s, "coaps://", 8)){
		out->secure = true;
		rest = s + 8;
	}else if(!strncmp(s, "coap://", 7)){
		rest = s + 7;
	}else{
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s' does not start with coap:// or coaps://", s);
	}
	if(strchr(rest, '/') && strcmp(strchr(rest, '/'), "/")){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s': a path is not supported (the server's /rd is used)", s);
	}
	snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(rest, "/"), rest);
	/* No port given: the scheme's default. */
	if(!strchr(hostport, ']') ? !strchr(hostport, ':') : !strstr(hostport, "]:")){
		size_t n = strlen(hostport);
		snprintf(hostport + n, sizeof(hostport) - n, ":%u", out->secure ? 5684u : 5683u);
	}
	if(conf_parse_addr(hostport, &a, err) != 0 || a.is_unix || !a.host[0] || a.port == 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "'%s' is not coap[s]://host[:port]", s);
	}
	snprintf(out->host, sizeof(out->host), "%s", a.host);
	out->port = a.port;
	out->set = true;
	return 0;
}

static int parse_http_listen(struct lwm2m_config *c, const char *v, struct lwm2m_error *err)
{
	struct conf_addr a;
	if(!strcmp(v, "off")){
		free(c->http_listen);
		c->http_listen = NULL;
		c->http_off = true;
		return 0;
	}
	if(conf_parse_addr(v, &a, NULL) != 0 || a.is_unix){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_http_listen: '%s' is not host:port or off", v);
	}
	return set_string(&c->http_listen, v);
}

static int parse_one(struct lwm2m_config *c, const char *key, const char *v, struct lwm2m_error *err)
{
	for(size_t i = 0; i < sizeof(u32_options) / sizeof(u32_options[0]); i++){
		if(!strcmp(key, u32_options[i].name)){
			uint32_t *field = (uint32_t *)((char *)c + u32_options[i].offset);
			return parse_u32(key, v, u32_options[i].min, u32_options[i].max, field, err);
		}
	}
	if(!strcmp(key, "identity")) return parse_identity(v, &c->identity, err);
	if(!strcmp(key, "other_topics")) return parse_other_topics(v, &c->other_topics, err);
	if(!strcmp(key, "prefixes")) return parse_prefixes(c, v, err);
	if(!strcmp(key, "debug")) return parse_bool(key, v, &c->debug, err);
	if(!strcmp(key, "http_listen")) return parse_http_listen(c, v, err);
	if(!strcmp(key, "api_token")){
		if(strlen(v) < 16) return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_api_token: use at least 16 characters");
		return set_string(&c->api_token, v);
	}
	if(!strcmp(key, "cors_origins")) return set_string(&c->cors_origins, v);
	if(!strcmp(key, "tls_cert") || !strcmp(key, "tls_key")){
		if(v[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: '%s' is not an absolute path", key, v);
		return set_string(!strcmp(key, "tls_cert") ? &c->tls_cert : &c->tls_key, v);
	}
	if(!strcmp(key, "state_db")){
		if(v[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_state_db: '%s' is not an absolute path", v);
		return set_string(&c->state_db, v);
	}
	if(!strcmp(key, "objects_dir")){
		if(v[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_objects_dir: '%s' is not an absolute path", v);
		return set_string(&c->objects_dir, v);
	}
	if(!strcmp(key, "tls_ca")){
		if(v[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_tls_ca: '%s' is not an absolute path", v);
		return set_string(&c->tls_ca, v);
	}
	if(!strcmp(key, "http_binding_listen")){
		struct conf_addr a;
		if(conf_parse_addr(v, &a, NULL) != 0 || a.is_unix){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_http_binding_listen: '%s' is not host:port", v);
		}
		return set_string(&c->http_binding_listen, v);
	}
	if(!strcmp(key, "endpoints_file")){
		if(v[0] != '/') return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_endpoints_file: '%s' is not an absolute path", v);
		return set_string(&c->endpoints_file, v);
	}
	if(!strcmp(key, "coap_server")){
		if(conf_parse_coap_uri(v, &c->coap_server, err) != 0 && err){
			char msg[LWM2M_ERROR_MSG_MAX];
			strcpy(msg, err->msg);
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_coap_server: %s", msg);
		}
		return c->coap_server.set ? 0 : -LWM2M_EINVAL;
	}
	if(!strcmp(key, "coap_shutdown")){
		if(!strcmp(v, "deregister")) c->coap_deregister_on_shutdown = true;
		else if(!strcmp(v, "keep")) c->coap_deregister_on_shutdown = false;
		else return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_coap_shutdown: '%s' is not deregister or keep", v);
		return 0;
	}
	if(!strcmp(key, "doorbell")){
		int rc = conf_parse_addr(v, &c->doorbell, err);
		if(rc && err){
			char msg[LWM2M_ERROR_MSG_MAX];
			strcpy(msg, err->msg);
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_doorbell: %s", msg);
		}
		return rc;
	}
	for(size_t i = 0; reserved_options[i]; i++){
		if(!strcmp(key, reserved_options[i])){
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
					"plugin_opt_%s: not available in this version of the plugin", key);
		}
	}
	return lwm2m_fail(err, LWM2M_ENOENT, -1, "plugin_opt_%s: unknown option", key);
}

int conf_parse(struct lwm2m_config *c, const struct conf_kv *kv, size_t n, struct lwm2m_error *err)
{
	for(size_t i = 0; i < n; i++){
		const char *key = kv[i].key ? kv[i].key : "";
		const char *v = kv[i].value ? kv[i].value : "";
		int rc;

		for(size_t j = 0; j < i; j++){
			if(kv[j].key && !strcmp(kv[j].key, key)){
				return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s: given more than once", key);
			}
		}
		rc = parse_one(c, key, v, err);
		if(rc) return rc;
	}
	if(!c->http_listen && !c->http_off){
		if(set_string(&c->http_listen, CONF_DEFAULT_HTTP_LISTEN)) return -LWM2M_ENOMEM;
		c->http_listen_default = true;
	}
	if(c->http_listen && !c->api_token){
		struct conf_addr a;
		if(conf_parse_addr(c->http_listen, &a, NULL) == 0 && !conf_addr_is_loopback(a.host)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1,
					"plugin_opt_http_listen: %s is not a loopback address: set plugin_opt_api_token too",
					c->http_listen);
		}
	}
	if(!c->tls_cert != !c->tls_key){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_%s is set but plugin_opt_%s is not: HTTPS needs both",
				c->tls_cert ? "tls_cert" : "tls_key", c->tls_cert ? "tls_key" : "tls_cert");
	}
	if(c->tls_ca && !c->tls_cert){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_tls_ca needs plugin_opt_tls_cert and plugin_opt_tls_key");
	}
	if(c->max_lifetime_s && c->max_lifetime_s < c->min_lifetime_s){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_max_lifetime: %u is below plugin_opt_min_lifetime %u",
				c->max_lifetime_s, c->min_lifetime_s);
	}
	return 0;
}
