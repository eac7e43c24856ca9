/* Checks on what a device asks for, returning the LwM2M result code to answer with. Pure. */
#ifndef CORE_VALIDATE_H
#define CORE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../binding/op.h"
#include "../conf/options.h"

/* NUL-terminated copies of a Register/Update's short text fields ("" when absent). */
struct reg_strings {
	char version[16];
	char binding[16];
	char sms[64];
};

/* 0 when the Register (or Update) in op is acceptable, else the result code (400, 412)
 * with the reason in why. */
uint16_t validate_registration(const struct lwm2m_op *op, bool is_update,
		const struct lwm2m_config *cfg, struct reg_strings *out, char *why, size_t why_size);

/* 0 for an LwM2M enabler version this server supports (1.0, 1.1, 1.2), 400 for a malformed
 * one, 412 for a well-formed unsupported one. */
uint16_t validate_version(const char *v, size_t len);

/* A binding string made of the letters U M H T S N Q, each at most once. */
bool validate_binding(const char *b, size_t len);

#endif
