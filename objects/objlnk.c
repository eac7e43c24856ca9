/* Objlnk text form. Strict on purpose: every known client writes exactly "oid:iid". */
#include "objlnk.h"

#include <stdio.h>

static int parse_half(const char *s, size_t from, size_t to, const char *which, uint16_t *out,
		struct lwm2m_error *err)
{
	uint32_t v = 0;

	if(from == to){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)from, "objlnk: missing %s ID", which);
	}
	for(size_t i = from; i < to; i++){
		if(s[i] < '0' || s[i] > '9'){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)i,
					"objlnk: unexpected byte 0x%02x at %zu", (unsigned char)s[i], i);
		}
		v = v * 10u + (uint32_t)(s[i] - '0');
		if(v > 65535u){
			return lwm2m_fail(err, LWM2M_ERANGE, (long)from, "objlnk: %s ID above 65535", which);
		}
	}
	*out = (uint16_t)v;
	return 0;
}

int objlnk_parse(const char *s, size_t len, uint16_t *obj, uint16_t *inst,
		struct lwm2m_error *err)
{
	size_t colon = 0;
	uint16_t o = 0, i = 0;   /* set by parse_half on success; -O3 cannot see it */
	int rc;

	if(len && !s) return lwm2m_fail(err, LWM2M_EINVAL, -1, "objlnk: no text");
	while(colon < len && s[colon] != ':') colon++;
	if(colon == len) return lwm2m_fail(err, LWM2M_EINVAL, -1, "objlnk: expected \"object:instance\"");
	rc = parse_half(s, 0, colon, "object", &o, err);
	if(!rc) rc = parse_half(s, colon + 1, len, "instance", &i, err);
	if(rc) return rc;
	*obj = o;
	*inst = i;
	return 0;
}

size_t objlnk_format(uint16_t obj, uint16_t inst, char *buf, size_t size)
{
	int n;

	if(!buf || size == 0) return 0;
	n = snprintf(buf, size, "%u:%u", (unsigned)obj, (unsigned)inst);
	if(n < 0 || (size_t)n >= size){
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
