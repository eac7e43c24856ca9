#include "validate.h"
#include "../objects/link_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint16_t validate_version(const char *v, size_t len)
{
	size_t i = 0, major_digits = 0, minor_digits = 0;
	unsigned long major = 0, minor = 0;

	while(i < len && v[i] >= '0' && v[i] <= '9' && major_digits < 6){
		major = major * 10 + (unsigned long)(v[i++] - '0');
		major_digits++;
	}
	if(major_digits == 0 || i >= len || v[i] != '.') return 400;
	i++;
	while(i < len && v[i] >= '0' && v[i] <= '9' && minor_digits < 6){
		minor = minor * 10 + (unsigned long)(v[i++] - '0');
		minor_digits++;
	}
	if(minor_digits == 0 || i != len) return 400;
	return (major == 1 && minor <= 2) ? 0 : 412;
}

bool validate_binding(const char *b, size_t len)
{
	unsigned seen = 0;
	if(len == 0) return false;
	for(size_t i = 0; i < len; i++){
		const char *pos = memchr("UMHTSNQ", b[i], 7);
		unsigned bit;
		if(!pos || b[i] == '\0') return false;
		bit = 1u << (pos - "UMHTSNQ");
		if(seen & bit) return false;
		seen |= bit;
	}
	return true;
}

static bool copy_field(char *dst, size_t size, struct lwm2m_view v)
{
	if(v.len >= size || memchr(v.ptr, '\0', v.len)) return false;
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
	return true;
}

static uint16_t fail(char *why, size_t size, uint16_t code, const char *msg)
{
	snprintf(why, size, "%s", msg);
	return code;
}

static uint16_t check_lifetime(const struct lwm2m_op *op, const struct lwm2m_config *cfg,
		char *why, size_t size)
{
	if(op->lifetime > UINT32_MAX){
		snprintf(why, size, "lifetime %" PRIu64 " s is above %u s", op->lifetime, UINT32_MAX);
		return 400;
	}
	/* Lifetime 0 means "never expires"; the minimum applies to every other value. */
	if(op->lifetime != 0 && op->lifetime < cfg->min_lifetime_s){
		snprintf(why, size, "lifetime %" PRIu64 " s is below the minimum %u s", op->lifetime,
				cfg->min_lifetime_s);
		return 400;
	}
	if(cfg->max_lifetime_s && (op->lifetime == 0 || op->lifetime > cfg->max_lifetime_s)){
		snprintf(why, size, "lifetime %" PRIu64 " s is above the maximum %u s", op->lifetime,
				cfg->max_lifetime_s);
		return 400;
	}
	return 0;
}

static uint16_t check_links(const struct lwm2m_op *op, char *why, size_t size)
{
	struct lf_object_list list;
	struct lwm2m_error err;

	if(lf_parse_object_list((const char *)op->payload.ptr, op->payload.len, &list, &err) != 0){
		snprintf(why, size, "object list: %s", err.msg);
		return 400;
	}
	lf_object_list_free(&list);
	return 0;
}

uint16_t validate_registration(const struct lwm2m_op *op, bool is_update,
		const struct lwm2m_config *cfg, struct reg_strings *out, char *why, size_t size)
{
	uint16_t code;

	memset(out, 0, sizeof(*out));
	if(op->fields & LWM2M_F_VERSION){
		if(!copy_field(out->version, sizeof(out->version), op->version)){
			return fail(why, size, 400, "malformed lwm2m version");
		}
		code = validate_version(out->version, strlen(out->version));
		if(code == 400) return fail(why, size, 400, "malformed lwm2m version");
		if(code == 412){
			snprintf(why, size, "lwm2m version %s is not supported (1.0, 1.1, 1.2 are)", out->version);
			return 412;
		}
	}
	if(op->fields & LWM2M_F_BINDING){
		if(!copy_field(out->binding, sizeof(out->binding), op->binding)
				|| !validate_binding(out->binding, strlen(out->binding))){
			return fail(why, size, 400, "binding must be letters of U M H T S N Q, each once");
		}
	}
	if((op->fields & LWM2M_F_SMS) && !copy_field(out->sms, sizeof(out->sms), op->sms)){
		return fail(why, size, 400, "sms number too long");
	}
	if(op->fields & LWM2M_F_LIFETIME){
		code = check_lifetime(op, cfg, why, size);
		if(code) return code;
	}else if(!is_update){
		return fail(why, size, 400, "Register without lifetime");
	}
	if(!is_update && !(op->fields & LWM2M_F_VERSION)){
		return fail(why, size, 400, "Register without lwm2m version");
	}
	if(op->fields & LWM2M_F_PAYLOAD){
		code = check_links(op, why, size);
		if(code) return code;
	}
	return 0;
}
