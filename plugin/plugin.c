/* Mosquitto glue: the only code that talks to the broker. Everything here runs on the
 * broker's thread; the LwM2M work happens on the core thread (core/). */
#define _GNU_SOURCE   /* dladdr */
#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/x509.h>

#include "doorbell.h"
#include "../binding/mqtt_codec.h"
#include "../conf/broker_conf.h"
#include "../conf/options.h"
#include "../core/access.h"
#include "../core/core.h"
#include "../http/rest.h"
#include "../http/binding.h"
#include "../conf/endpoints.h"
#include "../core/api.h"
#include "../upstream/upstream.h"

#define PLUGIN_FILE "mosquitto_lwm2m.so"
#define EXPORT __attribute__((visibility("default")))

struct plugin_ctx {
	mosquitto_plugin_id_t *id;
	struct lwm2m_config cfg;
	struct core *core;
	struct doorbell bell;
	struct rest_server *rest;   /* NULL when plugin_opt_http_listen is off */
	struct upstream *upstream;  /* the CoAP forwarder (core thread), NULL when off */
	struct binding_server *binding;   /* the HTTP binding listener, NULL when off */
	bool use_doorbell;
	bool defer_others;          /* answer DEFER (not SUCCESS) for non-LwM2M topics */
	bool auth_registered;
	unsigned long ticks;
	uint64_t outbox_dropped_reported;
	time_t outbox_report_time;
	char own_path[PATH_MAX];    /* this plugin's file, resolved */
};

/* ---- identity ---- */

static bool cert_cn(const struct mosquitto *client, char *buf, size_t size)
{
	X509 *cert = mosquitto_client_certificate(client);
	X509_NAME *name;
	int n = -1;

	if(!cert) return false;
	name = X509_get_subject_name(cert);
	if(name) n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size);
	X509_free(cert);
	return n > 0 && (size_t)n < size;
}

/* The endpoint name a client is bound to, or NULL. buf holds it when it is a CN. */
static const char *client_identity(const struct plugin_ctx *p, const struct mosquitto *client,
		char *buf, size_t size)
{
	switch(p->cfg.identity){
		case CONF_IDENTITY_USERNAME: return mosquitto_client_username(client);
		case CONF_IDENTITY_CLIENTID: return mosquitto_client_id(client);
		case CONF_IDENTITY_CERT_CN: return cert_cn(client, buf, size) ? buf : NULL;
		case CONF_IDENTITY_ANY: return mosquitto_client_id(client);
	}
	return NULL;
}

static bool is_doorbell(const struct plugin_ctx *p, const char *client_id)
{
	return p->use_doorbell && client_id && !strcmp(client_id, p->bell.client_id);
}

/* ---- callbacks ---- */

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ev = event_data;
	struct plugin_ctx *p = userdata;
	enum access_kind kind;
	enum access_verdict verdict;
	const char *why = NULL;
	char cn[256];
	(void)event;

	switch(ev->access){
		case MOSQ_ACL_READ: kind = ACCESS_READ; break;
		case MOSQ_ACL_WRITE: kind = ACCESS_WRITE; break;
		case MOSQ_ACL_SUBSCRIBE: kind = ACCESS_SUBSCRIBE; break;
		case MOSQ_ACL_UNSUBSCRIBE: kind = ACCESS_UNSUBSCRIBE; break;
		default: return MOSQ_ERR_PLUGIN_DEFER;
	}
	verdict = access_check(&p->cfg, client_identity(p, ev->client, cn, sizeof(cn)), ev->topic,
			kind, ev->retain, &why);
	if(verdict == ACCESS_NOT_MINE){
		return p->defer_others ? MOSQ_ERR_PLUGIN_DEFER : MOSQ_ERR_SUCCESS;
	}
	if(verdict == ACCESS_DENY){
		/* Deliveries to other subscribers are checked per message: not worth a line each. */
		if(kind != ACCESS_READ){
			const char *cid = mosquitto_client_id(ev->client);
			mosquitto_log_printf(MOSQ_LOG_NOTICE, "lwm2m: client '%s': %s on '%s' denied: %s",
					cid ? cid : "?", kind == ACCESS_WRITE ? "publish" : "subscribe", ev->topic, why);
		}
		return MOSQ_ERR_ACL_DENIED;
	}
	if(kind == ACCESS_SUBSCRIBE){
		struct core_in *m = core_in_new(CORE_IN_CLIENT_SEEN, mosquitto_client_id(ev->client), NULL, NULL, NULL, 0);
		if(m && !core_post(p->core, m)) core_in_free(m);
	}
	return MOSQ_ERR_SUCCESS;
}

/* Answers a request right here on the broker thread, when the core cannot take it (inbox
 * full: 503) or must not (message too large: 413). Messages without a readable token, and
 * results, are dropped. */
static void answer_here(const char *topic, const void *payload, size_t len, uint16_t result)
{
	struct mqtt_topic t;
	struct lwm2m_op op, reply;
	struct lwm2m_buf out;

	if(mqtt_topic_parse(topic, strlen(topic), &t, NULL) != 0) return;
	if(mqtt_codec_decode(payload, len, t.iface, NULL, &op, NULL) != 0 && !(op.fields & LWM2M_F_TOKEN)) return;
	/* A result with a Notify's token would read as the answer to a Cancel-Observe. */
	if(op.is_response || op.kind == LWM2M_OP_NOTIFY) return;
	op_init(&reply);
	reply.is_response = true;
	reply.result = result;
	reply.token = op.token;
	reply.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT;
	buf_init(&out, 0);
	if(mqtt_codec_encode(&reply, t.iface, &out, NULL) == 0){
		void *copy = mosquitto_malloc(out.len);
		if(copy){
			memcpy(copy, out.data, out.len);
			if(mosquitto_broker_publish(NULL, topic, (int)out.len, copy, 1, false, NULL) != MOSQ_ERR_SUCCESS){
				mosquitto_free(copy);
			}
		}
	}
	buf_free(&out);
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ev = event_data;
	struct plugin_ctx *p = userdata;
	const char *why = NULL, *identity, *client_id;
	struct core_in *m;
	char cn[256];
	(void)event;

	identity = client_identity(p, ev->client, cn, sizeof(cn));
	switch(access_check(&p->cfg, identity, ev->topic, ACCESS_WRITE, ev->retain, &why)){
		case ACCESS_NOT_MINE: return MOSQ_ERR_SUCCESS;
		case ACCESS_DENY: return MOSQ_ERR_ACL_DENIED;
		case ACCESS_ALLOW: break;
	}
	client_id = mosquitto_client_id(ev->client);
	if((uint32_t)ev->payloadlen > p->cfg.max_payload){
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "lwm2m: client '%s' on '%s': message of %u bytes above plugin_opt_max_payload (%u): refused",
				client_id ? client_id : "?", ev->topic, ev->payloadlen, p->cfg.max_payload);
		answer_here(ev->topic, ev->payload, ev->payloadlen, 413);
		return MOSQ_ERR_SUCCESS;
	}
	m = core_in_new(CORE_IN_MQTT_MESSAGE, client_id, identity, ev->topic, ev->payload, ev->payloadlen);
	if(!m){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: client '%s': out of memory, message on '%s' dropped",
				client_id ? client_id : "?", ev->topic);
		return MOSQ_ERR_SUCCESS;
	}
	if(!core_post(p->core, m)){
		core_in_free(m);
		mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: client '%s' on '%s': inbox full (plugin_opt_inbox_size), answering 503",
				client_id ? client_id : "?", ev->topic);
		answer_here(ev->topic, ev->payload, ev->payloadlen, 503);
	}
	/* The message continues to its subscribers: devices expect to see their own topic. */
	return MOSQ_ERR_SUCCESS;
}

static int log_level_of(enum core_log_level level)
{
	switch(level){
		case CORE_LOG_DEBUG: return MOSQ_LOG_DEBUG;
		case CORE_LOG_INFO: return MOSQ_LOG_INFO;
		case CORE_LOG_NOTICE: return MOSQ_LOG_NOTICE;
		case CORE_LOG_WARNING: return MOSQ_LOG_WARNING;
		case CORE_LOG_ERR: return MOSQ_LOG_ERR;
	}
	return MOSQ_LOG_INFO;
}

static void publish_out(const struct core_out *o)
{
	/* The broker frees the payload with its own allocator, and its memory accounting
	 * breaks with mosquitto_broker_publish_copy(): hand it a mosquitto_malloc'd copy. */
	void *copy = mosquitto_malloc(o->payload_len ? o->payload_len : 1);
	if(!copy) return;
	memcpy(copy, o->payload, o->payload_len);
	if(mosquitto_broker_publish(NULL, o->text, (int)o->payload_len, copy, o->qos, false, NULL) != MOSQ_ERR_SUCCESS){
		mosquitto_free(copy);
	}
}

/* publish = false at plugin cleanup: the broker has closed its message store by then, so
 * only the log lines are still worth writing. */
static void drain_outbox(struct plugin_ctx *p, bool publish)
{
	struct core_out *o, *next;

	core_ring_clear(p->core);
	for(o = core_take_outbox(p->core); o; o = next){
		next = (struct core_out *)o->link.next;
		if(o->kind == CORE_OUT_LOG) mosquitto_log_printf(log_level_of(o->level), "%s", o->text);
		else if(publish) publish_out(o);
		core_out_free(o);
	}
}

/* The core's own log lines travel through the outbox, so an overflowing outbox can only
 * be reported from here. */
static void report_outbox_drops(struct plugin_ctx *p)
{
	uint64_t dropped = atomic_load(&core_stats(p->core)->outbox_dropped);
	struct timespec now;

	if(dropped == p->outbox_dropped_reported) return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* At most one line every 5 s while it lasts. */
	if(p->outbox_report_time && now.tv_sec - p->outbox_report_time < 5) return;
	p->outbox_report_time = now.tv_sec;
	mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: outbox full: %" PRIu64 " messages to devices or log lines dropped so far (plugin_opt_outbox_size %u)",
			dropped, p->cfg.outbox_size);
	p->outbox_dropped_reported = dropped;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	struct plugin_ctx *p = userdata;
	(void)event;
	(void)event_data;
	p->ticks++;
	drain_outbox(p, true);
	report_outbox_drops(p);
	return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ev = event_data;
	struct plugin_ctx *p = userdata;
	const char *client_id = mosquitto_client_id(ev->client);
	struct core_in *m;
	(void)event;

	if(!client_id || is_doorbell(p, client_id)) return MOSQ_ERR_SUCCESS;
	m = core_in_new(CORE_IN_CLIENT_GONE, client_id, NULL, NULL, NULL, 0);
	if(m && !core_post(p->core, m)) core_in_free(m);
	return MOSQ_ERR_SUCCESS;
}

/* Lets the doorbell in; every other client is someone else's business. */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ev = event_data;
	struct plugin_ctx *p = userdata;
	(void)event;

	if(is_doorbell(p, mosquitto_client_id(ev->client))){
		if(ev->username && ev->password && !strcmp(ev->username, p->bell.username)
				&& !strcmp(ev->password, p->bell.password)){
			return MOSQ_ERR_SUCCESS;
		}
		return MOSQ_ERR_AUTH;
	}
	return MOSQ_ERR_PLUGIN_DEFER;
}

/* ---- core thread edge ---- */

static void edge_ring(void *ctx)
{
	struct plugin_ctx *p = ctx;
	if(p->use_doorbell) doorbell_ring(&p->bell);
}

static void edge_thread_start(void *ctx)
{
	struct plugin_ctx *p = ctx;
	if(p->rest && rest_attach(p->rest, p->core) != 0){
		core_log(p->core, CORE_LOG_ERR, "lwm2m: the REST API could not start");
	}
	if(p->binding && binding_attach(p->binding, p->core) != 0){
		core_log(p->core, CORE_LOG_ERR, "lwm2m: the HTTP binding could not start");
	}
	if(p->cfg.coap_server.set){
		struct lwm2m_error err;
		p->upstream = upstream_start(p->core, &err);
		if(!p->upstream) core_log(p->core, CORE_LOG_ERR, "lwm2m: the CoAP forwarder could not start: %s", err.msg);
	}
}

static void edge_thread_stop(void *ctx)
{
	struct plugin_ctx *p = ctx;
	upstream_stop(p->upstream);
	p->upstream = NULL;
	binding_detach(p->binding);
	rest_detach(p->rest);
	doorbell_close(&p->bell);
}

/* ---- life cycle ---- */

static int read_options(struct plugin_ctx *p, struct mosquitto_opt *opts, int n)
{
	struct conf_kv *kv = calloc((size_t)(n > 0 ? n : 1), sizeof(*kv));
	struct lwm2m_error err;
	int rc;

	if(!kv) return MOSQ_ERR_NOMEM;
	for(int i = 0; i < n; i++){
		kv[i].key = opts[i].key;
		kv[i].value = opts[i].value;
	}
	conf_defaults(&p->cfg);
	rc = conf_parse(&p->cfg, kv, (size_t)n, &err);
	free(kv);
	if(rc){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: %s", err.msg);
		return MOSQ_ERR_INVAL;
	}
	return MOSQ_ERR_SUCCESS;
}

/* This plugin's own file, resolved, to recognise its own plugin line in the broker's
 * configuration whatever the file is called. */
static const char *own_path(struct plugin_ctx *p)
{
	Dl_info info;

	if(dladdr((void *)mosquitto_plugin_init, &info) && info.dli_fname && realpath(info.dli_fname, p->own_path)){
		return p->own_path;
	}
	return PLUGIN_FILE;
}

/* Facts about the broker's configuration the plugin API does not give. */
static int check_broker_config(struct plugin_ctx *p)
{
	struct broker_facts facts;
	struct lwm2m_error err;
	char path[4096];
	bool known = false;

	memset(&facts, 0, sizeof(facts));
	if(broker_conf_path_of_self(path, sizeof(path))){
		known = broker_conf_scan_file(&facts, path, own_path(p), &err) == 0;
		if(!known) mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: cannot read the broker configuration: %s", err.msg);
	}
	if(facts.per_listener_settings){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: per_listener_settings true is not supported: "
				"mosquitto 2.0.11 never fires the TICK event the plugin needs in that mode");
		return MOSQ_ERR_NOT_SUPPORTED;
	}
	switch(p->cfg.other_topics){
		case CONF_OTHER_DEFER: p->defer_others = true; break;
		case CONF_OTHER_ALLOW: p->defer_others = false; break;
		case CONF_OTHER_AUTO:
			/* Deferring when nobody else decides would deny everything: mosquitto 2.0
			 * denies when every ACL callback defers. Unknown configuration: be safe. */
			p->defer_others = !known || facts.acl_file || facts.other_plugin;
			break;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "lwm2m: non-LwM2M topics: %s",
			p->defer_others ? "left to the broker's other ACL sources" : "allowed as without the plugin");
	/* The doorbell logs in with a per-start password; a BASIC_AUTH callback is needed only
	 * where something checks passwords, and must not be there otherwise (2.0 refuses
	 * clients with a username when every auth callback defers). */
	p->auth_registered = known ? (facts.password_file || facts.other_plugin || !facts.allow_anonymous_true) : true;
	return MOSQ_ERR_SUCCESS;
}

static int register_callbacks(struct plugin_ctx *p)
{
	int rc = 0;
	rc |= mosquitto_callback_register(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p);
	rc |= mosquitto_callback_register(p->id, MOSQ_EVT_MESSAGE, on_message, NULL, p);
	rc |= mosquitto_callback_register(p->id, MOSQ_EVT_TICK, on_tick, NULL, p);
	rc |= mosquitto_callback_register(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, p);
	if(p->auth_registered && p->use_doorbell){
		rc |= mosquitto_callback_register(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p);
	}
	return rc;
}

static void unregister_callbacks(struct plugin_ctx *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	if(p->auth_registered && p->use_doorbell){
		mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	}
}

/* One line at shutdown with the core's counters: the only place they leave the process. */
static void log_stats(const struct plugin_ctx *p)
{
	const struct core_stats *s = core_stats(p->core);
	uint64_t received = atomic_load(&s->received);
	uint64_t busy_ns = atomic_load(&s->core_busy_ns);

	mosquitto_log_printf(MOSQ_LOG_NOTICE, "lwm2m: stats: received %" PRIu64 ", published %" PRIu64
			", core busy %" PRIu64 " us (%.2f us per message), refused %" PRIu64 ", ignored %" PRIu64
			", inbox dropped %" PRIu64 ", outbox dropped %" PRIu64 ", registrations %" PRIu64
			", doorbell rings %" PRIu64 ", ticks %lu",
			received, (uint64_t)atomic_load(&s->published), busy_ns / 1000,
			received ? (double)busy_ns / 1e3 / (double)received : 0.0,
			(uint64_t)atomic_load(&s->refused), (uint64_t)atomic_load(&s->ignored),
			(uint64_t)atomic_load(&s->inbox_dropped), (uint64_t)atomic_load(&s->outbox_dropped),
			(uint64_t)atomic_load(&s->registrations), p->bell.rings, p->ticks);
}

static void ctx_free(struct plugin_ctx *p)
{
	if(!p) return;
	if(p->core){
		core_stop(p->core);
		drain_outbox(p, false);
		log_stats(p);
		core_free(p->core);
	}
	rest_free(p->rest);
	binding_free(p->binding);
	conf_free(&p->cfg);
	free(p);
}

static int start_core(struct plugin_ctx *p)
{
	struct core_edges edges = {
		.ctx = p, .ring = edge_ring, .thread_start = edge_thread_start, .thread_stop = edge_thread_stop
	};
	struct lwm2m_error err;

	p->core = core_new(&p->cfg, &edges, &err);
	if(p->core) p->bell.core = p->core;   /* before the thread that reads it starts */
	/* Read before the core thread starts; typed with the core's object model. */
	if(p->core && p->cfg.endpoints_file){
		struct endpoints *eps = endpoints_load_file(p->cfg.endpoints_file, core_api_model(p->core), &err);
		if(!eps){
			mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: plugin_opt_endpoints_file: %s", err.msg);
			return MOSQ_ERR_INVAL;
		}
		core_api_set_endpoints(p->core, eps);   /* the core owns them from here */
	}
	if(p->core && p->cfg.http_binding_listen){
		p->binding = binding_open(&p->cfg, &err);
		if(!p->binding){
			mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: %s", err.msg);
			return MOSQ_ERR_INVAL;
		}
	}
	if(!p->core || core_start(p->core, &err) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: %s", err.msg);
		return MOSQ_ERR_UNKNOWN;
	}
	return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	struct plugin_ctx *p = calloc(1, sizeof(*p));
	int rc;

	if(!p) return MOSQ_ERR_NOMEM;
	p->id = identifier;
	p->bell.fd = -1;
	rc = read_options(p, options, option_count);
	if(rc == MOSQ_ERR_SUCCESS) rc = check_broker_config(p);
	if(rc == MOSQ_ERR_SUCCESS && p->cfg.doorbell.set){
		if(!doorbell_init(&p->bell, &p->cfg.doorbell)){
			mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: cannot read /dev/urandom for the doorbell's password");
			rc = MOSQ_ERR_UNKNOWN;
		}
		p->use_doorbell = true;
	}else if(rc == MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: plugin_opt_doorbell is not set: "
				"replies go out on the broker's tick (up to 100 ms late when the broker is idle)");
	}
	if(rc == MOSQ_ERR_SUCCESS && p->cfg.http_listen){
		struct lwm2m_error err;
		p->rest = rest_open(&p->cfg, &err);
		if(!p->rest && p->cfg.http_listen_default){
			/* Nobody asked for this port: a busy 8080 must not keep the broker down. */
			mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: %s; the REST API is off (set plugin_opt_http_listen)", err.msg);
		}else if(!p->rest){
			mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: %s", err.msg);
			rc = MOSQ_ERR_INVAL;
		}
	}
	if(rc == MOSQ_ERR_SUCCESS) rc = start_core(p);
	if(rc == MOSQ_ERR_SUCCESS && register_callbacks(p) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: cannot register the plugin's callbacks");
		rc = MOSQ_ERR_UNKNOWN;
	}
	if(rc != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_ERR, "lwm2m: plugin not loaded");
		ctx_free(p);
		return rc;
	}
	if(p->cfg.identity == CONF_IDENTITY_ANY){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "lwm2m: plugin_opt_identity any: every client may act as any endpoint; "
				"for development only");
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "lwm2m: plugin loaded (identity %s, %zu prefixes%s, REST API %s%s)",
			conf_identity_name(p->cfg.identity), p->cfg.n_prefixes,
			p->cfg.allow_no_prefix ? " + none" : "",
			p->rest ? (p->cfg.tls_cert ? "on https://" : "on http://") : "off", p->rest ? p->cfg.http_listen : "");
	*userdata = p;
	return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	struct plugin_ctx *p = userdata;
	(void)options;
	(void)option_count;
	if(!p) return MOSQ_ERR_SUCCESS;
	unregister_callbacks(p);
	ctx_free(p);
	return MOSQ_ERR_SUCCESS;
}
