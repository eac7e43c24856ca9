/* lwm2m-sim: simulated LwM2M 1.2 devices speaking the MQTT binding (Transport TS 8) or,
 * with --http, the HTTP binding (Transport TS 7).
 *
 * Files: cli.c (options), tree.c (the object tree of a device), tree_bs.c (what the
 * Bootstrap interface does to it), proto.c (LwM2M messages: registration and the answers to
 * server operations), bsclient.c (--bootstrap: the device side of the Bootstrap interface,
 * COSE protection of the registration topic), observe.c (observations and notifications), net.c (libmosquitto connections driven by one epoll loop, pacing,
 * timers), hnet.c (HTTP mode: the devices' own HTTP server and their requests to the
 * server, in the same loop; while a device bootstraps its server's requests are the
 * Bootstrap-Server's), http_req.c (pure: the device side of the HTTP binding),
 * main.c. Everything runs on one thread. */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tree.h"
#include "binding/cose.h"
#include "binding/http_codec.h"
#include "binding/op.h"
#include "util/buf.h"

struct mosquitto;
struct hnet;
struct epoll_event;

/* ---- configuration (cli.c) ---- */

struct sim_config {
	const char *host;
	int port;
	unsigned count;
	unsigned first;                 /* number of the first device (worker processes) */
	const char *ep_prefix;
	bool username_is_ep;
	const char *username;
	const char *password;
	const char *prefix;             /* topic prefix (tenant); NULL = none */
	uint32_t lifetime;              /* seconds */
	const char *version;            /* "1.2" */
	const char *binding;            /* "M" or "MQ" */
	uint16_t format;                /* content format of Read/Observe answers */
	uint32_t notify_period_ms;      /* 0 = notify on change only */
	bool has_run_for;
	double run_for_s;               /* 0 = stop once every device registered (or failed) */
	bool deregister_at_exit;
	const char *tls_ca, *tls_cert, *tls_key;
	bool verbose;
	unsigned max_pending;           /* connections + registrations in progress at once */
	unsigned timeout_s;             /* wait for a result of the sim's own requests */
	unsigned retries;               /* attempts before a device that never registered gives up */
	unsigned keepalive_s;
	/* HTTP mode (--http) */
	const char *http_url;           /* the server's base URL (a trailing '/' is ignored); NULL = MQTT */
	const char *listen;             /* HOST:PORT of the devices' own HTTP server */
	uint32_t send_period_ms;        /* Send every so often; 0 = never */
	/* Bootstrap (--bootstrap; --bootstrap-pack in MQTT mode only) */
	bool bootstrap;                 /* bootstrap on [prefix/]lwm2m/bs/<ep> (HTTP: POST /bs)
	                                 * before registering */
	bool bootstrap_pack;            /* ... with one Bootstrap-Pack-Request */
	bool has_pct;
	uint16_t pct;                   /* preferred content format of the Bootstrap-Server's data */
};

/* 0 = run, 1 = help printed (exit 0), -1 = usage error (message printed on err). */
int cli_parse(int argc, char **argv, struct sim_config *cfg, FILE *err);
void cli_usage(FILE *out);

/* ---- one device ---- */

enum sim_conn {
	CONN_NONE = 0,
	CONN_CONNECTING,                /* MQTT CONNECT sent, waiting for CONNACK */
	CONN_SUBSCRIBING,               /* SUBSCRIBE sent, waiting for SUBACK */
	CONN_UP,
	CONN_CLOSING,                   /* DISCONNECT sent */
};

enum sim_bs {
	BS_NONE = 0,                    /* not bootstrapped (yet, or again after a failure) */
	BS_REQUESTED,                   /* Bootstrap-Request or Bootstrap-Pack-Request sent */
	BS_RUNNING,                     /* Bootstrap-Request accepted: the server writes, Finish ends */
	BS_DONE,                        /* the tree holds the server account it registers with */
};

enum sim_reg {
	REG_NONE = 0,
	REG_PENDING,                    /* Register sent */
	REG_DONE,                       /* registered */
	REG_DEREG_PENDING,              /* De-register sent */
	REG_DEREGISTERED,
};

struct sim_obs {
	uint64_t token;
	bool composite;
	struct lwm2m_path *paths;       /* owned */
	size_t n_paths;
	uint64_t last_ms;               /* when the last value (205 or Notify) went out */
	uint64_t due_ms;                /* next evaluation */
	struct lwm2m_nodes last;        /* what it carried, for change detection */
};

struct sim;

struct sim_device {
	struct sim *sim;
	unsigned index;                 /* in this process's device array */
	unsigned number;                /* in the whole run: names it (<ep-prefix><number>) */
	char *ep;                       /* owned */
	char *topic;                    /* owned: [prefix/]lwm2m/rd/<ep> */
	char *bs_topic;                 /* owned: [prefix/]lwm2m/bs/<ep>; NULL without --bootstrap
	                                 * and in HTTP mode */
	struct mosquitto *mosq;
	int fd;                         /* socket registered with epoll, -1 when none */
	bool want_out;                  /* EPOLLOUT registered */
	bool queued;                    /* in the start queue */
	bool inflight;                  /* counted in sim.inflight */
	bool failed, done, stopping;
	bool need_drop;                 /* tear the connection down once out of libmosquitto */
	bool registered_once;
	bool bootstrapped_once;
	enum sim_conn conn;
	enum sim_reg reg;
	enum sim_bs bs;
	uint64_t bs_deadline;           /* Bootstrap-Finish (or the Pack) must have come by then */
	bool protected;                 /* rd traffic is COSE-protected with cose */
	struct cose_key cose;
	unsigned attempts;              /* failures since the last success */
	uint64_t rng;
	/* own request in flight (Register, Update, De-register) */
	bool has_pending;
	enum lwm2m_op_kind pending_kind;
	uint64_t pending_token;
	uint64_t pending_deadline;
	/* what the next Update must carry */
	bool update_wanted, update_lifetime, update_binding, update_objects;
	/* timers, monotonic ms; 0 = not armed */
	uint64_t retry_at;
	uint64_t update_at;
	uint64_t misc_at;
	uint64_t close_deadline;
	uint64_t conn_deadline;         /* CONNACK + SUBACK must arrive by then */
	uint64_t wake_at;               /* the scheduled heap entry */
	uint64_t send_at;               /* HTTP mode: next Send */
	bool has_reg_id;                /* HTTP mode: the {id} of /rd/{id} */
	char reg_id[HTTP_CODEC_REG_ID_LEN + 1];
	struct tree tree;
	struct sim_obs *obs;
	size_t n_obs, cap_obs;
};

/* ---- the whole simulator ---- */

struct sim_stats {
	unsigned long registered;       /* devices that registered at least once */
	unsigned long failed;
	unsigned long deregistered;
	unsigned long answered;         /* server requests answered */
	unsigned long notifications;
	unsigned long updates;
	unsigned long malformed;        /* messages that could not be decoded */
	unsigned long publish_errors;   /* HTTP mode: requests that got no HTTP answer */
	unsigned long sends;            /* HTTP mode: Send answered with success */
	unsigned long send_errors;      /* ... refused or unanswered */
	unsigned long bootstrapped;     /* devices that finished a bootstrap at least once */
};

struct sim_heap_ent {
	uint64_t at;
	uint32_t dev;
};

struct sim {
	struct sim_config cfg;
	struct tree_model model;
	struct sim_device *devs;
	size_t n_devs;
	struct sim_stats st;
	uint64_t now_ms;                /* monotonic, refreshed every loop turn */
	uint64_t start_ms;
	int epfd, sigfd;
	unsigned inflight;
	size_t n_done;                  /* devices done or failed */
	bool stopping;
	uint64_t stop_deadline;
	size_t stop_next;               /* next device to stop (stopping is paced too) */
	int signals;                    /* SIGINT/SIGTERM received */
	/* devices waiting for a connection or registration slot */
	uint32_t *queue;
	size_t q_head, q_len;
	/* timer heap (lazy: stale entries are skipped) */
	struct sim_heap_ent *heap;
	size_t heap_len, heap_cap;
	struct lwm2m_buf out;           /* scratch for outgoing messages */
	struct lwm2m_buf sealed;        /* scratch for their COSE-protected form */
	char *bs_uri;                   /* owned: the Bootstrap-Server URI of the factory /0/0 */
	struct hnet *http;              /* HTTP mode: owned; NULL in MQTT mode */
	struct sim_answer *answer;      /* HTTP mode: where proto_respond puts the answer to the
	                                 * request being served (NULL outside of that) */
};

/* HTTP mode: the answer to one server request, filled in by proto_respond instead of a
 * published message. */
struct sim_answer {
	bool done;
	uint16_t result;                /* LwM2M result, CoAP numbering (205) */
	bool has_payload;
	uint16_t ct;
	struct lwm2m_buf payload;       /* owned */
	char location[32];              /* Create: "/o/i" of the new instance, "" = none */
};

/* ---- workers.c ---- */

/* Runs the devices cfg->first .. cfg->first + cfg->count - 1 in this process. */
typedef int (*workers_run_fn)(const struct sim_config *cfg, struct sim_stats *st);

/* Devices one process can hold within its descriptor limit. */
unsigned workers_capacity(void);
/* Fork ceil(count / per) workers, each running `run` on its slice; add their counters up. */
int workers_run(const struct sim_config *cfg, unsigned per, workers_run_fn run,
		struct sim_stats *total);
/* Ask libmosquitto (>= 2.0.16) to drop its wake-up socket pair; false when it cannot. */
bool sim_disable_socketpair(struct mosquitto *mosq);

/* ---- net.c ---- */

#define SIM_HTTP_TAG (UINT32_MAX - 1)   /* epoll tag of the HTTP server's descriptor */

int net_init(struct sim *s);
int net_run(struct sim *s);
void net_free(struct sim *s);
/* Publish one message (QoS 1) on one of the device's topics. */
int net_publish(struct sim *s, struct sim_device *d, const char *topic, const uint8_t *p, size_t len);
/* Recompute the device's next timer after something changed. */
void net_sched(struct sim *s, struct sim_device *d);
/* After something happened to a device outside of its own socket events (HTTP mode):
 * deferred teardown, pacing, timers. */
void net_after(struct sim *s, struct sim_device *d);
/* Give up on the current connection attempt or registration: retry later or fail. */
void net_retry(struct sim *s, struct sim_device *d, const char *why);
/* Disconnect and mark the device finished. */
void net_close(struct sim *s, struct sim_device *d);
/* One event line when --verbose. */
void sim_log(const struct sim *s, const struct sim_device *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t sim_wall_s(void);

/* ---- hnet.c (HTTP mode) ---- */

/* Start the devices' HTTP server (its descriptor joins s->epfd with SIM_HTTP_TAG) and the
 * HTTP client; print the devices' base URLs. */
int hnet_init(struct sim *s);
void hnet_free(struct sim *s);
/* Wait up to timeout_ms for the server, the client's sockets or s->epfd; then the ready
 * entries of s->epfd, as epoll_wait gives them. */
int hnet_wait(struct sim *s, struct epoll_event *evs, int max, int timeout_ms);
/* Serve what the server asked and finish the requests that were answered. */
void hnet_io(struct sim *s);
/* Send one of the device's requests (Register, Update, De-register, Send). The answer comes
 * back through proto_on_result (or proto_request_failed) with op->token; Send answers are
 * only counted. */
int hnet_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op);

/* ---- proto.c ---- */

/* A message on the device's rd (LWM2M_IFACE_RD) or bs topic. */
void proto_on_message(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, const uint8_t *p,
		size_t len);
/* Publish an encoded LwM2M message on the device's topic of iface, COSE-protected on the rd
 * topic when the device's server account asks for it. */
int proto_publish(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, const uint8_t *p,
		size_t len);
/* Send one of the device's own requests (a token is set) and wait for its result. */
int proto_send_request(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, struct lwm2m_op *op);
/* The connection is up and the device has nothing going on: bootstrap or register. */
int proto_start(struct sim *s, struct sim_device *d);
/* HTTP mode: answer a decoded server request into s->answer. */
void proto_handle_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op);
/* The answer to one of the device's own requests (token = the request's). */
void proto_on_result(struct sim *s, struct sim_device *d, const struct lwm2m_op *op);
/* One of the device's own requests got no answer at all (HTTP mode: connection failed). */
void proto_request_failed(struct sim *s, struct sim_device *d, uint64_t token, const char *why);
int proto_register(struct sim *s, struct sim_device *d);
/* Send an Update now if nothing is pending, else right after. */
void proto_request_update(struct sim *s, struct sim_device *d);
int proto_deregister(struct sim *s, struct sim_device *d);
/* The connection is gone: the registration and its observations with it. */
void proto_on_disconnect(struct sim *s, struct sim_device *d);
/* Timers of the protocol layer: request timeouts, Update, notifications. */
uint64_t proto_next_due(const struct sim *s, const struct sim_device *d);
void proto_timers(struct sim *s, struct sim_device *d);
/* The LwM2M result for a -LWM2M_E* code (404, 405, 400, 500). */
uint16_t proto_result_for(int rc);
/* Encode and publish a response. */
int proto_respond(struct sim *s, struct sim_device *d, const struct lwm2m_op *req, uint16_t result,
		uint16_t ct, const struct lwm2m_buf *payload);
/* The same on the bootstrap topic. */
int proto_respond_bs(struct sim *s, struct sim_device *d, const struct lwm2m_op *req, uint16_t result,
		uint16_t ct, const struct lwm2m_buf *payload);
/* Encode nodes read for paths in the format a read of that kind should use; *ct receives it. */
int proto_encode_nodes(struct sim *s, const struct lwm2m_nodes *nodes,
		const struct lwm2m_path *paths, size_t n_paths, bool composite, uint16_t *ct,
		struct lwm2m_buf *out);
/* Read the nodes of paths (composite: missing paths are skipped, overlaps merged). */
int proto_read_paths(struct sim_device *d, const struct lwm2m_path *paths, size_t n_paths,
		bool composite, struct lwm2m_nodes *out);

/* ---- bsclient.c ---- */

/* Whether a bootstrap is under way: Bootstrap-Request sent, Finish not come yet. */
bool bs_in_progress(const struct sim_device *d);
/* Start over from the factory tree and send Bootstrap-Request (or Bootstrap-Pack-Request;
 * HTTP mode: POST /bs?ep=..). */
int bs_begin(struct sim *s, struct sim_device *d);
/* The result of the Bootstrap-Request or Bootstrap-Pack-Request (kind) in flight. */
void bs_on_result(struct sim *s, struct sim_device *d, enum lwm2m_op_kind kind, const struct lwm2m_op *op);
/* A Bootstrap-Server operation on the bs topic (HTTP mode: a request to the device's own
 * server while it bootstraps). */
void bs_handle_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op);
uint64_t bs_next_due(const struct sim_device *d);
void bs_timers(struct sim *s, struct sim_device *d);
/* The connection is gone: a bootstrap in progress is over (a finished one is kept). */
void bs_on_disconnect(struct sim_device *d);
/* Seal an encoded LwM2M message with the device's COSE key into s->sealed. */
int bs_seal(struct sim *s, struct sim_device *d, const uint8_t *p, size_t len);
/* Open a COSE-protected message into plain; false (logged, counted) when it does not. */
bool bs_open(struct sim *s, struct sim_device *d, const uint8_t *p, size_t len, struct lwm2m_buf *plain);

/* ---- observe.c ---- */

/* Start (or restart) an observation and send its first value as the 205 answer. */
void obs_start(struct sim *s, struct sim_device *d, const struct lwm2m_op *req,
		const struct lwm2m_path *paths, size_t n_paths, bool composite);
/* Cancel-Observe: 205 and forget it, 404 when the token is unknown. */
void obs_cancel(struct sim *s, struct sim_device *d, const struct lwm2m_op *req);
void obs_clear(struct sim_device *d);
/* Forget observations of paths that no longer exist. */
void obs_prune(struct sim_device *d);
/* Re-evaluate schedules after attributes changed. */
void obs_reschedule(struct sim *s, struct sim_device *d);
uint64_t obs_next_due(const struct sim_device *d);
void obs_run(struct sim *s, struct sim_device *d);

#endif
