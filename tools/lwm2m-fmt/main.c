/* lwm2m-fmt: decode, encode and convert LwM2M payloads.
 *
 *   lwm2m-fmt decode  --format CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]
 *   lwm2m-fmt encode  --format CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]
 *   lwm2m-fmt convert --from CF --to CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]
 *
 * Exit status: 0 done, 1 invalid input (one line on stderr saying what and at which byte),
 * 2 bad command line. */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/model.h"
#include "objects/node_json.h"
#include "objects/path.h"

#define PROG "lwm2m-fmt"
#define MAX_INPUT (64u << 20)

enum command { CMD_DECODE, CMD_ENCODE, CMD_CONVERT };

struct options {
	enum command cmd;
	int from, to;                 /* content formats; -1 = not given */
	bool has_path;
	struct lwm2m_path path;
	enum lwm2m_type type;         /* LWM2M_TYPE_NONE = not given */
	const char *objects_dir;
	const char *file;             /* NULL or "-" = stdin */
	bool hex;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " decode  --format CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]\n"
		"       " PROG " encode  --format CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]\n"
		"       " PROG " convert --from CF --to CF [--path P] [--type T] [--objects DIR] [--hex] [FILE]\n"
		"\n"
		"decode   reads a payload and prints its values as a JSON node array:\n"
		"         [{\"path\":\"/3/0/0\",\"type\":\"string\",\"value\":\"...\"}, ...]\n"
		"         (link-format prints {\"links\":[{\"uri\":..,\"attributes\":[..]}]})\n"
		"encode   reads that JSON and writes the payload to standard output\n"
		"convert  reads a payload in one format and writes it in another\n"
		"\n"
		"CF       a content-format number (11542) or name: text, link, opaque, cbor,\n"
		"         senml-json, senml-cbor, senml-etch-json, senml-etch-cbor, tlv, oma-json,\n"
		"         lwm2m-cbor\n"
		"--path   the request path the payload answers (default /)\n"
		"--type   the type of the values under --path (string, integer, unsigned, float,\n"
		"         boolean, opaque, time, objlnk, corelnk), for TLV and plain text of\n"
		"         resources the object model does not know; without --path, every such value\n"
		"--objects  also load the OMA object definition files (*.xml) of DIR\n"
		"--hex    binary payloads are read and written as hex text\n"
		"FILE     the input (default: standard input)\n"
		"\n"
		"Exit status: 0 success, 1 invalid input, 2 usage error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return TOOL_USAGE;
}

static int parse_cf(const char *s, int *out)
{
	int cf = fmt_cf_parse(s);

	if(cf < 0 || cf > 65535) return usage_error("unknown content format '%s'", s);
	*out = cf;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 't'},
		{"path", required_argument, NULL, 'p'},
		{"type", required_argument, NULL, 'T'},
		{"objects", required_argument, NULL, 'o'},
		{"hex", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->from = o->to = -1;
	if(argc < 2) return usage_error("%s", "missing command (decode, encode or convert)");
	cmd = argv[1];
	if(!strcmp(cmd, "--help") || !strcmp(cmd, "-h")){
		usage(stdout);
		return -1;
	}
	if(!strcmp(cmd, "decode")) o->cmd = CMD_DECODE;
	else if(!strcmp(cmd, "encode")) o->cmd = CMD_ENCODE;
	else if(!strcmp(cmd, "convert")) o->cmd = CMD_CONVERT;
	else return usage_error("unknown command '%s'", cmd);

	optind = 2;
	opterr = 0;
	while((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1){
		switch(c){
			case 'f':
				if(o->cmd == CMD_CONVERT) return usage_error("%s", "convert takes --from and --to");
				if((rc = parse_cf(optarg, &o->from)) != 0) return rc;
				break;
			case 'F':
				if(o->cmd != CMD_CONVERT) return usage_error("%s", "--from is for convert; use --format");
				if((rc = parse_cf(optarg, &o->from)) != 0) return rc;
				break;
			case 't':
				if(o->cmd != CMD_CONVERT) return usage_error("%s", "--to is for convert; use --format");
				if((rc = parse_cf(optarg, &o->to)) != 0) return rc;
				break;
			case 'p': {
				struct lwm2m_error err = {0};
				if(path_parse(optarg, strlen(optarg), &o->path, &err) != 0)
					return usage_error("invalid --path '%s'", optarg);
				o->has_path = true;
				break;
			}
			case 'T':
				o->type = lwm2m_type_from_name(optarg);
				if(o->type == LWM2M_TYPE_NONE) return usage_error("unknown --type '%s'", optarg);
				break;
			case 'o':
				o->objects_dir = optarg;
				break;
			case 'x':
				o->hex = true;
				break;
			case 'h':
				usage(stdout);
				return -1;
			case ':':
				return usage_error("option '%s' needs a value", argv[optind - 1]);
			default:
				return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if(o->from < 0){
		return usage_error("%s", o->cmd == CMD_CONVERT ? "convert needs --from" :
				"missing --format");
	}
	if(o->cmd == CMD_CONVERT && o->to < 0) return usage_error("%s", "convert needs --to");
	if(optind < argc) o->file = argv[optind++];
	if(optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- input and output ---- */

static int read_input(const char *file, struct lwm2m_buf *in)
{
	FILE *f = stdin;
	uint8_t chunk[65536];
	size_t n;

	if(file && strcmp(file, "-") != 0){
		f = fopen(file, "rb");
		if(!f){
			fprintf(stderr, PROG ": cannot open %s: %s\n", file, strerror(errno));
			return TOOL_FAILED;
		}
	}
	while((n = fread(chunk, 1, sizeof(chunk), f)) > 0){
		if(buf_append(in, chunk, n) != 0){
			fprintf(stderr, PROG ": input larger than %u bytes\n", MAX_INPUT);
			if(f != stdin) fclose(f);
			return TOOL_FAILED;
		}
	}
	if(ferror(f)){
		fprintf(stderr, PROG ": cannot read %s\n", f == stdin ? "standard input" : file);
		if(f != stdin) fclose(f);
		return TOOL_FAILED;
	}
	if(f != stdin) fclose(f);
	return 0;
}

static int write_output(const uint8_t *p, size_t len)
{
	if((len && fwrite(p, 1, len, stdout) != len) || fflush(stdout) != 0){
		fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
		return TOOL_FAILED;
	}
	return 0;
}

/* The one line that says what was wrong with the input. */
static int input_error(const char *what, const struct lwm2m_error *err)
{
	if(err->has_offset) fprintf(stderr, PROG ": %s at byte %zu: %s\n", what, err->offset, err->msg);
	else fprintf(stderr, PROG ": %s: %s\n", what, err->msg);
	return TOOL_FAILED;
}

static bool is_text_format(int cf)
{
	return cf == LWM2M_CF_TEXT || cf == LWM2M_CF_LINK || cf == LWM2M_CF_SENML_JSON ||
		cf == LWM2M_CF_SENML_ETCH_JSON || cf == LWM2M_CF_OMA_JSON;
}

/* The payload bytes of the input: as read, or from hex text with --hex. */
static int payload_of(const struct options *o, struct lwm2m_buf *raw, struct lwm2m_buf *payload)
{
	struct lwm2m_error err = {0};

	if(!o->hex || is_text_format(o->from)){
		*payload = *raw;
		buf_init(raw, 0);
		return 0;
	}
	if(hex_decode((const char *)raw->data, raw->len, payload, &err) != 0)
		return input_error("invalid hex input", &err);
	return 0;
}

static int emit_payload(const struct options *o, int cf, const struct lwm2m_buf *out)
{
	struct lwm2m_buf hex;
	int rc;

	if(!o->hex || is_text_format(cf)) return write_output(out->data, out->len);
	buf_init(&hex, 0);
	if(hex_encode(out->data, out->len, &hex) != 0){
		buf_free(&hex);
		fprintf(stderr, PROG ": out of memory\n");
		return TOOL_FAILED;
	}
	rc = write_output(hex.data, hex.len);
	buf_free(&hex);
	return rc;
}

/* ---- the object model ---- */

static void on_load_report(void *ctx, enum obj_load_event ev, const char *file,
		unsigned long line, const char *msg)
{
	const char *dir = ctx;

	if(ev == OBJ_LOAD_FAILED) fprintf(stderr, PROG ": warning: %s/%s:%lu: %s\n", dir, file, line, msg);
}

static int load_model(const struct options *o, struct obj_registry **reg,
		struct obj_hint_typer *ht)
{
	*reg = obj_registry_new();
	if(!*reg){
		fprintf(stderr, PROG ": out of memory\n");
		return TOOL_FAILED;
	}
	if(o->objects_dir){
		size_t loaded, failed;
		if(obj_registry_load_dir(*reg, o->objects_dir, on_load_report, (void *)o->objects_dir,
					&loaded, &failed) != 0){
			fprintf(stderr, PROG ": cannot read the objects directory %s\n", o->objects_dir);
			return TOOL_FAILED;
		}
	}
	obj_hint_typer_init(ht, *reg);
	if(o->type != LWM2M_TYPE_NONE){
		if(o->has_path) return obj_hint_typer_add(ht, &o->path, o->type) == 0 ? 0 : TOOL_FAILED;
		obj_hint_typer_set_default(ht, o->type);
	}
	return 0;
}

/* ---- nodes as JSON text ---- */

/* The node array, one node per line. */
static int nodes_to_text(const struct lwm2m_nodes *nodes, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	json_t *arr = NULL;
	int rc = node_json_from_nodes(nodes, &arr, err);

	if(rc != 0) return rc;
	rc = buf_append_byte(out, '[');
	for(size_t i = 0; rc == 0 && i < json_array_size(arr); i++){
		char *line = json_dumps(json_array_get(arr, i), JSON_PRESERVE_ORDER);
		if(!line){
			rc = lwm2m_fail(err, LWM2M_ENOMEM, -1, "node %zu cannot be written as JSON", i);
			break;
		}
		rc = buf_printf(out, "%s\n  %s", i ? "," : "", line);
		free(line);
	}
	if(rc == 0) rc = buf_printf(out, "%s]\n", json_array_size(arr) ? "\n" : "");
	json_decref(arr);
	if(rc != 0 && err && !err->msg[0]) lwm2m_fail(err, rc, -1, "out of memory");
	return rc;
}

static int nodes_from_text(const char *text, size_t len, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	int rc;

	if(!root) return lwm2m_fail(err, LWM2M_EINVAL, jerr.position, "%s", jerr.text);
	if(!json_is_array(root)){
		json_decref(root);
		return lwm2m_fail(err, LWM2M_EINVAL, 0, "expected a JSON array of nodes");
	}
	rc = node_json_to_nodes(root, out, err);
	json_decref(root);
	return rc;
}

/* ---- commands ---- */

static int decode_links(const struct lwm2m_buf *payload)
{
	struct lwm2m_error err = {0};
	struct lf_links links = {0};
	struct lwm2m_buf out;
	int rc;

	if(lf_parse((const char *)payload->data, payload->len, NULL, &links, &err) != 0)
		return input_error("invalid link-format", &err);
	buf_init(&out, 0);
	rc = links_to_json(&links, &out, &err);
	lf_links_free(&links);
	if(rc != 0) rc = input_error("cannot print the links", &err);
	else rc = write_output(out.data, out.len);
	buf_free(&out);
	return rc;
}

static int encode_links(const struct options *o, const struct lwm2m_buf *json)
{
	struct lwm2m_error err = {0};
	struct lf_links links = {0};
	struct lwm2m_buf out;
	int rc;

	if(links_from_json((const char *)json->data, json->len, &links, &err) != 0)
		return input_error("invalid links JSON", &err);
	buf_init(&out, 0);
	rc = lf_format(&links, &out);
	lf_links_free(&links);
	if(rc != 0){
		buf_free(&out);
		fprintf(stderr, PROG ": these links cannot be written as link-format\n");
		return TOOL_FAILED;
	}
	rc = emit_payload(o, LWM2M_CF_LINK, &out);
	buf_free(&out);
	return rc;
}

static const struct lwm2m_path *req_path(const struct options *o)
{
	return o->has_path ? &o->path : NULL;
}

static int cmd_decode(const struct options *o, const struct lwm2m_buf *payload,
		const struct fmt_typer *typer)
{
	struct lwm2m_error err = {0};
	struct lwm2m_nodes nodes;
	struct lwm2m_buf out;
	int rc;

	if(o->from == LWM2M_CF_LINK) return decode_links(payload);
	nodes_init(&nodes);
	if(fmt_decode((uint16_t)o->from, payload->data, payload->len, req_path(o), typer, NULL,
				&nodes, &err) != 0){
		nodes_free(&nodes);
		return input_error("invalid payload", &err);
	}
	buf_init(&out, 0);
	rc = nodes_to_text(&nodes, &out, &err);
	nodes_free(&nodes);
	if(rc != 0) rc = input_error("cannot print the nodes", &err);
	else rc = write_output(out.data, out.len);
	buf_free(&out);
	return rc;
}

static int cmd_encode(const struct options *o, const struct lwm2m_buf *json,
		const struct fmt_typer *typer)
{
	struct lwm2m_error err = {0};
	struct lwm2m_nodes nodes;
	struct lwm2m_buf out;
	int rc;

	if(o->from == LWM2M_CF_LINK) return encode_links(o, json);
	nodes_init(&nodes);
	if(nodes_from_text((const char *)json->data, json->len, &nodes, &err) != 0){
		nodes_free(&nodes);
		return input_error("invalid node JSON", &err);
	}
	buf_init(&out, 0);
	rc = fmt_encode((uint16_t)o->from, &nodes, req_path(o), typer, NULL, &out, &err);
	nodes_free(&nodes);
	if(rc != 0) rc = input_error("cannot encode", &err);
	else rc = emit_payload(o, o->from, &out);
	buf_free(&out);
	return rc;
}

static int cmd_convert(const struct options *o, const struct lwm2m_buf *payload,
		const struct fmt_typer *typer)
{
	struct lwm2m_error err = {0};
	struct lwm2m_buf out;
	int rc;

	if(o->from == LWM2M_CF_LINK || o->to == LWM2M_CF_LINK){
		struct lf_links links = {0};
		if(o->from != o->to){
			fprintf(stderr, PROG ": link-format converts only to link-format\n");
			return TOOL_FAILED;
		}
		if(lf_parse((const char *)payload->data, payload->len, NULL, &links, &err) != 0)
			return input_error("invalid link-format", &err);
		buf_init(&out, 0);
		rc = lf_format(&links, &out);
		lf_links_free(&links);
		rc = rc == 0 ? emit_payload(o, o->to, &out) : TOOL_FAILED;
		buf_free(&out);
		return rc;
	}
	buf_init(&out, 0);
	rc = fmt_convert((uint16_t)o->from, (uint16_t)o->to, payload->data, payload->len,
			req_path(o), typer, NULL, &out, &err);
	if(rc != 0) rc = input_error("cannot convert", &err);
	else rc = emit_payload(o, o->to, &out);
	buf_free(&out);
	return rc;
}

static int run(const struct options *o)
{
	struct obj_registry *reg = NULL;
	struct obj_hint_typer ht;
	struct fmt_typer typer;
	struct lwm2m_buf raw, payload;
	int rc;

	buf_init(&raw, MAX_INPUT);
	buf_init(&payload, 0);
	obj_hint_typer_init(&ht, NULL);
	rc = read_input(o->file, &raw);
	if(rc == 0) rc = load_model(o, &reg, &ht);
	if(rc == 0){
		typer = obj_hint_typer_get(&ht);
		switch(o->cmd){
			case CMD_DECODE:
				rc = payload_of(o, &raw, &payload);
				if(rc == 0) rc = cmd_decode(o, &payload, &typer);
				break;
			case CMD_ENCODE:
				rc = cmd_encode(o, &raw, &typer);
				break;
			case CMD_CONVERT:
				rc = payload_of(o, &raw, &payload);
				if(rc == 0) rc = cmd_convert(o, &payload, &typer);
				break;
		}
	}
	obj_hint_typer_free(&ht);
	obj_registry_free(reg);
	buf_free(&raw);
	buf_free(&payload);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);

	if(rc < 0) return TOOL_OK;        /* --help */
	if(rc > 0) return rc;
	return run(&o);
}
