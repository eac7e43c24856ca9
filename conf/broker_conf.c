#include "broker_conf.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *s)
{
	while(*s == ' ' || *s == '\t') s++;
	return s;
}

/* Copies the first word of s into word; returns the rest after it, spaces skipped. */
static const char *first_word(const char *s, char *word, size_t size)
{
	size_t n = 0;
	s = skip_space(s);
	while(*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n'){
		if(n + 1 < size) word[n++] = *s;
		s++;
	}
	word[n] = '\0';
	return skip_space(s);
}

static bool value_is(const char *rest, const char *v)
{
	size_t n = strlen(v);
	return !strncmp(rest, v, n) && (rest[n] == '\0' || rest[n] == ' ' || rest[n] == '\t'
			|| rest[n] == '\r' || rest[n] == '\n');
}

/* Whether a plugin line names this plugin: the same file once links are resolved (it may
 * be installed under any name), or, when the file cannot be resolved, the same name. */
static bool is_own_plugin(const char *value, const char *own_plugin)
{
	char path[4096], real[PATH_MAX];
	size_t n = strcspn(value, "\r\n");
	const char *own_base, *base;

	if(!own_plugin) return false;
	while(n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
	if(n == 0 || n >= sizeof(path)) return false;
	memcpy(path, value, n);
	path[n] = '\0';
	if(realpath(path, real) && !strcmp(real, own_plugin)) return true;
	own_base = strrchr(own_plugin, '/');
	own_base = own_base ? own_base + 1 : own_plugin;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strcmp(base, own_base);
}

void broker_conf_scan_line(struct broker_facts *f, const char *line, const char *own_plugin)
{
	char word[64];
	const char *rest = first_word(line, word, sizeof(word));

	if(word[0] == '#' || word[0] == '\0') return;
	if(!strcmp(word, "per_listener_settings")){
		f->per_listener_settings = value_is(rest, "true");
	}else if(!strcmp(word, "acl_file")){
		f->acl_file = true;
	}else if(!strcmp(word, "password_file") || !strcmp(word, "psk_file")){
		f->password_file = true;
	}else if(!strcmp(word, "allow_anonymous")){
		if(value_is(rest, "true")) f->allow_anonymous_true = true;
	}else if(!strcmp(word, "plugin") || !strcmp(word, "auth_plugin")){
		if(!is_own_plugin(rest, own_plugin)) f->other_plugin = true;
	}
}

static int scan_dir(struct broker_facts *f, const char *dir, const char *own_plugin,
		struct lwm2m_error *err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;

	if(n < 0) return lwm2m_fail(err, LWM2M_ENOENT, -1, "include_dir %s: cannot read it", dir);
	for(int i = 0; i < n; i++){
		size_t len = strlen(names[i]->d_name);
		if(rc == 0 && len > 5 && !strcmp(names[i]->d_name + len - 5, ".conf")){
			char path[4096 + 256 + 2];
			if(snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int)sizeof(path)){
				rc = broker_conf_scan_file(f, path, own_plugin, err);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int broker_conf_scan_file(struct broker_facts *f, const char *path, const char *own_plugin,
		struct lwm2m_error *err)
{
	char line[4096];
	FILE *fp = fopen(path, "r");
	int rc = 0;

	if(!fp) return lwm2m_fail(err, LWM2M_ENOENT, -1, "%s: cannot open it", path);
	f->files_read++;
	while(rc == 0 && fgets(line, sizeof(line), fp)){
		char word[64];
		const char *rest = first_word(line, word, sizeof(word));
		if(!strcmp(word, "include_dir") && f->files_read < 256){
			char dir[4096];
			size_t n = strcspn(rest, "\r\n");
			snprintf(dir, sizeof(dir), "%.*s", (int)n, rest);
			rc = scan_dir(f, dir, own_plugin, err);
		}else{
			broker_conf_scan_line(f, line, own_plugin);
		}
	}
	fclose(fp);
	return rc;
}

bool broker_conf_path_of_self(char *buf, size_t size)
{
	char args[8192];
	FILE *fp = fopen("/proc/self/cmdline", "rb");
	size_t n, i = 0;
	bool next_is_path = false;

	if(!fp) return false;
	n = fread(args, 1, sizeof(args) - 1, fp);
	fclose(fp);
	args[n] = '\0';
	while(i < n){
		const char *arg = args + i;
		if(next_is_path){
			snprintf(buf, size, "%s", arg);
			return true;
		}
		next_is_path = !strcmp(arg, "-c") || !strcmp(arg, "--config-file");
		i += strlen(arg) + 1;
	}
	return false;
}
