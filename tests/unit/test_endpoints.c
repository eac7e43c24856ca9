/* The endpoints file (conf/endpoints.c): every schema rule accepted and refused with its
 * message, lookup precedence, typing of each resource type against the built-in objects,
 * the bootstrap node trees going through the data formats, loading from a file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/endpoints.h"
#include "objects/fmt.h"
#include "objects/model.h"

/* ---------- fixtures ---------- */

struct fixture {
	struct obj_registry *model;
	char dir[64];                 /* temporary folder with credential files */
	char cert[128], key[128], ca[128], unreadable[128];
};

static struct fixture fx;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* A float and a TIME resource with ranges, to test what the core objects do not have. */
static const char extra_xml[] =
	"<LWM2M><Object ObjectType=\"MODefinition\"><Name>Extra</Name>\n"
	"<ObjectID>32769</ObjectID><MultipleInstances>Multiple</MultipleInstances>\n"
	"<Mandatory>Optional</Mandatory><Resources>\n"
	"<Item ID=\"0\"><Name>F</Name><Operations>RW</Operations><MultipleInstances>Single"
	"</MultipleInstances><Mandatory>Optional</Mandatory><Type>Float</Type>"
	"<RangeEnumeration>-1.5..2.5</RangeEnumeration></Item>\n"
	"<Item ID=\"1\"><Name>T</Name><Operations>RW</Operations><MultipleInstances>Single"
	"</MultipleInstances><Mandatory>Optional</Mandatory><Type>Time</Type></Item>\n"
	"<Item ID=\"2\"><Name>I</Name><Operations>RW</Operations><MultipleInstances>Single"
	"</MultipleInstances><Mandatory>Optional</Mandatory><Type>Integer</Type>"
	"<RangeEnumeration>1,5,10..12</RangeEnumeration></Item>\n"
	"<Item ID=\"3\"><Name>F2</Name><Operations>RW</Operations><MultipleInstances>Multiple"
	"</MultipleInstances><Mandatory>Optional</Mandatory><Type>Float</Type></Item>\n"
	"</Resources></Object></LWM2M>\n";

static int setup(void **state)
{
	struct lwm2m_error err;
	(void)state;

	fx.model = obj_registry_new();
	if(!fx.model) return -1;
	if(obj_registry_load_xml(fx.model, extra_xml, strlen(extra_xml), "extra.xml", &err) != 0){
		print_error("%s\n", err.msg);
		return -1;
	}
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_endpoints.XXXXXX");
	if(!mkdtemp(fx.dir)) return -1;
	snprintf(fx.cert, sizeof(fx.cert), "%s/cert.pem", fx.dir);
	snprintf(fx.key, sizeof(fx.key), "%s/key.pem", fx.dir);
	snprintf(fx.ca, sizeof(fx.ca), "%s/ca.pem", fx.dir);
	snprintf(fx.unreadable, sizeof(fx.unreadable), "%s/secret.pem", fx.dir);
	write_file(fx.cert, "-----BEGIN CERTIFICATE-----\n");
	write_file(fx.key, "-----BEGIN PRIVATE KEY-----\n");
	write_file(fx.ca, "-----BEGIN CERTIFICATE-----\n");
	write_file(fx.unreadable, "x");
	return chmod(fx.unreadable, 0);
}

static int teardown(void **state)
{
	const char *files[] = { fx.cert, fx.key, fx.ca, fx.unreadable };
	(void)state;

	for(size_t i = 0; i < 4; i++) unlink(files[i]);
	rmdir(fx.dir);
	obj_registry_free(fx.model);
	return 0;
}

/* ---------- helpers ---------- */

/* JSON written with ' for " (none of the tests needs a real '). */
static char *json_of(const char *text)
{
	char *s = strdup(text);

	assert_non_null(s);
	for(char *p = s; *p; p++) if(*p == '\'') *p = '"';
	return s;
}

static struct endpoints *parse(const char *text, struct lwm2m_error *err)
{
	char *s = json_of(text);
	struct endpoints *eps = endpoints_parse(s, strlen(s), "t.json", fx.model, err);

	free(s);
	return eps;
}

static struct endpoints *parse_ok(const char *text)
{
	struct lwm2m_error err = { 0 };
	struct endpoints *eps = parse(text, &err);

	if(!eps) fail_msg("refused: %s", err.msg);
	return eps;
}

/* The document with one entry "dev-1" whose body is `entry`. */
static char *doc1(const char *entry)
{
	static const char head[] = "{'endpoints': {'dev-1': ";
	char *s = malloc(strlen(head) + strlen(entry) + 3);

	assert_non_null(s);
	sprintf(s, "%s%s}}", head, entry);
	return s;
}

/* `text` is refused with `code` and exactly `msg`. */
static void refused_exactly(const char *text, int code, const char *msg)
{
	struct lwm2m_error err = { 0 };
	struct endpoints *eps = parse(text, &err);

	if(eps){
		endpoints_free(eps);
		fail_msg("accepted: %s", text);
	}
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.code, code);
}

/* The entry `entry` of "dev-1" is refused with `code` and a message ending with `tail`
 * after the common "endpoints file t.json: entry "dev-1": ". */
static void entry_refused(const char *entry, int code, const char *tail)
{
	char *d = doc1(entry);
	char msg[1024];

	snprintf(msg, sizeof(msg), "endpoints file t.json: entry \"dev-1\": %s", tail);
	refused_exactly(d, code, msg);
	free(d);
}

static struct endpoints *entry_ok(const char *entry)
{
	char *d = doc1(entry);
	struct endpoints *eps = parse_ok(d);

	free(d);
	return eps;
}

/* The write `w` has the node `path` with value type `t`; returns it. */
static const struct lwm2m_node *node_at(const struct endpoint_write *w, const char *path,
		enum lwm2m_type t)
{
	struct lwm2m_path p;

	assert_int_equal(path_parse(path, strlen(path), &p, NULL), 0);
	for(size_t i = 0; i < w->nodes.count; i++){
		const struct lwm2m_node *n = &w->nodes.items[i];
		if(path_compare(&n->path, &p) == 0){
			assert_int_equal(n->value.type, t);
			return n;
		}
	}
	fail_msg("no node %s", path);
	return NULL;
}

static void assert_path(const struct lwm2m_path *p, const char *text)
{
	char buf[LWM2M_PATH_STR_MAX];

	assert_true(path_format(p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, text);
}

/* An entry writing one resource of /0/1. */
#define W(res, val) "{'bootstrap': {'write': {'/0/1': {'" res "': " val "}}}}"

/* One write in "dev-1"'s bootstrap: {"<path>": {<res>}}. */
static const struct endpoint_write *only_write(const struct endpoints *eps)
{
	const struct endpoint_conf *c = endpoints_find(eps, "dev-1");

	assert_non_null(c);
	assert_int_equal(c->bootstrap.write_count, 1);
	return &c->bootstrap.writes[0];
}

/* ---------- the example of the documentation ---------- */

static const char full_example[] =
	"{'endpoints': {\n"
	" 'dev-1': {\n"
	"  'upstream': {'psk': {'identity': 'dev-1', 'key': 'hex:00112233aAbBcCdD'}},\n"
	"  'http': {'url': 'http://127.0.0.1:9000/'},\n"
	"  'bootstrap': {\n"
	"   'delete': ['/0', '/1'],\n"
	"   'write': {\n"
	"    '/0/1': {'0': 'coap://127.0.0.1:5683', '1': false, '2': 3, '10': 1},\n"
	"    '/1/1': {'0': 1, '1': 300, '7': 'M'},\n"
	"    '/24/0': {'6': 'dev1client', '5': 60, '8': {'base64': 'cGFzcw=='}},\n"
	"    '/23/0': {'0': 'kid', '1': 10, '2': 'secret'}\n"
	"   },\n"
	"   'discover': true,\n"
	"   'read': ['/1'],\n"
	"   'format': 'senml-cbor'\n"
	"  }\n"
	" },\n"
	" 'sensor-*': {'upstream': {'psk': {'key': 'text:shared'}}},\n"
	" '*': {}\n"
	"}}";

static void test_full_example(void **state)
{
	static const uint8_t key[] = { 0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb, 0xcc, 0xdd };
	struct endpoints *eps = parse_ok(full_example);
	const struct endpoint_conf *c;
	const struct endpoint_bootstrap *bs;
	const struct lwm2m_node *n;
	(void)state;

	assert_int_equal(endpoints_count(eps), 3);
	c = endpoints_find(eps, "dev-1");
	assert_ptr_equal(c, endpoints_at(eps, 0));
	assert_string_equal(c->name, "dev-1");
	assert_int_equal(c->match, ENDPOINT_MATCH_EXACT);
	assert_int_equal(c->upstream.kind, ENDPOINT_CRED_PSK);
	assert_string_equal(c->upstream.psk_identity, "dev-1");
	assert_int_equal(c->upstream.psk_key_len, sizeof(key));
	assert_memory_equal(c->upstream.psk_key, key, sizeof(key));
	assert_string_equal(c->http.url, "http://127.0.0.1:9000");
	assert_null(c->http.identity);

	bs = &c->bootstrap;
	assert_true(bs->present);
	assert_true(bs->discover);
	assert_int_equal(bs->format, LWM2M_CF_SENML_CBOR);
	assert_int_equal(bs->delete_count, 2);
	assert_path(&bs->deletes[0], "/0");
	assert_path(&bs->deletes[1], "/1");
	assert_int_equal(bs->read_count, 1);
	assert_path(&bs->reads[0], "/1");
	assert_int_equal(bs->write_count, 4);
	/* File order kept. */
	assert_path(&bs->writes[0].path, "/0/1");
	assert_path(&bs->writes[1].path, "/1/1");
	assert_path(&bs->writes[2].path, "/24/0");
	assert_path(&bs->writes[3].path, "/23/0");

	assert_int_equal(bs->writes[0].nodes.count, 4);
	n = node_at(&bs->writes[0], "/0/1/0", LWM2M_TYPE_STRING);
	assert_string_equal((const char *)n->value.v.bytes.data, "coap://127.0.0.1:5683");
	assert_int_equal(n->value.v.bytes.len, strlen("coap://127.0.0.1:5683"));
	assert_false(node_at(&bs->writes[0], "/0/1/1", LWM2M_TYPE_BOOLEAN)->value.v.b);
	assert_int_equal(node_at(&bs->writes[0], "/0/1/2", LWM2M_TYPE_INTEGER)->value.v.i, 3);
	assert_int_equal(node_at(&bs->writes[0], "/0/1/10", LWM2M_TYPE_INTEGER)->value.v.i, 1);
	/* Sorted by path although "10" came after "2" only by accident of writing. */
	assert_int_equal(bs->writes[0].nodes.items[3].path.ids[2], 10);

	assert_int_equal(node_at(&bs->writes[1], "/1/1/1", LWM2M_TYPE_INTEGER)->value.v.i, 300);
	n = node_at(&bs->writes[1], "/1/1/7", LWM2M_TYPE_STRING);
	assert_string_equal((const char *)n->value.v.bytes.data, "M");
	assert_int_equal(node_at(&bs->writes[2], "/24/0/5", LWM2M_TYPE_UNSIGNED)->value.v.u, 60);
	n = node_at(&bs->writes[2], "/24/0/8", LWM2M_TYPE_OPAQUE);
	assert_int_equal(n->value.v.bytes.len, 4);
	assert_memory_equal(n->value.v.bytes.data, "pass", 4);
	/* /23/0/2 is typed String in the object (E.10). */
	n = node_at(&bs->writes[3], "/23/0/2", LWM2M_TYPE_STRING);
	assert_string_equal((const char *)n->value.v.bytes.data, "secret");

	c = endpoints_find(eps, "sensor-7");
	assert_non_null(c);
	assert_string_equal(c->name, "sensor-*");
	assert_int_equal(c->match, ENDPOINT_MATCH_PREFIX);
	assert_null(c->upstream.psk_identity);
	assert_string_equal(endpoint_psk_identity(c, "sensor-7"), "sensor-7");
	assert_memory_equal(c->upstream.psk_key, "shared", 6);
	assert_int_equal(c->upstream.psk_key_len, 6);
	assert_false(c->bootstrap.present);
	assert_int_equal(c->bootstrap.format, -1);
	assert_null(c->http.url);

	c = endpoints_find(eps, "other");
	assert_non_null(c);
	assert_int_equal(c->match, ENDPOINT_MATCH_DEFAULT);
	assert_int_equal(c->upstream.kind, ENDPOINT_CRED_NONE);
	assert_string_equal(endpoint_psk_identity(endpoints_find(eps, "dev-1"), "x"), "dev-1");
	assert_null(endpoints_at(eps, 3));
	endpoints_free(eps);
}

/* ---------- lookup ---------- */

static void test_lookup_precedence(void **state)
{
	struct endpoints *eps = parse_ok("{'endpoints': {'*': {}, 'd*': {}, 'dev-*': {},"
		" 'dev-1*': {}, 'dev-1': {}, 'a!*': {}, 'a*': {}, 'a-*': {}}}");
	struct endpoints *no_default = parse_ok("{'endpoints': {'dev-*': {}, 'x': {}}}");
	struct endpoints *empty = parse_ok("{'endpoints': {}}");
	static const char *const cases[][2] = {
		{"dev-1", "dev-1"},      /* exact beats every pattern */
		{"dev-10", "dev-1*"},    /* longest prefix */
		{"dev-2", "dev-*"},
		{"dev-", "dev-*"},       /* '*' matches nothing too */
		{"dev", "d*"},
		{"d", "d*"},
		{"x", "*"},
		{"", "*"},
		{"a", "a*"},
		{"a!b", "a!*"},          /* '!' sorts below '*': the index must still find it */
		{"a-b", "a-*"},
		{"ab", "a*"},
		{"DEV-1", "*"},          /* names are case-sensitive */
	};
	(void)state;

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		const struct endpoint_conf *c = endpoints_find(eps, cases[i][0]);
		assert_non_null(c);
		if(strcmp(c->name, cases[i][1]) != 0){
			fail_msg("\"%s\" found \"%s\", expected \"%s\"", cases[i][0], c->name, cases[i][1]);
		}
	}
	assert_null(endpoints_find(no_default, "other"));
	assert_null(endpoints_find(no_default, "de"));
	assert_string_equal(endpoints_find(no_default, "x")->name, "x");
	assert_null(endpoints_find(no_default, "xy"));
	assert_null(endpoints_find(empty, "x"));
	assert_int_equal(endpoints_count(empty), 0);
	assert_null(endpoints_find(NULL, "x"));
	assert_int_equal(endpoints_count(NULL), 0);
	endpoints_free(eps);
	endpoints_free(no_default);
	endpoints_free(empty);
	endpoints_free(NULL);
}

/* Many patterns: the index answers as a plain scan for the longest prefix would. */
static void test_lookup_many_patterns(void **state)
{
	static const char alphabet[] = "a!-_.b0z~";
	char json[16384] = "{'endpoints': {";
	char names[200][8];
	size_t n = 0;
	struct endpoints *eps;
	(void)state;

	for(size_t i = 0; i < 9; i++){
		for(size_t k = 0; k < 9 && n < 200; k += 2){
			for(size_t m = 0; m < 3 && n < 200; m++){
				int len = snprintf(names[n], sizeof(names[n]), "%c%c%.*s*", alphabet[i],
						alphabet[k], (int)m, "xyz");
				assert_true(len > 0);
				strcat(json, n ? ", '" : "'");
				strcat(json, names[n]);
				strcat(json, "': {}");
				n++;
			}
		}
	}
	strcat(json, "}}");
	eps = parse_ok(json);
	for(size_t i = 0; i < 9; i++){
		for(size_t k = 0; k < 9; k++){
			for(size_t m = 0; m < 4; m++){
				char ep[8];
				const char *best = NULL;
				const struct endpoint_conf *c;

				snprintf(ep, sizeof(ep), "%c%c%.*s", alphabet[i], alphabet[k], (int)m, "xyzq");
				for(size_t p = 0; p < n; p++){
					size_t plen = strlen(names[p]) - 1;
					if(strncmp(ep, names[p], plen) == 0 && (!best || plen > strlen(best) - 1)){
						best = names[p];
					}
				}
				c = endpoints_find(eps, ep);
				if(!best){
					assert_null(c);
					continue;
				}
				assert_non_null(c);
				assert_string_equal(c->name, best);
			}
		}
	}
	endpoints_free(eps);
}

/* ---------- document and entry rules ---------- */

static void test_document_rules(void **state)
{
	struct lwm2m_error err = { 0 };
	(void)state;

	refused_exactly("{'endpoint': {}}", LWM2M_EINVAL, "endpoints file t.json: unknown key \"endpoint\"");
	refused_exactly("{}", LWM2M_EINVAL, "endpoints file t.json: \"endpoints\" is missing");
	refused_exactly("{'endpoints': []}", LWM2M_ETYPE,
			"endpoints file t.json: endpoints: expected an object");
	refused_exactly("[]", LWM2M_ETYPE, "endpoints file t.json: expected an object");
	/* Duplicate keys are a JSON error (the later one would silently win otherwise). */
	assert_null(parse("{'endpoints': {'a': {}, 'a': {}}}", &err));
	assert_non_null(strstr(err.msg, "endpoints file t.json: line 1 column"));
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_int_equal(err.code, LWM2M_EINVAL);
	/* Syntax errors say where. */
	assert_null(parse("{'endpoints':\n {'a': {,}}}", &err));
	assert_non_null(strstr(err.msg, "endpoints file t.json: line 2 column"));
	/* The offset counts the bytes read: the stray ',' (byte 22) included. */
	assert_true(err.has_offset);
	assert_int_equal(err.offset, 23);
	/* Integers beyond 64 bits are refused by the JSON reader. */
	assert_null(parse("{'endpoints': {'a': {'bootstrap': {'write': {'/1/0': {'1': "
			"99999999999999999999}}}}}}", &err));
	assert_non_null(strstr(err.msg, "integer"));
	/* The model is required. */
	assert_null(endpoints_parse("{}", 2, "t.json", NULL, &err));
	assert_string_equal(err.msg, "endpoints file t.json: no object model");
	/* Without an error report too. */
	assert_null(endpoints_parse("{", 1, "t.json", fx.model, NULL));
}

static void test_entry_names(void **state)
{
	struct lwm2m_error err = { 0 };
	char long_name[300];
	char json[400];
	struct endpoints *eps;
	(void)state;

	refused_exactly("{'endpoints': {'a/b': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"a/b\": '/', '+' and '#' cannot be in an endpoint name");
	refused_exactly("{'endpoints': {'a+': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"a+\": '/', '+' and '#' cannot be in an endpoint name");
	refused_exactly("{'endpoints': {'#': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"#\": '/', '+' and '#' cannot be in an endpoint name");
	refused_exactly("{'endpoints': {'a*b': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"a*b\": bad pattern: '*' may only end a name");
	refused_exactly("{'endpoints': {'**': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"**\": bad pattern: '*' may only end a name");
	refused_exactly("{'endpoints': {'$SYS': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"$SYS\": endpoint names cannot start with '$'");
	refused_exactly("{'endpoints': {'': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"\": endpoint names are 1..255 bytes");
	refused_exactly("{'endpoints': {'a\\tb': {}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"a?b\": control character in the name");
	refused_exactly("{'endpoints': {'a': []}}", LWM2M_ETYPE,
			"endpoints file t.json: entry \"a\": expected an object");
	refused_exactly("{'endpoints': {'a': {'boot': {}}}}", LWM2M_EINVAL,
			"endpoints file t.json: entry \"a\": unknown key \"boot\"");

	/* 255 bytes are fine, 256 are not; the message shortens the name. */
	memset(long_name, 'n', 255);
	long_name[255] = '\0';
	snprintf(json, sizeof(json), "{'endpoints': {'%s': {}}}", long_name);
	eps = parse_ok(json);
	assert_non_null(endpoints_find(eps, long_name));
	endpoints_free(eps);
	strcat(long_name, "n");
	snprintf(json, sizeof(json), "{'endpoints': {'%s': {}}}", long_name);
	assert_null(parse(json, &err));
	assert_string_equal(err.msg, "endpoints file t.json: entry "
			"\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\": endpoint names are 1..255 bytes");

	/* Spaces and UTF-8 are allowed in names (MQTT topic levels may carry them). */
	eps = parse_ok("{'endpoints': {'caf\xc3\xa9 1': {}}}");
	assert_non_null(endpoints_find(eps, "caf\xc3\xa9 1"));
	endpoints_free(eps);
}

/* ---------- upstream ---------- */

static void test_upstream_psk(void **state)
{
	struct endpoints *eps;
	const struct endpoint_conf *c;
	char entry[256];
	(void)state;

	eps = entry_ok("{'upstream': {'psk': {'identity': 'id', 'key': 'base64:AAEC/w=='}}}");
	c = endpoints_find(eps, "dev-1");
	assert_int_equal(c->upstream.psk_key_len, 4);
	assert_memory_equal(c->upstream.psk_key, "\x00\x01\x02\xff", 4);
	endpoints_free(eps);

	entry_refused("{'upstream': {}}", LWM2M_EINVAL,
			"upstream: expected exactly one of \"psk\", \"x509\", \"rpk\"");
	entry_refused("{'upstream': 'psk'}", LWM2M_ETYPE, "upstream: expected an object");
	entry_refused("{'upstream': {'pks': {}}}", LWM2M_EINVAL, "upstream: unknown key \"pks\"");
	entry_refused("{'upstream': {'psk': {'key': 'text:a'}, 'rpk': {}}}", LWM2M_EINVAL,
			"upstream: expected exactly one of \"psk\", \"x509\", \"rpk\"");
	entry_refused("{'upstream': {'psk': {'identity': 'x'}}}", LWM2M_EINVAL,
			"upstream.psk: \"key\" is missing");
	entry_refused("{'upstream': {'psk': {'key': 'text:a', 'id': 'x'}}}", LWM2M_EINVAL,
			"upstream.psk: unknown key \"id\"");
	entry_refused("{'upstream': {'psk': {'key': '0011'}}}", LWM2M_EINVAL,
			"upstream.psk.key: expected \"hex:..\", \"base64:..\" or \"text:..\"");
	entry_refused("{'upstream': {'psk': {'key': 17}}}", LWM2M_ETYPE,
			"upstream.psk.key: expected \"hex:..\", \"base64:..\" or \"text:..\"");
	entry_refused("{'upstream': {'psk': {'key': 'hex:001'}}}", LWM2M_EINVAL,
			"upstream.psk.key: bad hex");
	entry_refused("{'upstream': {'psk': {'key': 'hex:0g'}}}", LWM2M_EINVAL,
			"upstream.psk.key: bad hex");
	entry_refused("{'upstream': {'psk': {'key': 'base64:AAE'}}}", LWM2M_EINVAL,
			"upstream.psk.key: bad base64");
	entry_refused("{'upstream': {'psk': {'key': 'base64:AAF='}}}", LWM2M_EINVAL,
			"upstream.psk.key: bad base64");       /* non-zero unused bits */
	entry_refused("{'upstream': {'psk': {'key': 'hex:'}}}", LWM2M_ERANGE,
			"upstream.psk.key: 0 bytes, expected 1..64");
	entry_refused("{'upstream': {'psk': {'key': 'text:a', 'identity': ''}}}", LWM2M_ERANGE,
			"upstream.psk.identity: 0 bytes, expected 1..64");
	entry_refused("{'upstream': {'psk': {'key': 'text:a', 'identity': 5}}}", LWM2M_ETYPE,
			"upstream.psk.identity: expected a string");

	/* 64 key bytes are fine, 65 are not. */
	strcpy(entry, "{'upstream': {'psk': {'key': 'hex:");
	for(int i = 0; i < 64; i++) strcat(entry, "ab");
	strcat(entry, "'}}}");
	eps = entry_ok(entry);
	assert_int_equal(endpoints_find(eps, "dev-1")->upstream.psk_key_len, 64);
	endpoints_free(eps);
	strcpy(entry + strlen(entry) - 4, "ab'}}}");
	entry_refused(entry, LWM2M_ERANGE, "upstream.psk.key: 65 bytes, expected 1..64");
}

static void test_upstream_files(void **state)
{
	char entry[1024], tail[512];
	struct endpoints *eps;
	const struct endpoint_conf *c;
	(void)state;

	snprintf(entry, sizeof(entry), "{'upstream': {'x509': {'cert': '%s', 'key': '%s', "
			"'ca': '%s'}}}", fx.cert, fx.key, fx.ca);
	eps = entry_ok(entry);
	c = endpoints_find(eps, "dev-1");
	assert_int_equal(c->upstream.kind, ENDPOINT_CRED_X509);
	assert_string_equal(c->upstream.cert_file, fx.cert);
	assert_string_equal(c->upstream.key_file, fx.key);
	assert_string_equal(c->upstream.ca_file, fx.ca);
	endpoints_free(eps);

	snprintf(entry, sizeof(entry), "{'upstream': {'x509': {'cert': '%s', 'key': '%s'}}}",
			fx.cert, fx.key);
	eps = entry_ok(entry);
	assert_null(endpoints_find(eps, "dev-1")->upstream.ca_file);
	endpoints_free(eps);

	snprintf(entry, sizeof(entry), "{'upstream': {'rpk': {'key': '%s'}}}", fx.key);
	eps = entry_ok(entry);
	c = endpoints_find(eps, "dev-1");
	assert_int_equal(c->upstream.kind, ENDPOINT_CRED_RPK);
	assert_string_equal(c->upstream.key_file, fx.key);
	assert_null(c->upstream.cert_file);
	endpoints_free(eps);

	snprintf(entry, sizeof(entry), "{'upstream': {'x509': {'cert': '%s'}}}", fx.cert);
	entry_refused(entry, LWM2M_EINVAL, "upstream.x509: \"key\" is missing");
	entry_refused("{'upstream': {'x509': {'cert': 'cert.pem', 'key': '/k'}}}", LWM2M_EINVAL,
			"upstream.x509.cert: expected an absolute file path");
	entry_refused("{'upstream': {'rpk': {'key': 3}}}", LWM2M_EINVAL,
			"upstream.rpk.key: expected an absolute file path");
	entry_refused("{'upstream': {'rpk': {'key': '/k', 'cert': '/c'}}}", LWM2M_EINVAL,
			"upstream.rpk: unknown key \"cert\"");
	entry_refused("{'upstream': {'rpk': {}}}", LWM2M_EINVAL, "upstream.rpk: \"key\" is missing");
	entry_refused("{'upstream': {'x509': {'cert': '/nonexistent/c.pem', 'key': '/k'}}}",
			LWM2M_ENOENT, "upstream.x509.cert: /nonexistent/c.pem: No such file or directory");
	snprintf(entry, sizeof(entry), "{'upstream': {'x509': {'cert': '%s', 'key': '%s'}}}",
			fx.cert, fx.dir);
	snprintf(tail, sizeof(tail), "upstream.x509.key: %s: not a regular file", fx.dir);
	entry_refused(entry, LWM2M_ENOENT, tail);
	snprintf(entry, sizeof(entry), "{'upstream': {'x509': {'cert': '%s', 'key': '%s', "
			"'ca': '/nonexistent'}}}", fx.cert, fx.key);
	entry_refused(entry, LWM2M_ENOENT, "upstream.x509.ca: /nonexistent: No such file or directory");
	/* A file the process may not read (root reads everything: nothing to check then). */
	if(geteuid() != 0){
		snprintf(entry, sizeof(entry), "{'upstream': {'rpk': {'key': '%s'}}}", fx.unreadable);
		snprintf(tail, sizeof(tail), "upstream.rpk.key: %s: Permission denied", fx.unreadable);
		entry_refused(entry, LWM2M_ENOENT, tail);
	}
}

/* ---------- http ---------- */

static void test_http(void **state)
{
	static const char *const good[][2] = {
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"https://dev.example:443/lwm2m/", "https://dev.example:443/lwm2m"},
		{"https://dev.example/a//", "https://dev.example/a"},
		{"http://[::1]:8080/", "http://[::1]:8080"},
		{"http://[fe80::1]", "http://[fe80::1]"},
		{"http://h", "http://h"},
	};
	static const char *const bad[] = {
		"ftp://h", "http://", "http://:80", "http://h:0", "http://h:65536", "http://h:",
		"http://h:8x", "http://u@h", "http://h/a?b=1", "http://h/#x", "http://h /",
		"http://[::1", "http://h:1:2", "HTTP://h", "http://h\xc3\xa9", "http://[::g]",
		"http://a:b@h",
	};
	char entry[256], tail[200];
	struct endpoints *eps;
	(void)state;

	for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++){
		snprintf(entry, sizeof(entry), "{'http': {'url': '%s'}}", good[i][0]);
		eps = entry_ok(entry);
		assert_string_equal(endpoints_find(eps, "dev-1")->http.url, good[i][1]);
		endpoints_free(eps);
	}
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		snprintf(entry, sizeof(entry), "{'http': {'url': '%s'}}", bad[i]);
		snprintf(tail, sizeof(tail), "http.url: \"%s\" is not http[s]://host[:port][/path]", bad[i]);
		entry_refused(entry, LWM2M_EINVAL, tail);
	}
	eps = entry_ok("{'http': {'url': 'https://h', 'identity': 'CN dev-1'}}");
	assert_string_equal(endpoints_find(eps, "dev-1")->http.identity, "CN dev-1");
	endpoints_free(eps);
	entry_refused("{'http': {}}", LWM2M_EINVAL, "http: \"url\" is missing");
	entry_refused("{'http': {'url': 8}}", LWM2M_ETYPE, "http.url: expected a string");
	entry_refused("{'http': {'url': 'http://h', 'tls': 1}}", LWM2M_EINVAL,
			"http: unknown key \"tls\"");
	entry_refused("{'http': {'url': 'http://h', 'identity': ''}}", LWM2M_ERANGE,
			"http.identity: 0 bytes, expected 1..255");
	entry_refused("{'http': 'http://h'}", LWM2M_ETYPE, "http: expected an object");
}

/* ---------- bootstrap: plan ---------- */

static void test_bootstrap_plan(void **state)
{
	struct endpoints *eps;
	const struct endpoint_bootstrap *bs;
	(void)state;

	eps = entry_ok("{'bootstrap': {'delete': ['/', '/0', '/0/1', '/3303/65535'], "
			"'read': ['/1', '/1/0', '/2', '/2/7'], 'discover': false, 'format': 11542}}");
	bs = &endpoints_find(eps, "dev-1")->bootstrap;
	assert_true(bs->present);
	assert_false(bs->discover);
	assert_int_equal(bs->format, LWM2M_CF_TLV);
	assert_int_equal(bs->delete_count, 4);
	assert_path(&bs->deletes[0], "/");
	assert_path(&bs->deletes[2], "/0/1");
	assert_path(&bs->deletes[3], "/3303/65535");
	assert_int_equal(bs->read_count, 4);
	assert_path(&bs->reads[3], "/2/7");
	assert_int_equal(bs->write_count, 0);
	endpoints_free(eps);

	eps = entry_ok("{'bootstrap': {}}");
	bs = &endpoints_find(eps, "dev-1")->bootstrap;
	assert_true(bs->present);
	assert_int_equal(bs->format, -1);
	assert_int_equal(bs->delete_count + bs->read_count + bs->write_count, 0);
	endpoints_free(eps);

	static const char *const formats[][2] = {
		{"'tlv'", "11542"}, {"'senml-json'", "110"}, {"'lwm2m-cbor'", "11544"}, {"112", "112"},
	};
	for(size_t i = 0; i < 4; i++){
		char entry[96];
		snprintf(entry, sizeof(entry), "{'bootstrap': {'format': %s}}", formats[i][0]);
		eps = entry_ok(entry);
		assert_int_equal(endpoints_find(eps, "dev-1")->bootstrap.format, atoi(formats[i][1]));
		endpoints_free(eps);
	}

	entry_refused("{'bootstrap': {'finish': true}}", LWM2M_EINVAL,
			"bootstrap: unknown key \"finish\"");
	entry_refused("{'bootstrap': []}", LWM2M_ETYPE, "bootstrap: expected an object");
	entry_refused("{'bootstrap': {'format': 'text'}}", LWM2M_EINVAL, "bootstrap.format: "
			"expected \"tlv\", \"senml-json\", \"senml-cbor\" or \"lwm2m-cbor\"");
	entry_refused("{'bootstrap': {'format': 'cbor'}}", LWM2M_EINVAL, "bootstrap.format: "
			"expected \"tlv\", \"senml-json\", \"senml-cbor\" or \"lwm2m-cbor\"");
	entry_refused("{'bootstrap': {'format': true}}", LWM2M_EINVAL, "bootstrap.format: "
			"expected \"tlv\", \"senml-json\", \"senml-cbor\" or \"lwm2m-cbor\"");
	entry_refused("{'bootstrap': {'discover': 1}}", LWM2M_ETYPE,
			"bootstrap.discover: expected a boolean");
	entry_refused("{'bootstrap': {'delete': '/0'}}", LWM2M_ETYPE,
			"bootstrap.delete: expected an array of paths");
	entry_refused("{'bootstrap': {'delete': [0]}}", LWM2M_ETYPE,
			"bootstrap.delete: item 0: expected a path string");
	entry_refused("{'bootstrap': {'delete': ['/0', '0/1']}}", LWM2M_EINVAL,
			"bootstrap.delete: bad path \"0/1\"");
	entry_refused("{'bootstrap': {'delete': ['/0/']}}", LWM2M_EINVAL,
			"bootstrap.delete: bad path \"/0/\"");
	entry_refused("{'bootstrap': {'delete': ['/0/01']}}", LWM2M_EINVAL,
			"bootstrap.delete: bad path \"/0/01\"");
	entry_refused("{'bootstrap': {'delete': ['/70000']}}", LWM2M_EINVAL,
			"bootstrap.delete: bad path \"/70000\"");
	entry_refused("{'bootstrap': {'delete': ['']}}", LWM2M_EINVAL,
			"bootstrap.delete: bad path \"\"");
	entry_refused("{'bootstrap': {'delete': ['/0/1/2']}}", LWM2M_EINVAL,
			"bootstrap.delete: \"/0/1/2\" is not /, /object or /object/instance");
	entry_refused("{'bootstrap': {'read': ['/3']}}", LWM2M_EINVAL,
			"bootstrap.read: \"/3\" is not /1, /1/instance, /2 or /2/instance");
	entry_refused("{'bootstrap': {'read': ['/']}}", LWM2M_EINVAL,
			"bootstrap.read: \"/\" is not /1, /1/instance, /2 or /2/instance");
	entry_refused("{'bootstrap': {'read': ['/1/0/1']}}", LWM2M_EINVAL,
			"bootstrap.read: \"/1/0/1\" is not /1, /1/instance, /2 or /2/instance");
}

/* ---------- bootstrap: writes and their typing ---------- */

static void test_write_paths(void **state)
{
	struct endpoints *eps;
	const struct endpoint_write *w;
	(void)state;

	entry_refused("{'bootstrap': {'write': []}}", LWM2M_ETYPE, "bootstrap.write: expected an object");
	entry_refused("{'bootstrap': {'write': {'/0': {}}}}", LWM2M_EINVAL,
			"bootstrap.write \"/0\": expected an object instance path /object/instance");
	entry_refused("{'bootstrap': {'write': {'/0/1/0': 'x'}}}", LWM2M_EINVAL,
			"bootstrap.write \"/0/1/0\": expected an object instance path /object/instance");
	entry_refused("{'bootstrap': {'write': {'0/1': {}}}}", LWM2M_EINVAL,
			"bootstrap.write: bad path \"0/1\"");
	entry_refused("{'bootstrap': {'write': {'/0/65535': {}}}}", LWM2M_ERANGE,
			"bootstrap.write \"/0/65535\": instance 65535 is reserved");
	entry_refused("{'bootstrap': {'write': {'/9999/0': {}}}}", LWM2M_ENOENT,
			"bootstrap.write \"/9999/0\": unknown object 9999");
	entry_refused("{'bootstrap': {'write': {'/3/1': {}}}}", LWM2M_ERANGE,
			"bootstrap.write \"/3/1\": object 3 (Device) is single-instance: use instance 0");
	entry_refused("{'bootstrap': {'write': {'/0/1': [1]}}}", LWM2M_ETYPE,
			"bootstrap.write \"/0/1\": expected an object of resources");
	entry_refused("{'bootstrap': {'write': {'/0/1': {'99': 1}}}}", LWM2M_ENOENT,
			"bootstrap.write \"/0/1\": object 0 (LWM2M Security) has no resource 99");
	entry_refused("{'bootstrap': {'write': {'/0/1': {'01': 1}}}}", LWM2M_EINVAL,
			"bootstrap.write \"/0/1\": bad resource id \"01\"");
	entry_refused("{'bootstrap': {'write': {'/0/1': {'x': 1}}}}", LWM2M_EINVAL,
			"bootstrap.write \"/0/1\": bad resource id \"x\"");
	entry_refused("{'bootstrap': {'write': {'/0/1': {'65536': 1}}}}", LWM2M_EINVAL,
			"bootstrap.write \"/0/1\": bad resource id \"65536\"");
	entry_refused("{'bootstrap': {'write': {'/1/0': {'4': null}}}}", LWM2M_EINVAL,
			"bootstrap.write \"/1/0\": resource 4 (Disable) is executable, not writable");

	/* The documented message, word for word. */
	{
		struct lwm2m_error err = { 0 };
		char *d = doc1("{'bootstrap': {'write': {'/0/1': {'1': 'yes'}}}}");
		char *s = json_of(d);

		assert_null(endpoints_parse(s, strlen(s), "/etc/x.json", fx.model, &err));
		assert_string_equal(err.msg, "endpoints file /etc/x.json: entry \"dev-1\": "
				"bootstrap.write \"/0/1\" resource 1: expected a boolean");
		assert_int_equal(err.code, LWM2M_ETYPE);
		free(s);
		free(d);
	}

	/* An instance without resources is one empty-instance node. */
	eps = entry_ok("{'bootstrap': {'write': {'/24/0': {}}}}");
	w = only_write(eps);
	assert_int_equal(w->nodes.count, 1);
	assert_int_equal(w->nodes.items[0].kind, LWM2M_NODE_EMPTY_INSTANCE);
	assert_path(&w->nodes.items[0].path, "/24/0");
	endpoints_free(eps);

	/* A single-instance object at instance 0 is fine; objects from XML files are known. */
	eps = entry_ok("{'bootstrap': {'write': {'/3/0': {'13': 0}, '/32769/4': {'0': 1}}}}");
	assert_int_equal(endpoints_find(eps, "dev-1")->bootstrap.write_count, 2);
	endpoints_free(eps);
}

static void test_write_scalar_types(void **state)
{
	struct endpoints *eps;
	const struct endpoint_write *w;
	const struct lwm2m_node *n;
	char entry[512];
	(void)state;

	eps = entry_ok("{'bootstrap': {'write': {'/0/2': {"
			"'0': 'coaps://h', '1': true, '2': 0, '3': {'hex': '0A0b'}, '4': {'text': 'id'},"
			"'5': {'base64': ''}, '13': 3, '17': '21:0', '11': -5, '12': 9223372036854775807}}}}");
	w = only_write(eps);
	assert_int_equal(w->nodes.count, 10);
	assert_true(node_at(w, "/0/2/1", LWM2M_TYPE_BOOLEAN)->value.v.b);
	assert_int_equal(node_at(w, "/0/2/2", LWM2M_TYPE_INTEGER)->value.v.i, 0);
	n = node_at(w, "/0/2/3", LWM2M_TYPE_OPAQUE);
	assert_int_equal(n->value.v.bytes.len, 2);
	assert_memory_equal(n->value.v.bytes.data, "\x0a\x0b", 2);
	n = node_at(w, "/0/2/4", LWM2M_TYPE_OPAQUE);
	assert_int_equal(n->value.v.bytes.len, 2);
	assert_memory_equal(n->value.v.bytes.data, "id", 2);
	assert_int_equal(node_at(w, "/0/2/5", LWM2M_TYPE_OPAQUE)->value.v.bytes.len, 0);
	assert_int_equal(node_at(w, "/0/2/13", LWM2M_TYPE_UNSIGNED)->value.v.u, 3);
	n = node_at(w, "/0/2/17", LWM2M_TYPE_OBJLNK);
	assert_int_equal(n->value.v.lnk.obj, 21);
	assert_int_equal(n->value.v.lnk.inst, 0);
	assert_int_equal(node_at(w, "/0/2/11", LWM2M_TYPE_INTEGER)->value.v.i, -5);
	assert_int_equal(node_at(w, "/0/2/12", LWM2M_TYPE_INTEGER)->value.v.i, INT64_MAX);
	endpoints_free(eps);

	/* Float and Time (object 32769 from XML), float written as an integer. */
	eps = entry_ok("{'bootstrap': {'write': {'/32769/0': {'0': -1.5, '1': 1700000000, '2': 11}}}}");
	w = only_write(eps);
	assert_true(node_at(w, "/32769/0/0", LWM2M_TYPE_FLOAT)->value.v.f == -1.5);
	assert_int_equal(node_at(w, "/32769/0/1", LWM2M_TYPE_TIME)->value.v.i, 1700000000);
	assert_int_equal(node_at(w, "/32769/0/2", LWM2M_TYPE_INTEGER)->value.v.i, 11);
	endpoints_free(eps);
	eps = entry_ok("{'bootstrap': {'write': {'/32769/0': {'0': 2}}}}");
	assert_true(node_at(only_write(eps), "/32769/0/0", LWM2M_TYPE_FLOAT)->value.v.f == 2.0);
	endpoints_free(eps);

	/* Corelnk (/26 Mapping Info). */
	eps = entry_ok("{'bootstrap': {'write': {'/26/0': {'0': 3303, '1': '</3303/0>;ver=1.1,</5>'}}}}");
	n = node_at(only_write(eps), "/26/0/1", LWM2M_TYPE_CORELNK);
	assert_string_equal((const char *)n->value.v.bytes.data, "</3303/0>;ver=1.1,</5>");
	endpoints_free(eps);

	/* Wrong types. */
	entry_refused(W("0", "5"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 0: expected a string");
	entry_refused(W("1", "0"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 1: expected a boolean");
	entry_refused(W("2", "'3'"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 2: expected an integer");
	entry_refused(W("2", "3.0"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 2: expected an integer");
	entry_refused(W("13", "true"), LWM2M_ETYPE,
			"bootstrap.write \"/0/1\" resource 13: expected an unsigned integer");
	entry_refused(W("3", "'00'"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 3: "
			"expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
	entry_refused(W("3", "{'hex': '00', 'text': 'a'}"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" "
			"resource 3: expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
	entry_refused(W("3", "{'bin': '00'}"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" "
			"resource 3: expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
	entry_refused(W("3", "{'hex': 0}"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" "
			"resource 3: expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
	entry_refused(W("3", "{'hex': 'abc'}"), LWM2M_EINVAL, "bootstrap.write \"/0/1\" resource 3: bad hex");
	entry_refused(W("3", "{'base64': 'a==='}"), LWM2M_EINVAL,
			"bootstrap.write \"/0/1\" resource 3: bad base64");
	entry_refused(W("3", "{'base64': 'AA=A'}"), LWM2M_EINVAL,
			"bootstrap.write \"/0/1\" resource 3: bad base64");
	entry_refused(W("17", "'21'"), LWM2M_ETYPE,
			"bootstrap.write \"/0/1\" resource 17: expected an object link \"object:instance\"");
	entry_refused(W("17", "'21:70000'"), LWM2M_ETYPE,
			"bootstrap.write \"/0/1\" resource 17: expected an object link \"object:instance\"");
	entry_refused(W("17", "[21, 0]"), LWM2M_ETYPE,
			"bootstrap.write \"/0/1\" resource 17: expected an object link \"object:instance\"");
	entry_refused(W("16", "1"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 16: "
			"multi-instance: expected an object of resource instances {\"0\": ..}");
	entry_refused(W("16", "[1]"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 16: "
			"multi-instance: expected an object of resource instances {\"0\": ..}");
	entry_refused(W("0", "null"), LWM2M_ETYPE, "bootstrap.write \"/0/1\" resource 0: expected a string");
	entry_refused("{'bootstrap': {'write': {'/32769/0': {'0': 'x'}}}}", LWM2M_ETYPE,
			"bootstrap.write \"/32769/0\" resource 0: expected a number");
	entry_refused("{'bootstrap': {'write': {'/32769/0': {'1': 1.5}}}}", LWM2M_ETYPE,
			"bootstrap.write \"/32769/0\" resource 1: expected an integer (seconds since 1970)");
	entry_refused("{'bootstrap': {'write': {'/26/0': {'1': 5}}}}", LWM2M_ETYPE,
			"bootstrap.write \"/26/0\" resource 1: expected a string (CoRE link format)");
	snprintf(entry, sizeof(entry), "{'bootstrap': {'write': {'/26/0': {'1': '</3/0'}}}}");
	{
		struct lwm2m_error err = { 0 };
		char *d = doc1(entry);
		assert_null(parse(d, &err));
		assert_non_null(strstr(err.msg, "bootstrap.write \"/26/0\" resource 1: not CoRE link format: "));
		assert_int_equal(err.code, LWM2M_EINVAL);
		free(d);
	}
}

static void test_write_ranges(void **state)
{
	char entry[600], big[300];
	struct endpoints *eps;
	(void)state;

	/* Integer ranges of the model: /0/2 0..4, /0/10 and /1/0 1..65534. */
	entry_refused(W("2", "5"), LWM2M_ERANGE, "bootstrap.write \"/0/1\" resource 2: 5 is out of range 0..4");
	entry_refused(W("2", "-1"), LWM2M_ERANGE, "bootstrap.write \"/0/1\" resource 2: -1 is out of range 0..4");
	entry_refused(W("10", "0"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 10: 0 is out of range 1..65534");
	entry_refused(W("10", "65535"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 10: 65535 is out of range 1..65534");
	eps = entry_ok(W("10", "65534"));
	endpoints_free(eps);
	/* Unsigned: below zero, and the /24 ranges. */
	entry_refused(W("13", "-1"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 13: -1 is below 0 (unsigned)");
	entry_refused(W("13", "4"), LWM2M_ERANGE, "bootstrap.write \"/0/1\" resource 13: 4 is out of range 0..3");
	entry_refused("{'bootstrap': {'write': {'/24/0': {'5': 65536}}}}", LWM2M_ERANGE,
			"bootstrap.write \"/24/0\" resource 5: 65536 is out of range 0..65535");
	/* Unsigned without a range: the whole int64 range JSON can carry. */
	eps = entry_ok("{'bootstrap': {'write': {'/1/0': {'14': 9223372036854775807}}}}");
	assert_int_equal(node_at(only_write(eps), "/1/0/14", LWM2M_TYPE_UNSIGNED)->value.v.u, INT64_MAX);
	endpoints_free(eps);
	/* Enumerations with lists: 1,5,10..12. */
	for(int v = -1; v <= 14; v++){
		struct lwm2m_error err = { 0 };
		char *d;
		bool allowed = v == 1 || v == 5 || (v >= 10 && v <= 12);

		snprintf(entry, sizeof(entry), "{'bootstrap': {'write': {'/32769/0': {'2': %d}}}}", v);
		d = doc1(entry);
		eps = parse(d, &err);
		free(d);
		if(allowed != (eps != NULL)) fail_msg("value %d: %s", v, eps ? "accepted" : err.msg);
		if(!eps) assert_int_equal(err.code, LWM2M_ERANGE);
		endpoints_free(eps);
	}
	/* Float range -1.5..2.5. */
	entry_refused("{'bootstrap': {'write': {'/32769/0': {'0': 2.75}}}}", LWM2M_ERANGE,
			"bootstrap.write \"/32769/0\" resource 0: 2.75 is out of range -1.5..2.5");
	entry_refused("{'bootstrap': {'write': {'/32769/0': {'0': -2}}}}", LWM2M_ERANGE,
			"bootstrap.write \"/32769/0\" resource 0: -2 is out of range -1.5..2.5");
	/* String length: /0/0 0..255 bytes. */
	memset(big, 'u', 256);
	big[256] = '\0';
	snprintf(entry, sizeof(entry), W("0", "'%s'"), big);
	entry_refused(entry, LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 0: length 256 is out of range 0..255");
	big[255] = '\0';
	snprintf(entry, sizeof(entry), W("0", "'%s'"), big);
	eps = entry_ok(entry);
	endpoints_free(eps);
	/* Opaque lengths: /0/7 exactly 6, /0/8 16, 32 or 48 bytes. */
	eps = entry_ok(W("7", "{'hex': '010203040506'}"));
	endpoints_free(eps);
	entry_refused(W("7", "{'text': 'abcde'}"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 7: length 5 is out of range 6");
	eps = entry_ok(W("8", "{'text': '0123456789abcdef0123456789abcdef'}"));
	endpoints_free(eps);
	entry_refused(W("8", "{'text': '0123456789abcdef0'}"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 8: length 17 is out of range 16,32,48");
	/* A prose RangeEnumeration checks nothing (/1/22). */
	eps = entry_ok("{'bootstrap': {'write': {'/1/0': {'22': 'U'}}}}");
	endpoints_free(eps);
}

static void test_write_multiple(void **state)
{
	struct endpoints *eps;
	const struct endpoint_write *w;
	const struct lwm2m_node *n;
	(void)state;

	eps = entry_ok("{'bootstrap': {'write': {'/0/1': {'16': {'1': 49192, '0': 49320},"
			" '25': {'0': 'coap://a', '7': 'coap://b'}, '27': {'0': '23:0'}, '18': {}},"
			" '/32769/0': {'3': {'2': 0.25}}}}}");
	w = &endpoints_find(eps, "dev-1")->bootstrap.writes[0];
	assert_int_equal(w->nodes.count, 6);
	/* Sorted by path: resource instances in id order. */
	assert_path(&w->nodes.items[0].path, "/0/1/16/0");
	assert_path(&w->nodes.items[1].path, "/0/1/16/1");
	assert_int_equal(w->nodes.items[0].value.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(w->nodes.items[0].value.v.u, 49320);
	assert_int_equal(w->nodes.items[1].value.v.u, 49192);
	assert_int_equal(w->nodes.items[2].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	assert_path(&w->nodes.items[2].path, "/0/1/18");
	n = node_at(w, "/0/1/25/7", LWM2M_TYPE_STRING);
	assert_string_equal((const char *)n->value.v.bytes.data, "coap://b");
	n = node_at(w, "/0/1/27/0", LWM2M_TYPE_OBJLNK);
	assert_int_equal(n->value.v.lnk.obj, 23);
	n = node_at(&endpoints_find(eps, "dev-1")->bootstrap.writes[1], "/32769/0/3/2", LWM2M_TYPE_FLOAT);
	assert_true(n->value.v.f == 0.25);
	endpoints_free(eps);

	entry_refused(W("16", "{'0': -1}"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 16 instance 0: -1 is below 0 (unsigned)");
	entry_refused(W("16", "{'0': 'x'}"), LWM2M_ETYPE,
			"bootstrap.write \"/0/1\" resource 16 instance 0: expected an unsigned integer");
	entry_refused(W("16", "{'00': 1}"), LWM2M_EINVAL,
			"bootstrap.write \"/0/1\" resource 16: bad resource instance id \"00\"");
	entry_refused(W("16", "{'0': 1, 'x': 1}"), LWM2M_EINVAL,
			"bootstrap.write \"/0/1\" resource 16: bad resource instance id \"x\"");
	entry_refused(W("16", "{'-1': 1}"), LWM2M_EINVAL,
			"bootstrap.write \"/0/1\" resource 16: bad resource instance id \"-1\"");
	entry_refused(W("18", "{'3': 70000}"), LWM2M_ERANGE,
			"bootstrap.write \"/0/1\" resource 18 instance 3: 70000 is out of range 0..65535");
	entry_refused("{'bootstrap': {'write': {'/1/0': {'24': {'0': '3'}}}}}", LWM2M_ETYPE,
			"bootstrap.write \"/1/0\" resource 24 instance 0: expected an object link \"object:instance\"");
}

/* The trees go through the data formats as they are: encode, decode, compare. */
static void test_writes_encode(void **state)
{
	static const uint16_t formats[] = {
		LWM2M_CF_TLV, LWM2M_CF_SENML_JSON, LWM2M_CF_SENML_CBOR, LWM2M_CF_LWM2M_CBOR,
	};
	struct endpoints *eps = parse_ok("{'endpoints': {'dev-1': {'bootstrap': {'write': {"
			"'/0/1': {'0': 'coap://127.0.0.1:5683', '1': false, '2': 0, '3': {'text': 'dev-1'},"
			" '5': {'hex': '00112233'}, '10': 101, '16': {'0': 49320}, '17': '21:0'},"
			"'/1/1': {'0': 101, '1': 300, '6': true, '7': 'U'},"
			"'/24/0': {'6': 'c1', '5': 60}}}}}}");
	const struct endpoint_bootstrap *bs = &endpoints_find(eps, "dev-1")->bootstrap;
	struct fmt_typer typer = obj_registry_typer(fx.model);
	(void)state;

	for(size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++){
		for(size_t i = 0; i < bs->write_count; i++){
			const struct endpoint_write *w = &bs->writes[i];
			struct lwm2m_buf out;
			struct lwm2m_nodes back;
			struct lwm2m_error err = { 0 };

			buf_init(&out, 0);
			nodes_init(&back);
			if(fmt_encode(formats[f], &w->nodes, &w->path, &typer, NULL, &out, &err) != 0){
				fail_msg("format %u, write %zu: %s", formats[f], i, err.msg);
			}
			if(fmt_decode(formats[f], out.data, out.len, &w->path, &typer, NULL, &back, &err) != 0){
				fail_msg("format %u, write %zu: decode: %s", formats[f], i, err.msg);
			}
			assert_int_equal(back.count, w->nodes.count);
			for(size_t k = 0; k < back.count; k++){
				assert_int_equal(path_compare(&back.items[k].path, &w->nodes.items[k].path), 0);
				assert_true(value_equal(&back.items[k].value, &w->nodes.items[k].value));
			}
			nodes_free(&back);
			buf_free(&out);
		}
	}
	endpoints_free(eps);
}

/* ---------- files ---------- */

static void test_load_file(void **state)
{
	char path[128], msg[512];
	struct lwm2m_error err = { 0 };
	struct endpoints *eps;
	char *text = json_of(full_example);
	(void)state;

	snprintf(path, sizeof(path), "%s/endpoints.json", fx.dir);
	write_file(path, text);
	free(text);
	eps = endpoints_load_file(path, fx.model, &err);
	if(!eps) fail_msg("%s", err.msg);
	assert_int_equal(endpoints_count(eps), 3);
	assert_int_equal(endpoints_find(eps, "dev-1")->bootstrap.write_count, 4);
	endpoints_free(eps);

	write_file(path, "{\"endpoints\": {\"a\": {\"http\": {\"url\": \"gopher://x\"}}}}");
	assert_null(endpoints_load_file(path, fx.model, &err));
	snprintf(msg, sizeof(msg), "endpoints file %s: entry \"a\": http.url: \"gopher://x\" is not "
			"http[s]://host[:port][/path]", path);
	assert_string_equal(err.msg, msg);

	write_file(path, "");
	assert_null(endpoints_load_file(path, fx.model, &err));
	assert_non_null(strstr(err.msg, "line 1"));
	assert_int_equal(err.code, LWM2M_EINVAL);
	unlink(path);

	assert_null(endpoints_load_file(path, fx.model, &err));
	snprintf(msg, sizeof(msg), "endpoints file %s: cannot read: No such file or directory", path);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.code, LWM2M_ENOENT);
	assert_null(endpoints_load_file(fx.dir, fx.model, &err));
	snprintf(msg, sizeof(msg), "endpoints file %s: cannot read: not a regular file", fx.dir);
	assert_string_equal(err.msg, msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_lookup_precedence),
		cmocka_unit_test(test_lookup_many_patterns),
		cmocka_unit_test(test_document_rules),
		cmocka_unit_test(test_entry_names),
		cmocka_unit_test(test_upstream_psk),
		cmocka_unit_test(test_upstream_files),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_bootstrap_plan),
		cmocka_unit_test(test_write_paths),
		cmocka_unit_test(test_write_scalar_types),
		cmocka_unit_test(test_write_ranges),
		cmocka_unit_test(test_write_multiple),
		cmocka_unit_test(test_writes_encode),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
