/* The CoAP forwarder: every registered device is registered at the CoAP LwM2M server of
 * plugin_opt_coap_server through its own libcoap client session (own source port, own
 * DTLS session), and the server's requests on that session reach the device through the
 * core. Runs on the core thread: start it from the core's thread_start edge. */
#ifndef UPSTREAM_UPSTREAM_H
#define UPSTREAM_UPSTREAM_H

#include "../util/lwm2m_err.h"

struct core;
struct upstream;

/* Creates the libcoap context on the core loop, registers every device the core has (those
 * restored from plugin_opt_state_db included) and listens to the core from then on. Each
 * device's credentials come from the core's endpoints file when its session opens. NULL
 * with err set when the server cannot be used. */
struct upstream *upstream_start(struct core *c, struct lwm2m_error *err);

/* Stops listening to the core; with plugin_opt_coap_shutdown deregister, De-registers every
 * device (waiting at most 2 s for the answers); frees every session. Core thread. */
void upstream_stop(struct upstream *u);

#endif
