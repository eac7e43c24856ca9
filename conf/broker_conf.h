/* What the plugin needs to know about the broker's own configuration, which the plugin
 * API does not tell: read from the mosquitto.conf the broker was started with. */
#ifndef CONF_BROKER_CONF_H
#define CONF_BROKER_CONF_H

#include <stdbool.h>

#include "../util/lwm2m_err.h"

struct broker_facts {
	bool per_listener_settings;   /* "per_listener_settings true" */
	bool acl_file;                /* an acl_file line */
	bool password_file;           /* a password_file or psk_file line */
	bool other_plugin;            /* a plugin/auth_plugin line for another library */
	bool allow_anonymous_true;    /* "allow_anonymous true" anywhere */
	unsigned files_read;
};

/* Scan one line of mosquitto.conf (no trailing newline needed). own_plugin: the resolved
 * path of this plugin's file (or its file name), so its own plugin line is not counted. */
void broker_conf_scan_line(struct broker_facts *f, const char *line, const char *own_plugin);

/* Scan a config file and the include_dir folders it names. */
int broker_conf_scan_file(struct broker_facts *f, const char *path, const char *own_plugin,
		struct lwm2m_error *err);

/* The -c argument of this process (from /proc/self/cmdline) into buf; false if none. */
bool broker_conf_path_of_self(char *buf, size_t size);

#endif
