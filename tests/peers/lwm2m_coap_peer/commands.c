/* JSON-line commands from stdin. Every command except "request" (answered by a "response"
 * event) and "list" (a "list" event) is acknowledged by {"event":"ok","cmd":NAME} once it
 * took effect, or answered by {"event":"error",...}. */
#include "peer.h"

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (64u << 20)

static void ok(const char *cmd)
{
	emit(json_pack("{s:s, s:s}", "event", "ok", "cmd", cmd));
}

static void cmd_list(struct peer *p, const json_t *cmd)
{
	emit(json_pack("{s:s, s:o}", "event", "list", "registrations", rd_list(p)));
}

static void cmd_forget(struct peer *p, const json_t *cmd)
{
	const json_t *ep = json_object_get(cmd, "ep");
	if(ep && !json_is_string(ep)){
		emit_error(NULL, "forget: ep must be a string");
		return;
	}
	rd_forget(p, json_string_value(ep));
	ok("forget");
}

static void cmd_refuse_version(struct peer *p, const json_t *cmd)
{
	json_t *versions = json_object_get(cmd, "versions");
	size_t i;
	json_t *v;
	if(!json_is_array(versions)){
		emit_error(NULL, "refuse_version: versions must be a list of strings");
		return;
	}
	json_array_foreach(versions, i, v){
		if(!json_is_string(v)){
			emit_error(NULL, "refuse_version: versions must be a list of strings");
			return;
		}
	}
	json_decref(p->refused_versions);
	p->refused_versions = json_deep_copy(versions);
	ok("refuse_version");
}

static void cmd_refuse_register(struct peer *p, const json_t *cmd)
{
	const json_t *code = json_object_get(cmd, "code");
	coap_pdu_code_t c = 0;
	if(code && !json_is_null(code) && parse_code(code, &c) != 0){
		emit_error(NULL, "refuse_register: code must be like \"4.03\" (or null to accept again)");
		return;
	}
	p->refuse_code = c;
	ok("refuse_register");
}

static void cmd_pause(struct peer *p, const json_t *cmd)
{
	const json_t *ms = json_object_get(cmd, "ms");
	if(!json_is_integer(ms) || json_integer_value(ms) < 0){
		emit_error(NULL, "pause: ms must be a non-negative integer");
		return;
	}
	json_int_t n = json_integer_value(ms);
	p->paused_until_ms = n ? now_ms() + (uint64_t)n : 0;
	ok("pause");
}

static void cmd_quit(struct peer *p, const json_t *cmd)
{
	p->quit = 1;
	ok("quit");
}

struct command {
	const char *name;
	void (*run)(struct peer *p, const json_t *cmd);
};

static const struct command commands[] = {
	{"request", req_command},
	{"rst_next_notify", req_rst_next},
	{"cancel_observe", req_cancel_observe},
	{"list", cmd_list},
	{"forget", cmd_forget},
	{"refuse_version", cmd_refuse_version},
	{"refuse_register", cmd_refuse_register},
	{"pause", cmd_pause},
	{"quit", cmd_quit},
};

static void run_line(struct peer *p, const char *line, size_t len)
{
	json_error_t err;
	while(len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')){
		len--;
	}
	if(len == 0){
		return;
	}
	json_t *cmd = json_loadb(line, len, 0, &err);
	if(!json_is_object(cmd)){
		emit_error(NULL, "not a JSON object: %s", cmd ? "other JSON value" : err.text);
		json_decref(cmd);
		return;
	}
	const char *name = json_string_value(json_object_get(cmd, "cmd"));
	for(size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++){
		if(strcmp(name, commands[i].name) == 0){
			commands[i].run(p, cmd);
			json_decref(cmd);
			return;
		}
	}
	emit_error(NULL, "unknown command %s", name ? name : "(no \"cmd\")");
	json_decref(cmd);
}

static int append(struct peer *p, const char *data, size_t n)
{
	if(p->line_len + n > LINE_MAX_BYTES){
		return -1;
	}
	if(p->line_len + n > p->line_cap){
		size_t cap = (p->line_len + n) * 2;
		char *grown = realloc(p->line, cap);
		if(!grown){
			return -1;
		}
		p->line = grown;
		p->line_cap = cap;
	}
	memcpy(p->line + p->line_len, data, n);
	p->line_len += n;
	return 0;
}

/* Bytes from stdin: run every complete line, keep the rest. */
void commands_feed(struct peer *p, const char *data, size_t len)
{
	while(len && !p->quit){
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if(!p->line_dropped && append(p, data, take) != 0){
			p->line_dropped = 1;
			p->line_len = 0;
		}
		if(!nl){
			return;
		}
		if(p->line_dropped){
			emit_error(NULL, "command line dropped: longer than %u bytes or out of memory",
				LINE_MAX_BYTES);
		}else{
			run_line(p, p->line, p->line_len);
		}
		p->line_dropped = 0;
		p->line_len = 0;
		data = nl + 1;
		len -= take + 1;
	}
}
