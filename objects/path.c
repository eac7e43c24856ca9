/* LwM2M numeric paths: parse, format, compare. */
#include "path.h"

#include <stdio.h>
#include <string.h>

/* Reads one decimal ID starting at s[*pos]; stops at '/' or the end. */
static int parse_id(const char *s, size_t len, size_t *pos, uint16_t *id,
		struct lwm2m_error *err)
{
	size_t start = *pos;
	uint32_t v = 0;

	while(*pos < len && s[*pos] != '/'){
		char c = s[*pos];
		if(c < '0' || c > '9'){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)*pos,
					"path: unexpected character 0x%02x in an ID", (unsigned char)c);
		}
		v = v * 10u + (uint32_t)(c - '0');
		if(v > LWM2M_ID_MAX){
			return lwm2m_fail(err, LWM2M_ERANGE, (long)start,
					"path: ID at byte %zu is above %u", start, LWM2M_ID_MAX);
		}
		(*pos)++;
	}
	if(*pos == start){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)start, "path: empty segment at byte %zu", start);
	}
	*id = (uint16_t)v;
	return 0;
}

int path_parse(const char *s, size_t len, struct lwm2m_path *out, struct lwm2m_error *err)
{
	struct lwm2m_path p = { 0 };
	size_t pos = 0;
	int rc;

	if(!s && len) return lwm2m_fail(err, LWM2M_EINVAL, -1, "path: no text");
	/* The leading '/' is optional: Zephyr and some MQTT peers write "3/0/1". */
	if(pos < len && s[pos] == '/') pos++;
	while(pos < len){
		if(p.len == LWM2M_PATH_MAX_DEPTH){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)pos,
					"path: more than %d levels", LWM2M_PATH_MAX_DEPTH);
		}
		rc = parse_id(s, len, &pos, &p.ids[p.len], err);
		if(rc) return rc;
		p.len++;
		if(pos == len) break;
		pos++;                       /* the '/' after an ID */
		/* one trailing '/' is tolerated: "/3/0/" */
		if(pos == len) break;
	}
	*out = p;
	return 0;
}

size_t path_format(const struct lwm2m_path *p, char *buf, size_t size)
{
	size_t n = 0;
	int w;

	if(!buf || size == 0) return 0;
	buf[0] = '\0';
	if(p->len == 0){
		if(size > 1){
			buf[0] = '/';
			buf[1] = '\0';
			return 1;
		}
		return 0;
	}
	for(uint8_t i = 0; i < p->len && i < LWM2M_PATH_MAX_DEPTH; i++){
		w = snprintf(buf + n, size - n, "/%u", (unsigned)p->ids[i]);
		if(w < 0 || (size_t)w >= size - n){
			buf[0] = '\0';        /* too small: no partial path that would name another node */
			return 0;
		}
		n += (size_t)w;
	}
	return n;
}

bool path_starts_with(const struct lwm2m_path *p, const struct lwm2m_path *prefix)
{
	if(prefix->len > p->len) return false;
	for(uint8_t i = 0; i < prefix->len; i++){
		if(p->ids[i] != prefix->ids[i]) return false;
	}
	return true;
}

int path_compare(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	uint8_t n = a->len < b->len ? a->len : b->len;

	for(uint8_t i = 0; i < n; i++){
		if(a->ids[i] != b->ids[i]) return a->ids[i] < b->ids[i] ? -1 : 1;
	}
	if(a->len != b->len) return a->len < b->len ? -1 : 1;
	return 0;
}
