/* Who may publish, receive and subscribe on LwM2M topics. Pure; called on the broker
 * thread from the ACL callback. */
#ifndef CORE_ACCESS_H
#define CORE_ACCESS_H

#include <stdbool.h>

#include "../conf/options.h"

enum access_kind {
	ACCESS_READ = 0,
	ACCESS_WRITE,
	ACCESS_SUBSCRIBE,
	ACCESS_UNSUBSCRIBE,
};

enum access_verdict {
	ACCESS_NOT_MINE = 0,   /* not an LwM2M topic of this plugin: let the broker decide */
	ACCESS_ALLOW,
	ACCESS_DENY,
};

/* identity: the endpoint name the client is bound to (NULL when it has none).
 * *why is set to a static reason on ACCESS_DENY. */
enum access_verdict access_check(const struct lwm2m_config *cfg, const char *identity,
		const char *topic, enum access_kind kind, bool retain, const char **why);

#endif
