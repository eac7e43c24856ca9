/* The object model: built-in core objects (checked against the OMA registry's XML files),
 * the XML loader (all of shared/objects, malformed documents), versions, typers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objects/model.h"

#define OBJECTS_DIR SHARED_DIR "/objects"

/* ---------- helpers ---------- */

static struct lwm2m_path mkpath(int n, ...)
{
	struct lwm2m_path p = {0};
	va_list ap;

	va_start(ap, n);
	for(int i = 0; i < n; i++) p.ids[i] = (uint16_t)va_arg(ap, int);
	va_end(ap);
	p.len = (uint8_t)n;
	return p;
}

static int load_str(struct obj_registry *reg, const char *xml, const char *name,
		struct lwm2m_error *err)
{
	return obj_registry_load_xml(reg, xml, strlen(xml), name, err);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if(!f) return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if(buf && fread(buf, 1, (size_t)n, f) != (size_t)n){
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if(buf){
		buf[n] = '\0';
		if(len) *len = (size_t)n;
	}
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

/* Field-by-field comparison; prints each difference and returns how many there were. */
static int compare_defs(const struct obj_def *mine, const struct obj_def *ref)
{
	int bad = 0;

#define DIFF(...) do { print_message("object %u v%s: ", mine->id, mine->version); \
	print_message(__VA_ARGS__); print_message("\n"); bad++; } while(0)
	if(strcmp(mine->name, ref->name)) DIFF("name \"%s\" vs \"%s\"", mine->name, ref->name);
	if(strcmp(mine->urn, ref->urn)) DIFF("urn \"%s\" vs \"%s\"", mine->urn, ref->urn);
	if(strcmp(mine->lwm2m_version, ref->lwm2m_version))
		DIFF("LWM2MVersion %s vs %s", mine->lwm2m_version, ref->lwm2m_version);
	if(mine->multiple != ref->multiple) DIFF("multiple %d vs %d", mine->multiple, ref->multiple);
	if(mine->mandatory != ref->mandatory) DIFF("mandatory %d vs %d", mine->mandatory, ref->mandatory);
	if(mine->res_count != ref->res_count)
		DIFF("%zu resources vs %zu", mine->res_count, ref->res_count);
	for(size_t i = 0; i < ref->res_count; i++){
		const struct obj_resource_def *r = &ref->res[i];
		const struct obj_resource_def *m = obj_def_resource(mine, r->id);
		if(!m){
			DIFF("resource %u (%s) missing", r->id, r->name);
			continue;
		}
		if(strcmp(m->name, r->name)) DIFF("/%u name \"%s\" vs \"%s\"", r->id, m->name, r->name);
		if(m->type != r->type) DIFF("/%u type %s vs %s", r->id, lwm2m_type_name(m->type),
				lwm2m_type_name(r->type));
		if(m->operations != r->operations)
			DIFF("/%u operations %u vs %u", r->id, m->operations, r->operations);
		if(m->multiple != r->multiple) DIFF("/%u multiple %d vs %d", r->id, m->multiple, r->multiple);
		if(m->mandatory != r->mandatory)
			DIFF("/%u mandatory %d vs %d", r->id, m->mandatory, r->mandatory);
		if(strcmp(m->range_enum, r->range_enum))
			DIFF("/%u range \"%s\" vs \"%s\"", r->id, m->range_enum, r->range_enum);
		if(strcmp(m->units, r->units)) DIFF("/%u units \"%s\" vs \"%s\"", r->id, m->units, r->units);
	}
#undef DIFF
	return bad;
}

/* ---------- built-in objects ---------- */

static void test_builtin_core_objects(void **state)
{
	static const uint16_t core[] = {0, 1, 2, 3, 4, 5, 6, 7, 21, 23, 24, 25, 26};
	struct obj_registry *reg = obj_registry_new();
	const struct obj_def *d;
	const struct obj_resource_def *r;

	assert_non_null(reg);
	assert_int_equal(obj_registry_count(reg), 15);     /* 13 objects, /5 and /25 twice */
	assert_int_equal(obj_builtin_count(), 15);
	for(size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++){
		d = obj_registry_find(reg, core[i], NULL);
		assert_non_null(d);
		assert_int_equal(d->id, core[i]);
		assert_true(d->builtin);
		assert_true(d->res_count > 0);
		for(size_t k = 1; k < d->res_count; k++) assert_true(d->res[k - 1].id < d->res[k].id);
	}
	d = obj_registry_find(reg, 3, NULL);
	assert_string_equal(d->name, "Device");
	assert_string_equal(d->version, "1.2");
	assert_false(d->multiple);
	assert_true(d->mandatory);
	r = obj_def_resource(d, 0);
	assert_string_equal(r->name, "Manufacturer");
	assert_int_equal(r->type, LWM2M_TYPE_STRING);
	assert_int_equal(r->operations, OBJ_OP_R);
	r = obj_def_resource(d, 4);
	assert_string_equal(r->name, "Reboot");
	assert_int_equal(r->type, LWM2M_TYPE_NONE);
	assert_int_equal(r->operations, OBJ_OP_E);
	assert_true(r->mandatory);
	r = obj_def_resource(d, 11);
	assert_true(r->multiple && r->mandatory);
	r = obj_def_resource(d, 13);
	assert_int_equal(r->type, LWM2M_TYPE_TIME);
	assert_int_equal(r->operations, OBJ_OP_R | OBJ_OP_W);
	assert_null(obj_def_resource(d, 23));

	/* Security: no operations for a management server. */
	r = obj_def_resource(obj_registry_find(reg, 0, NULL), 0);
	assert_int_equal(r->operations, 0);
	assert_int_equal(r->type, LWM2M_TYPE_STRING);

	/* /5: 1.2 is preferred (a superset of 1.1); 1.1 has no resource 14. */
	d = obj_registry_find(reg, 5, NULL);
	assert_string_equal(d->version, "1.2");
	assert_non_null(obj_def_resource(d, 14));
	d = obj_registry_find(reg, 5, "1.1");
	assert_non_null(d);
	assert_null(obj_def_resource(d, 14));
	assert_non_null(obj_def_resource(d, 13));
	assert_null(obj_def_resource(d, 4));

	/* /25: the Core TS 1.0 (implied by 1.2) and the Gateway TS 2.0. */
	d = obj_registry_find(reg, 25, NULL);
	assert_string_equal(d->version, "1.0");
	assert_int_equal(obj_def_resource(d, 2)->type, LWM2M_TYPE_OBJLNK);
	assert_int_equal(obj_def_resource(d, 1)->operations, OBJ_OP_R | OBJ_OP_W);
	d = obj_registry_find(reg, 25, "2.0");
	assert_non_null(d);
	assert_null(obj_def_resource(d, 2));
	assert_int_equal(obj_def_resource(d, 3)->type, LWM2M_TYPE_CORELNK);
	assert_int_equal(obj_def_resource(d, 1)->operations, OBJ_OP_R);

	assert_null(obj_registry_find(reg, 9999, NULL));
	assert_null(obj_registry_find(reg, 3, "1.7"));
	assert_null(obj_registry_at(reg, 15));
	obj_registry_free(reg);
	obj_registry_free(NULL);
}

/* /25 v1.0 as the registry's version history defines it (not in shared/objects). */
static const char gateway_v1_xml[] =
	"<LWM2M><Object ObjectType=\"MODefinition\"><Name>LwM2M Gateway</Name>\n"
	"<ObjectID>25</ObjectID><ObjectURN>urn:oma:lwm2m:oma:25</ObjectURN>\n"
	"<LWM2MVersion>1.2</LWM2MVersion><ObjectVersion>1.0</ObjectVersion>\n"
	"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>\n"
	"<Resources>\n"
	"<Item ID=\"0\"><Name>Device ID</Name><Operations>R</Operations><MultipleInstances>Single"
	"</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>String</Type><RangeEnumeration/>"
	"<Units/></Item>\n"
	"<Item ID=\"1\"><Name>Prefix</Name><Operations>RW</Operations><MultipleInstances>Single"
	"</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>String</Type></Item>\n"
	"<Item ID=\"2\"><Name>Routing Table Entry</Name><Operations>R</Operations>"
	"<MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>"
	"<Type>Objlnk</Type></Item>\n"
	"</Resources></Object></LWM2M>\n";

static void test_builtin_matches_registry_xml(void **state)
{
	struct obj_registry *mine = obj_registry_new();
	int compared = 0, mismatches = 0;

	assert_non_null(mine);
	for(size_t i = 0; i < obj_registry_count(mine); i++){
		const struct obj_def *d = obj_registry_at(mine, i);
		struct obj_registry *ref = obj_registry_new();
		struct lwm2m_error err = {0};
		const struct obj_def *x;
		char path[512];

		assert_non_null(ref);
		snprintf(path, sizeof(path), "%s/%u.xml", OBJECTS_DIR, d->id);
		if(obj_registry_load_file(ref, path, &err) != 0){
			print_message("cannot load %s: %s\n", path, err.msg);
			fail();
		}
		x = obj_registry_find(ref, d->id, d->version);
		assert_non_null(x);
		if(x->builtin){
			/* The registry's file has another version: checked below by other means. */
			print_message("object %u v%s: %s has another version\n", d->id, d->version, path);
		}else{
			mismatches += compare_defs(d, x);
			compared++;
		}
		obj_registry_free(ref);
	}
	print_message("compared %d built-in definitions with the registry's XML\n", compared);
	assert_int_equal(mismatches, 0);
	assert_int_equal(compared, 13);      /* all but /5 v1.1 and /25 v1.0 */

	/* /5 v1.1 = the registry's v1.2 without resource 14 (version history 5-1_1). */
	{
		struct obj_registry *ref = obj_registry_new();
		struct lwm2m_error err;
		const struct obj_def *v11 = obj_registry_find(mine, 5, "1.1");
		const struct obj_def *x;

		assert_int_equal(obj_registry_load_file(ref, OBJECTS_DIR "/5.xml", &err), 0);
		x = obj_registry_find(ref, 5, "1.2");
		assert_false(x->builtin);
		assert_int_equal(v11->res_count + 1, x->res_count);
		assert_int_equal(x->res[x->res_count - 1].id, 14);
		for(size_t k = 0; k < v11->res_count; k++){
			assert_int_equal(v11->res[k].id, x->res[k].id);
			assert_string_equal(v11->res[k].name, x->res[k].name);
			assert_int_equal(v11->res[k].type, x->res[k].type);
			assert_int_equal(v11->res[k].operations, x->res[k].operations);
			assert_int_equal(v11->res[k].multiple, x->res[k].multiple);
		}
		obj_registry_free(ref);
	}
	/* /25 v1.0 against its definition transcribed above. */
	{
		struct obj_registry *ref = obj_registry_new();
		struct lwm2m_error err;
		const struct obj_def *x;

		assert_int_equal(load_str(ref, gateway_v1_xml, "25-1_0.xml", &err), 0);
		x = obj_registry_find(ref, 25, "1.0");
		assert_false(x->builtin);
		assert_int_equal(compare_defs(obj_registry_find(mine, 25, "1.0"), x), 0);
		obj_registry_free(ref);
	}
	obj_registry_free(mine);
}

static void test_resource_lookup(void **state)
{
	struct obj_registry *reg = obj_registry_new();

	for(size_t i = 0; i < obj_registry_count(reg); i++){
		const struct obj_def *d = obj_registry_at(reg, i);
		for(size_t k = 0; k < d->res_count; k++){
			assert_ptr_equal(obj_def_resource(d, d->res[k].id), &d->res[k]);
		}
		assert_null(obj_def_resource(d, 65535));
	}
	/* A gap inside the id range (/5 has no resource 4). */
	assert_null(obj_def_resource(obj_registry_find(reg, 5, NULL), 4));
	assert_null(obj_def_resource(NULL, 0));
	obj_registry_free(reg);
}

/* ---------- the registry's XML files ---------- */

struct pair {
	unsigned id;
	char ver[16];
};

/* ObjectID and ObjectVersion by plain text search, independent of the loader. */
static int scan_id_version(const char *text, struct pair *out)
{
	const char *a = strstr(text, "<ObjectID>");
	const char *v = strstr(text, "<ObjectVersion>");

	if(!a) return -1;
	out->id = (unsigned)strtoul(a + strlen("<ObjectID>"), NULL, 10);
	strcpy(out->ver, "1.0");
	if(v){
		v += strlen("<ObjectVersion>");
		size_t n = strcspn(v, "<");
		if(n > 0 && n < sizeof(out->ver)){
			memcpy(out->ver, v, n);
			out->ver[n] = '\0';
		}
	}
	return 0;
}

static size_t add_pair(struct pair *set, size_t n, const struct pair *p)
{
	for(size_t i = 0; i < n; i++){
		if(set[i].id == p->id && !strcmp(set[i].ver, p->ver)) return n;
	}
	set[n] = *p;
	return n + 1;
}

struct report_log {
	int failed, replaced;
	char last_file[256];
	unsigned long last_line;
	char last_msg[LWM2M_ERROR_MSG_MAX];
	char replaced_file[256];
};

static void on_report(void *ctx, enum obj_load_event ev, const char *file, unsigned long line,
		const char *msg)
{
	struct report_log *log = ctx;

	if(ev == OBJ_LOAD_FAILED){
		log->failed++;
		snprintf(log->last_file, sizeof(log->last_file), "%s", file);
		log->last_line = line;
		snprintf(log->last_msg, sizeof(log->last_msg), "%s", msg);
		print_message("failed: %s:%lu: %s\n", file, line, msg);
	}else{
		log->replaced++;
		snprintf(log->replaced_file, sizeof(log->replaced_file), "%s", file);
	}
}

/* Files of shared/objects that are expected not to load (none at present: every file of
 * the registry is well formed and uses known types). */
static const char *const known_bad[] = {NULL};

static void test_load_all_shared_objects(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	struct report_log log = {0};
	struct pair *pairs = calloc(2048, sizeof(*pairs));
	size_t npairs = 0, nxml = 0, nbad = 0, loaded = 0, failed = 0;
	DIR *d = opendir(OBJECTS_DIR);
	struct dirent *e;

	assert_non_null(d);
	assert_non_null(pairs);
	/* Expected definitions: the built-ins plus every (id, version) of the files. */
	for(size_t i = 0; i < obj_registry_count(reg); i++){
		struct pair p = {obj_registry_at(reg, i)->id, ""};
		snprintf(p.ver, sizeof(p.ver), "%s", obj_registry_at(reg, i)->version);
		npairs = add_pair(pairs, npairs, &p);
	}
	while((e = readdir(d)) != NULL){
		size_t n = strlen(e->d_name);
		char path[512];
		struct pair p;
		char *text;
		bool bad = false;

		if(n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0) continue;
		nxml++;
		for(size_t k = 0; known_bad[k]; k++) bad |= !strcmp(known_bad[k], e->d_name);
		if(bad){
			nbad++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", OBJECTS_DIR, e->d_name);
		text = read_all(path, NULL);
		assert_non_null(text);
		assert_int_equal(scan_id_version(text, &p), 0);
		npairs = add_pair(pairs, npairs, &p);
		assert_true(npairs < 2048);
		free(text);
	}
	closedir(d);
	assert_true(nxml >= 300);

	assert_int_equal(obj_registry_load_dir(reg, OBJECTS_DIR, on_report, &log, &loaded, &failed), 0);
	print_message("loaded %zu of %zu object files (%zu failed), %zu definitions\n",
			loaded, nxml, failed, obj_registry_count(reg));
	assert_int_equal(loaded, nxml - nbad);
	assert_int_equal(failed, nbad);
	assert_int_equal(log.failed, (int)nbad);
	assert_int_equal(obj_registry_count(reg), npairs);
	/* The files with a built-in's id and version replaced it. */
	assert_true(log.replaced >= 13);
	for(size_t i = 0; i < npairs; i++){
		const struct obj_def *def = obj_registry_find(reg, (uint16_t)pairs[i].id, pairs[i].ver);
		assert_non_null(def);
	}
	/* A few well-known definitions. */
	{
		const struct obj_def *t = obj_registry_find(reg, 3303, NULL);
		const struct obj_resource_def *r;

		assert_non_null(t);
		assert_string_equal(t->name, "Temperature");
		r = obj_def_resource(t, 5700);
		assert_non_null(r);
		assert_string_equal(r->name, "Sensor Value");
		assert_int_equal(r->type, LWM2M_TYPE_FLOAT);
		assert_int_equal(r->operations, OBJ_OP_R);
		assert_string_equal(obj_def_resource(t, 5701)->name, "Sensor Units");
		assert_int_equal(obj_def_resource(t, 5605)->operations, OBJ_OP_E);
		assert_false(obj_registry_find(reg, 3, "1.2")->builtin);
		/* 10482 has a readable resource without a type: kept, typed none. */
		r = obj_def_resource(obj_registry_find(reg, 10482, NULL), 5);
		assert_non_null(r);
		assert_int_equal(r->type, LWM2M_TYPE_NONE);
		assert_int_equal(r->operations, OBJ_OP_R);
	}
	obj_registry_free(reg);
	free(pairs);
}

/* ---------- malformed documents ---------- */

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LWM2M>\n<Object>\n<Name>T</Name>\n" \
	"<ObjectID>40000</ObjectID>\n<Resources>\n"
/* HEAD ends on line 7: the first <Item> below it is on line 7. */
#define ITEM(id, type) "<Item ID=\"" id "\"><Name>r</Name><Operations>R</Operations>" \
	"<Type>" type "</Type></Item>\n"
#define TAIL "</Resources>\n</Object>\n</LWM2M>\n"

struct bad_case {
	const char *name;
	const char *xml;
	unsigned long line;
	const char *what;
};

static const struct bad_case bad_cases[] = {
	{"truncated.xml", HEAD ITEM("0", "String") "<Item ID=\"1\"><Name>r", 8, "XML error"},
	{"nesting.xml", HEAD ITEM("0", "String") "<Item ID=\"1\"><Name>r</Item></Name>\n" TAIL, 8,
		"mismatched tag"},
	{"badtype.xml", HEAD ITEM("0", "String") ITEM("1", "Integr") TAIL, 8, "unknown type \"Integr\""},
	{"dup.xml", HEAD ITEM("0", "String") ITEM("1", "Integer") ITEM("0", "Float") TAIL, 9,
		"duplicate resource ID 0"},
	{"bigid.xml", HEAD ITEM("0", "String") ITEM("70000", "Integer") TAIL, 8,
		"resource ID \"70000\""},
	{"negid.xml", HEAD ITEM("-1", "Integer") TAIL, 7, "resource ID \"-1\""},
	{"textid.xml", HEAD ITEM("five", "Integer") TAIL, 7, "resource ID \"five\""},
	{"noid.xml", HEAD "<Item><Name>x</Name></Item>\n" TAIL, 7, "without an ID"},
	{"bigobj.xml", "<LWM2M>\n<Object>\n<ObjectID>65536</ObjectID>\n</Object>\n</LWM2M>\n", 3,
		"ObjectID \"65536\""},
	{"noobjid.xml", "<LWM2M>\n<Object>\n<Name>x</Name>\n</Object>\n</LWM2M>\n", 4,
		"without <ObjectID>"},
	{"ops.xml", HEAD "<Item ID=\"1\"><Operations>RX</Operations></Item>\n" TAIL, 7, "Operations"},
	{"multi.xml", HEAD "<Item ID=\"1\">\n<MultipleInstances>Many</MultipleInstances></Item>\n" TAIL,
		8, "MultipleInstances"},
	{"mand.xml", "<LWM2M><Object><ObjectID>1</ObjectID>\n<Mandatory>Yes</Mandatory>"
		"</Object></LWM2M>", 2, "Mandatory"},
	{"version.xml", "<LWM2M><Object><ObjectID>1</ObjectID>\n\n<ObjectVersion>v1</ObjectVersion>"
		"</Object></LWM2M>", 3, "ObjectVersion"},
	{"root.xml", "<?xml version=\"1.0\"?>\n<Objects><Object/></Objects>", 2, "root element"},
	{"noobject.xml", "<LWM2M>\n</LWM2M>\n", 2, "no <Object>"},
	{"inner.xml", HEAD "<Item ID=\"1\">\n<Name><b>x</b></Name></Item>\n" TAIL, 8, "inside"},
	{"twice.xml", "<LWM2M><Object>\n<ObjectID>1</ObjectID>\n<ObjectID>2</ObjectID>"
		"</Object></LWM2M>", 3, "given twice"},
	{"doctype.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE LWM2M [<!ENTITY a \"aaaa\">]>\n"
		"<LWM2M><Object><ObjectID>1</ObjectID><Name>&a;</Name></Object></LWM2M>", 2, "DOCTYPE"},
	{"empty.xml", "", 1, "XML error"},
	{"junk.xml", "\x01\x02garbage", 1, "XML error"},
	{"undefined.xml", "<LWM2M>\n<Object><Name>&nope;</Name></Object></LWM2M>", 2, "XML error"},
};

static void test_malformed_xml(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	size_t before = obj_registry_count(reg);

	for(size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++){
		const struct bad_case *c = &bad_cases[i];
		struct lwm2m_error err = {0};
		char prefix[64];
		int rc = load_str(reg, c->xml, c->name, &err);

		print_message("%s -> %s\n", c->name, err.msg);
		assert_true(rc < 0);
		snprintf(prefix, sizeof(prefix), "%s:%lu: ", c->name, c->line);
		if(strncmp(err.msg, prefix, strlen(prefix)) != 0){
			print_message("expected prefix \"%s\"\n", prefix);
			fail();
		}
		if(!strstr(err.msg, c->what)){
			print_message("expected \"%s\" in the message\n", c->what);
			fail();
		}
		assert_int_equal(obj_registry_count(reg), before);
	}
	/* A long field. */
	{
		size_t n = 4000;
		char *xml = malloc(n + 100);
		struct lwm2m_error err;

		strcpy(xml, "<LWM2M><Object><ObjectID>1</ObjectID><Name>");
		memset(xml + strlen(xml), 'n', n);
		strcpy(xml + strlen("<LWM2M><Object><ObjectID>1</ObjectID><Name>") + n,
				"</Name></Object></LWM2M>");
		assert_true(load_str(reg, xml, "long.xml", &err) < 0);
		assert_non_null(strstr(err.msg, "longer than"));
		free(xml);
	}
	/* The second object of a document is bad: the first one is not kept either. */
	{
		struct lwm2m_error err;
		const char *xml = "<LWM2M><Object><ObjectID>40100</ObjectID></Object>\n"
			"<Object><ObjectID>x</ObjectID></Object></LWM2M>";
		assert_true(load_str(reg, xml, "two.xml", &err) < 0);
		assert_null(obj_registry_find(reg, 40100, NULL));
	}
	/* NULL buffer with a length. */
	{
		struct lwm2m_error err;
		assert_true(obj_registry_load_xml(reg, NULL, 5, "null", &err) < 0);
	}
	assert_int_equal(obj_registry_count(reg), before);
	obj_registry_free(reg);
}

static void test_well_formed_details(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	struct lwm2m_error err = {0};
	const struct obj_def *d;
	const struct obj_resource_def *r;
	/* Resources out of order, whitespace to normalize, unknown elements, an empty
	 * <Resources/>, defaults for missing fields, a BOM-less ISO-8859-1 document. */
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<LWM2M xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
		" <Object ObjectType=\"MODefinition\">\n"
		"  <Name>\n   Two   Words\n  </Name>\n"
		"  <Description1><![CDATA[<Item ID=\"9\"> is text here]]><x><y/></x></Description1>\n"
		"  <ObjectID> 40200 </ObjectID>\n"
		"  <MultipleInstances>multiple</MultipleInstances>\n"
		"  <Resources>\n"
		"   <Item ID=\"7\"><Name>Seven</Name><Operations>rw</Operations>"
		"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Mandatory</Mandatory>"
		"<Type>Unsigned Integer</Type><RangeEnumeration>0..9</RangeEnumeration>"
		"<Units>m&amp;s</Units><Description>d</Description></Item>\n"
		"   <Item ID=\"2\"><Name>Two</Name><Operations>E</Operations><Type></Type></Item>\n"
		"   <Item ID=\"5\"><Name>Five</Name><Type>Corelnk</Type></Item>\n"
		"  </Resources>\n"
		" </Object>\n"
		" <Object><ObjectID>40201</ObjectID><ObjectVersion>2.1</ObjectVersion>"
		"<LWM2MVersion>1.1</LWM2MVersion><Resources/></Object>\n"
		" <Object><ObjectID>40203</ObjectID><Resources><Item ID=\"4\"><Type>Time</Type></Item>"
		"<Item ID=\"1\"><Type>Float</Type></Item></Resources></Object>\n"
		"</LWM2M>\n";

	assert_int_equal(load_str(reg, xml, "ok.xml", &err), 0);
	d = obj_registry_find(reg, 40200, NULL);
	assert_non_null(d);
	assert_false(d->builtin);
	assert_string_equal(d->name, "Two Words");
	assert_string_equal(d->version, "1.0");
	assert_string_equal(d->lwm2m_version, "1.0");
	assert_string_equal(d->urn, "");
	assert_true(d->multiple);
	assert_false(d->mandatory);
	assert_int_equal(d->res_count, 3);
	assert_int_equal(d->res[0].id, 2);
	assert_int_equal(d->res[1].id, 5);
	assert_int_equal(d->res[2].id, 7);
	r = obj_def_resource(d, 7);
	assert_string_equal(r->name, "Seven");
	assert_int_equal(r->operations, OBJ_OP_R | OBJ_OP_W);
	assert_true(r->multiple && r->mandatory);
	assert_int_equal(r->type, LWM2M_TYPE_UNSIGNED);
	assert_string_equal(r->range_enum, "0..9");
	assert_string_equal(r->units, "m&s");
	r = obj_def_resource(d, 2);
	assert_int_equal(r->type, LWM2M_TYPE_NONE);
	assert_int_equal(r->operations, OBJ_OP_E);
	r = obj_def_resource(d, 5);
	assert_int_equal(r->type, LWM2M_TYPE_CORELNK);
	assert_int_equal(r->operations, 0);
	assert_false(r->multiple);
	assert_null(obj_def_resource(d, 9));
	d = obj_registry_find(reg, 40201, "2.1");
	assert_non_null(d);
	assert_int_equal(d->res_count, 0);
	assert_string_equal(d->lwm2m_version, "1.1");
	/* A second object with resources after one that had some. */
	d = obj_registry_find(reg, 40203, NULL);
	assert_non_null(d);
	assert_int_equal(d->res_count, 2);
	assert_int_equal(obj_def_resource(d, 4)->type, LWM2M_TYPE_TIME);
	assert_int_equal(obj_def_resource(d, 1)->type, LWM2M_TYPE_FLOAT);

	/* Latin-1 declared encoding is converted to UTF-8. */
	{
		const char latin[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
			"<LWM2M><Object><ObjectID>40202</ObjectID><Name>Temp\xe9rature</Name></Object></LWM2M>";
		assert_int_equal(load_str(reg, latin, "latin.xml", &err), 0);
		assert_string_equal(obj_registry_find(reg, 40202, NULL)->name, "Temp\xc3\xa9rature");
	}
	obj_registry_free(reg);
}

/* ---------- directories, replacement, versions ---------- */

static void obj_xml(char *buf, size_t size, unsigned id, const char *ver, const char *name,
		const char *type)
{
	snprintf(buf, size,
			"<LWM2M>\n<Object>\n<Name>%s</Name>\n<ObjectID>%u</ObjectID>\n"
			"<ObjectVersion>%s</ObjectVersion>\n<Resources>\n"
			"<Item ID=\"0\"><Name>v</Name><Operations>R</Operations><Type>%s</Type></Item>\n"
			"</Resources>\n</Object>\n</LWM2M>\n", name, id, ver, type);
}

static void test_load_dir_reports(void **state)
{
	char dir[] = "/tmp/test_model_XXXXXX";
	char path[256], xml[1024];
	struct obj_registry *reg = obj_registry_new();
	struct report_log log = {0};
	size_t loaded = 99, failed = 99, before = obj_registry_count(reg);
	static const char *files[] = {"a_good.xml", "b_bad.xml", "c_good.xml", "d_again.XML",
		"e_trunc.xml", "notes.txt"};

	assert_non_null(mkdtemp(dir));
	obj_xml(xml, sizeof(xml), 40001, "1.0", "First", "Integer");
	snprintf(path, sizeof(path), "%s/%s", dir, files[0]);
	write_file(path, xml);
	snprintf(path, sizeof(path), "%s/%s", dir, files[1]);
	write_file(path, HEAD ITEM("0", "String") ITEM("1", "Integer") ITEM("1", "Float") TAIL);
	obj_xml(xml, sizeof(xml), 40002, "1.0", "Second", "Float");
	snprintf(path, sizeof(path), "%s/%s", dir, files[2]);
	write_file(path, xml);
	obj_xml(xml, sizeof(xml), 40001, "1.0", "First again", "String");
	snprintf(path, sizeof(path), "%s/%s", dir, files[3]);
	write_file(path, xml);
	snprintf(path, sizeof(path), "%s/%s", dir, files[4]);
	write_file(path, "<LWM2M>\n<Object>\n<ObjectID>40003</Object");
	snprintf(path, sizeof(path), "%s/%s", dir, files[5]);
	write_file(path, "not xml at all");

	assert_int_equal(obj_registry_load_dir(reg, dir, on_report, &log, &loaded, &failed), 0);
	assert_int_equal(loaded, 3);
	assert_int_equal(failed, 2);
	assert_int_equal(log.failed, 2);
	assert_int_equal(log.replaced, 1);
	assert_string_equal(log.replaced_file, "d_again.XML");
	/* The last failure is the truncated file; b_bad.xml was reported before it. */
	assert_string_equal(log.last_file, "e_trunc.xml");
	assert_int_equal(log.last_line, 3);
	assert_non_null(strstr(log.last_msg, "XML error"));
	assert_int_equal(obj_registry_count(reg), before + 2);
	assert_string_equal(obj_registry_find(reg, 40001, "1.0")->name, "First again");
	assert_int_equal(obj_def_resource(obj_registry_find(reg, 40001, NULL), 0)->type,
			LWM2M_TYPE_STRING);
	assert_non_null(obj_registry_find(reg, 40002, NULL));
	assert_null(obj_registry_find(reg, 40000, NULL));
	assert_null(obj_registry_find(reg, 40003, NULL));

	/* Only the bad file, to see its own line. */
	{
		struct obj_registry *r2 = obj_registry_new();
		struct report_log l2 = {0};
		for(size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++){
			if(i == 1) continue;
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			unlink(path);
		}
		assert_int_equal(obj_registry_load_dir(r2, dir, on_report, &l2, &loaded, &failed), 0);
		assert_int_equal(loaded, 0);
		assert_int_equal(failed, 1);
		assert_string_equal(l2.last_file, "b_bad.xml");
		assert_int_equal(l2.last_line, 9);
		assert_non_null(strstr(l2.last_msg, "duplicate resource ID 1"));
		obj_registry_free(r2);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, files[1]);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);

	/* A missing directory or file. */
	assert_true(obj_registry_load_dir(reg, "/nonexistent/dir", NULL, NULL, &loaded, &failed) < 0);
	{
		struct lwm2m_error err;
		assert_true(obj_registry_load_file(reg, "/nonexistent/9.xml", &err) < 0);
		assert_non_null(strstr(err.msg, "9.xml"));
	}
	obj_registry_free(reg);
}

static void test_versions(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	struct lwm2m_error err;
	char xml[1024];
	size_t before = obj_registry_count(reg);
	const struct obj_def *d;

	obj_xml(xml, sizeof(xml), 40300, "1.1", "T11", "Float");
	assert_int_equal(load_str(reg, xml, "t11", &err), 0);
	/* Only 1.1 known: an implied 1.0 falls back to the same major version. */
	d = obj_registry_find_for(reg, 40300, NULL, "1.2");
	assert_non_null(d);
	assert_string_equal(d->version, "1.1");
	obj_xml(xml, sizeof(xml), 40300, "1.0", "T10", "Integer");
	assert_int_equal(load_str(reg, xml, "t10", &err), 0);
	obj_xml(xml, sizeof(xml), 40300, "2.0", "T20", "String");
	assert_int_equal(load_str(reg, xml, "t20", &err), 0);
	assert_int_equal(obj_registry_count(reg), before + 3);

	assert_string_equal(obj_registry_find(reg, 40300, NULL)->name, "T20");   /* most recent */
	assert_string_equal(obj_registry_find(reg, 40300, "1.0")->name, "T10");
	assert_string_equal(obj_registry_find(reg, 40300, "1.1")->name, "T11");
	assert_null(obj_registry_find(reg, 40300, "1.2"));
	/* Registrations: no ver = 1.0 for a non-core object. */
	assert_string_equal(obj_registry_find_for(reg, 40300, NULL, "1.2")->name, "T10");
	assert_string_equal(obj_registry_find_for(reg, 40300, NULL, NULL)->name, "T10");
	assert_string_equal(obj_registry_find_for(reg, 40300, "1.1", "1.2")->name, "T11");
	assert_string_equal(obj_registry_find_for(reg, 40300, "1.5", "1.2")->name, "T11");
	assert_string_equal(obj_registry_find_for(reg, 40300, "2.0", "1.0")->name, "T20");
	assert_null(obj_registry_find_for(reg, 40300, "3.0", "1.2"));
	assert_null(obj_registry_find_for(reg, 40301, NULL, "1.2"));

	/* Replacing one version keeps the others. */
	obj_xml(xml, sizeof(xml), 40300, "1.1", "T11b", "Float");
	assert_int_equal(load_str(reg, xml, "t11b", &err), 0);
	assert_int_equal(obj_registry_count(reg), before + 3);
	assert_string_equal(obj_registry_find(reg, 40300, "1.1")->name, "T11b");

	/* Core objects. */
	assert_string_equal(obj_registry_find_for(reg, 3, NULL, "1.2")->version, "1.2");
	assert_string_equal(obj_registry_find_for(reg, 3, NULL, "1.1")->version, "1.2");
	assert_string_equal(obj_registry_find_for(reg, 25, NULL, "1.2")->version, "1.0");
	assert_string_equal(obj_registry_find_for(reg, 25, "2.0", "1.2")->version, "2.0");
	assert_string_equal(obj_registry_find_for(reg, 25, "2.0", "1.2")->version, "2.0");
	assert_string_equal(obj_registry_find_for(reg, 5, "1.1", "1.2")->version, "1.1");
	assert_string_equal(obj_registry_find_for(reg, 5, NULL, "1.2")->version, "1.2");
	assert_string_equal(obj_registry_find_for(reg, 21, NULL, "1.1")->version, "2.0");
	assert_null(obj_registry_find_for(reg, 21, "1.0", "1.1"));
	/* A 1.1 Device definition, once known, is used for 1.1 clients. */
	obj_xml(xml, sizeof(xml), 3, "1.1", "Device", "String");
	assert_int_equal(load_str(reg, xml, "3-1_1", &err), 0);
	assert_string_equal(obj_registry_find_for(reg, 3, NULL, "1.1")->version, "1.1");
	assert_string_equal(obj_registry_find_for(reg, 3, NULL, "1.2")->version, "1.2");
	assert_string_equal(obj_registry_find(reg, 3, NULL)->version, "1.2");
	assert_true(obj_registry_find(reg, 3, NULL)->builtin);

	assert_string_equal(obj_implied_version(5, "1.2"), "1.2");
	assert_string_equal(obj_implied_version(4, "1.1"), "1.2");
	assert_string_equal(obj_implied_version(4, "1.2"), "1.3");
	assert_string_equal(obj_implied_version(3, "1.0"), "1.0");
	assert_string_equal(obj_implied_version(3, NULL), "1.2");
	assert_string_equal(obj_implied_version(21, "1.2"), "2.0");
	assert_string_equal(obj_implied_version(21, "1.1"), "1.0");
	assert_string_equal(obj_implied_version(3303, "1.2"), "1.0");
	assert_string_equal(obj_implied_version(25, "1.1"), "1.0");

	assert_true(obj_version_compare("1.0", "1.1") < 0);
	assert_true(obj_version_compare("1.10", "1.9") > 0);
	assert_true(obj_version_compare("2.0", "1.99") > 0);
	assert_int_equal(obj_version_compare("1.1", "01.1"), 0);
	assert_int_equal(obj_version_compare("1", "1.0"), 0);
	assert_int_equal(obj_version_compare("1.0", "1.0"), 0);
	obj_registry_free(reg);
}

/* ---------- typers ---------- */

static void test_registry_typer(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	struct fmt_typer t = obj_registry_typer(reg);
	struct lwm2m_path p;

	p = mkpath(3, 3, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_STRING);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), 0);
	p = mkpath(4, 3, 0, 6, 1);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_INTEGER);
	p = mkpath(3, 3, 0, 6);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), 1);
	p = mkpath(3, 3, 0, 13);
	assert_int_equal(t.type_of(t.ctx, "dev1", &p), LWM2M_TYPE_TIME);
	p = mkpath(3, 3, 0, 4);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_NONE);
	p = mkpath(3, 6, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_FLOAT);
	p = mkpath(3, 1, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_INTEGER);
	p = mkpath(3, 1, 0, 12);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_TIME);
	p = mkpath(3, 26, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_UNSIGNED);
	p = mkpath(3, 9999, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_NONE);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), -1);
	p = mkpath(2, 3, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_NONE);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), -1);
	p = mkpath(3, 3, 0, 99);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), -1);
	obj_registry_free(reg);
}

static void test_hint_typer(void **state)
{
	struct obj_registry *reg = obj_registry_new();
	struct obj_hint_typer ht;
	struct fmt_typer t;
	struct lwm2m_path p;

	obj_hint_typer_init(&ht, reg);
	p = mkpath(2, 65535, 0);
	assert_int_equal(obj_hint_typer_add(&ht, &p, LWM2M_TYPE_STRING), 0);
	p = mkpath(3, 65535, 0, 1);
	assert_int_equal(obj_hint_typer_add(&ht, &p, LWM2M_TYPE_INTEGER), 0);
	p = mkpath(3, 3, 0, 0);
	assert_int_equal(obj_hint_typer_add(&ht, &p, LWM2M_TYPE_OPAQUE), 0);
	p = mkpath(4, 65535, 0, 5, 0);
	assert_int_equal(obj_hint_typer_add(&ht, &p, LWM2M_TYPE_BOOLEAN), 0);
	t = obj_hint_typer_get(&ht);

	p = mkpath(3, 65535, 0, 1);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_INTEGER);    /* deepest hint */
	p = mkpath(3, 65535, 0, 2);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_STRING);     /* instance hint */
	p = mkpath(4, 65535, 0, 1, 3);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_INTEGER);
	p = mkpath(3, 3, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_OPAQUE);     /* hint over model */
	p = mkpath(3, 3, 0, 1);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_STRING);     /* the model */
	p = mkpath(3, 65535, 1, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_NONE);       /* nobody knows */
	obj_hint_typer_set_default(&ht, LWM2M_TYPE_FLOAT);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_FLOAT);      /* the default */
	p = mkpath(3, 65535, 0, 5);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), 1);                 /* from the RI hint */
	p = mkpath(3, 65535, 0, 6);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), -1);
	p = mkpath(3, 3, 0, 7);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), 1);
	/* Changing a hint. */
	p = mkpath(3, 65535, 0, 1);
	assert_int_equal(obj_hint_typer_add(&ht, &p, LWM2M_TYPE_TIME), 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_TIME);
	assert_int_equal(ht.hint_count, 4);

	/* Per-registration versions, per prefix. */
	p = mkpath(3, 25, 0, 3);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_FLOAT);      /* 1.0 has no /3 */
	assert_int_equal(obj_hint_typer_use_def(&ht, "dev1", obj_registry_find(reg, 25, "2.0")), 0);
	assert_int_equal(t.type_of(t.ctx, "dev1", &p), LWM2M_TYPE_CORELNK);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_FLOAT);
	assert_int_equal(obj_hint_typer_use_def(&ht, NULL, obj_registry_find(reg, 25, "2.0")), 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_CORELNK);
	assert_int_equal(obj_hint_typer_use_def(&ht, NULL, obj_registry_find(reg, 25, "1.0")), 0);
	assert_int_equal(ht.def_count, 2);
	p = mkpath(3, 25, 0, 2);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_OBJLNK);
	assert_true(obj_hint_typer_add(NULL, &p, LWM2M_TYPE_TIME) < 0);
	assert_true(obj_hint_typer_use_def(&ht, NULL, NULL) < 0);
	obj_hint_typer_free(&ht);
	obj_hint_typer_free(NULL);

	/* Without a registry: hints and the default only. */
	obj_hint_typer_init(&ht, NULL);
	t = obj_hint_typer_get(&ht);
	p = mkpath(3, 3, 0, 0);
	assert_int_equal(t.type_of(t.ctx, NULL, &p), LWM2M_TYPE_NONE);
	assert_int_equal(t.is_multiple(t.ctx, NULL, &p), -1);
	obj_hint_typer_free(&ht);
	obj_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_core_objects),
		cmocka_unit_test(test_builtin_matches_registry_xml),
		cmocka_unit_test(test_resource_lookup),
		cmocka_unit_test(test_load_all_shared_objects),
		cmocka_unit_test(test_malformed_xml),
		cmocka_unit_test(test_well_formed_details),
		cmocka_unit_test(test_load_dir_reports),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_registry_typer),
		cmocka_unit_test(test_hint_typer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
