#include "access.h"
#include "../binding/mqtt_codec.h"

#include <string.h>

#define MAX_LEVELS 6

struct levels {
	const char *p[MAX_LEVELS];
	size_t len[MAX_LEVELS];
	size_t n;          /* levels found, capped at MAX_LEVELS */
	bool more;         /* there were more than MAX_LEVELS */
};

static void split(const char *topic, struct levels *lv)
{
	const char *s = topic;
	memset(lv, 0, sizeof(*lv));
	for(;;){
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if(lv->n == MAX_LEVELS){
			lv->more = true;
			return;
		}
		lv->p[lv->n] = s;
		lv->len[lv->n] = len;
		lv->n++;
		if(!slash) return;
		s = slash + 1;
	}
}

static bool level_is(const struct levels *lv, size_t i, const char *s)
{
	return i < lv->n && lv->len[i] == strlen(s) && memcmp(lv->p[i], s, lv->len[i]) == 0;
}

static bool prefix_allowed(const struct lwm2m_config *cfg, const char *p, size_t len)
{
	for(size_t i = 0; i < cfg->n_prefixes; i++){
		if(strlen(cfg->prefixes[i]) == len && memcmp(cfg->prefixes[i], p, len) == 0) return true;
	}
	return false;
}

/* Whether the topic or filter lies in the plugin's namespace: "lwm2m/..." when plain topics
 * are allowed, "{allowed prefix}/lwm2m/..." and "+/lwm2m/...". */
static bool is_mine(const struct lwm2m_config *cfg, const struct levels *lv)
{
	if(level_is(lv, 0, "lwm2m")) return true;
	if(!level_is(lv, 1, "lwm2m")) return false;
	return level_is(lv, 0, "+") || prefix_allowed(cfg, lv->p[0], lv->len[0]);
}

static enum access_verdict deny(const char **why, const char *reason)
{
	if(why) *why = reason;
	return ACCESS_DENY;
}

static bool owns_endpoint(const struct lwm2m_config *cfg, const char *identity,
		const char *ep, size_t ep_len)
{
	/* A wildcard is never an endpoint, even for a client whose identity is "+" or "#". */
	if(ep_len == 1 && (ep[0] == '+' || ep[0] == '#')) return false;
	if(cfg->identity == CONF_IDENTITY_ANY) return true;
	return identity && strlen(identity) == ep_len && memcmp(identity, ep, ep_len) == 0;
}

static enum access_verdict check_topic(const struct lwm2m_config *cfg, const char *identity,
		const char *topic, const char **why)
{
	struct mqtt_topic t;

	if(mqtt_topic_parse(topic, strlen(topic), &t, NULL) != 0){
		return deny(why, "not a valid LwM2M topic ([prefix/]lwm2m/{rd,bs}/{endpoint})");
	}
	if(!mqtt_prefix_allowed(t.prefix, t.has_prefix, (const char *const *)cfg->prefixes,
				cfg->n_prefixes, cfg->allow_no_prefix)){
		return deny(why, "topic prefix not allowed");
	}
	if(!owns_endpoint(cfg, identity, (const char *)t.endpoint.ptr, t.endpoint.len)){
		return deny(why, "endpoint is not the client's own");
	}
	return ACCESS_ALLOW;
}

/* Devices may subscribe to their own topic, also with a '+' in place of the prefix. */
static enum access_verdict check_filter(const struct lwm2m_config *cfg, const char *identity,
		const char *filter, const struct levels *lv, const char **why)
{
	size_t base = level_is(lv, 0, "lwm2m") ? 0 : 1;

	if(cfg->identity == CONF_IDENTITY_ANY) return ACCESS_ALLOW;
	if(lv->more || lv->n != base + 3) return deny(why, "only the device's own LwM2M topic may be subscribed");
	if(!level_is(lv, base + 1, "rd") && !level_is(lv, base + 1, "bs")){
		return deny(why, "only the device's own LwM2M topic may be subscribed");
	}
	if(base == 1 && level_is(lv, 0, "+")){
		if(!owns_endpoint(cfg, identity, lv->p[3], lv->len[3])){
			return deny(why, "endpoint is not the client's own");
		}
		return ACCESS_ALLOW;
	}
	return check_topic(cfg, identity, filter, why);
}

enum access_verdict access_check(const struct lwm2m_config *cfg, const char *identity,
		const char *topic, enum access_kind kind, bool retain, const char **why)
{
	struct levels lv;

	if(!topic) return ACCESS_NOT_MINE;
	split(topic, &lv);
	if(!is_mine(cfg, &lv)) return ACCESS_NOT_MINE;

	switch(kind){
		case ACCESS_WRITE:
			if(retain) return deny(why, "retained messages are not allowed on LwM2M topics");
			return check_topic(cfg, identity, topic, why);
		case ACCESS_READ:
			return check_topic(cfg, identity, topic, why);
		case ACCESS_SUBSCRIBE:
			return check_filter(cfg, identity, topic, &lv, why);
		case ACCESS_UNSUBSCRIBE:
			return ACCESS_ALLOW;
	}
	return deny(why, "unknown access");
}
