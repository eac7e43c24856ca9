/* The REST + events API for web clients and operators (Leshan 2.x paths), served by
 * libmicrohttpd driven from the core's libuv loop. */
#ifndef HTTP_REST_H
#define HTTP_REST_H

#include <stdint.h>

#include "../conf/options.h"
#include "../util/lwm2m_err.h"

struct core;
struct rest_server;

/* Opens the listener (on the broker thread, at plugin start, so a taken port stops the
 * broker with a clear line); nothing runs until rest_attach. */
struct rest_server *rest_open(const struct lwm2m_config *cfg, struct lwm2m_error *err);
/* Core thread: start serving on the core's loop. */
int rest_attach(struct rest_server *s, struct core *c);
/* Core thread: stop serving, close every connection and loop handle. */
void rest_detach(struct rest_server *s);
/* After the core thread ended. */
void rest_free(struct rest_server *s);

#endif
