/* COSE protection of a device's registration-interface messages. Core thread only. */
#ifndef CORE_PROTECT_H
#define CORE_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../binding/cose.h"
#include "../binding/op.h"
#include "../util/buf.h"

struct core;

/* The device's COSE key when its endpoints entry links a /23 instance from a /0 instance
 * (resource 27); false when its traffic is not protected. */
bool protect_key(struct core *c, const char *endpoint, struct cose_key *key);
/* The MQTT payload carrying msg protected under key (a fresh random IV). */
int protect_wrap(const struct cose_key *key, const uint8_t *msg, size_t len, struct lwm2m_buf *out);
/* The LwM2M message map inside a protected payload; an error when it is not protected or
 * does not authenticate. */
int protect_unwrap(const struct cose_key *key, const uint8_t *payload, size_t len, struct lwm2m_buf *plain,
		struct lwm2m_error *err);

#endif
