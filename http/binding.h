/* The LwM2M HTTP binding for devices (Transport TS 7) on plugin_opt_http_binding_listen:
 * Register / Update / De-register on /rd, Send on /dp, and the way back - the server's
 * requests to each device's own HTTP server (its base URL from plugin_opt_endpoints_file),
 * sent with libcurl on the core loop. Open on the broker thread, attach on the core thread. */
#ifndef HTTP_BINDING_H
#define HTTP_BINDING_H

#include "../conf/options.h"
#include "../util/lwm2m_err.h"

struct core;
struct endpoints;
struct binding_server;

/* Listens (a bad address or certificate is an error naming the option). Which devices may
 * register, and their base URLs, come from the core's endpoints file (none: every device is
 * refused with 403). */
struct binding_server *binding_open(const struct lwm2m_config *cfg, struct lwm2m_error *err);
/* Core thread: serve, and carry the core's requests to HTTP devices. */
int binding_attach(struct binding_server *b, struct core *c);
/* Core thread: requests in flight to devices end; the listener stops serving. */
void binding_detach(struct binding_server *b);
/* Broker thread, after the core thread has ended. */
void binding_free(struct binding_server *b);

#endif
