/* OMA LwM2M object definition files (LWM2M.xsd / LWM2M-v1_1.xsd) read with expat.
 *
 * Only the fields the model keeps are collected; descriptions and unknown elements are
 * skipped without buffering. A document is all or nothing: its objects reach the registry
 * only after the whole document parsed and every object checked out. DOCTYPE declarations
 * are refused, so no entity can expand. */
#include "model.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define FIELD_MAX 1024               /* longest text kept for one field (names, ranges...) */
#define MAX_DEPTH 256                /* element nesting bound */
#define MAX_DOC_SIZE (16u << 20)     /* a definition file is a few KB; refuse absurd ones */

enum xml_ctx { C_DOC = 0, C_ROOT, C_OBJECT, C_RESOURCES, C_ITEM, C_FIELD };

enum xml_field {
	F_NAME = 0, F_OBJECT_ID, F_URN, F_LWM2M_VERSION, F_OBJECT_VERSION, F_MULTIPLE,
	F_MANDATORY, F_OPERATIONS, F_TYPE, F_RANGE, F_UNITS, F_RESOURCES, F_COUNT
};

struct field_name {
	const char *tag;
	enum xml_field field;
	bool in_object, in_item;
};

static const struct field_name field_names[] = {
	{"Name", F_NAME, true, true},
	{"ObjectID", F_OBJECT_ID, true, false},
	{"ObjectURN", F_URN, true, false},
	{"LWM2MVersion", F_LWM2M_VERSION, true, false},
	{"ObjectVersion", F_OBJECT_VERSION, true, false},
	{"MultipleInstances", F_MULTIPLE, true, true},
	{"Mandatory", F_MANDATORY, true, true},
	{"Operations", F_OPERATIONS, false, true},
	{"Type", F_TYPE, false, true},
	{"RangeEnumeration", F_RANGE, false, true},
	{"Units", F_UNITS, false, true},
};

struct xml_state {
	XML_Parser parser;
	int rc;                          /* 0 or the first failure */
	unsigned long err_line;
	long err_offset;
	char err_msg[LWM2M_ERROR_MSG_MAX];

	enum xml_ctx stack[MAX_DEPTH];
	size_t depth;
	size_t skip;                     /* > 0 inside an element being skipped */

	enum xml_field field;            /* the field being read (top is C_FIELD) */
	char text[FIELD_MAX + 1];
	size_t text_len;

	struct obj_def *obj;             /* the object being read */
	unsigned long obj_line;
	unsigned obj_seen;               /* bit per enum xml_field */
	bool has_id;
	size_t res_cap;                  /* capacity of obj->res */
	unsigned long *res_lines;        /* line of each resource of obj */
	size_t lines_cap;
	unsigned item_seen;

	struct obj_def **done;           /* finished objects of this document */
	unsigned long *done_lines;
	size_t done_count, done_cap;
};

static unsigned long current_line(const struct xml_state *st)
{
	return (unsigned long)XML_GetCurrentLineNumber(st->parser);
}

/* Record the first failure (at `line`, or the parser's position when 0) and stop. */
static void fail_at(struct xml_state *st, int code, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_at(struct xml_state *st, int code, unsigned long line, const char *fmt, ...)
{
	va_list ap;
	XML_Index off;

	if(st->rc) return;
	st->rc = -code;
	st->err_line = line ? line : current_line(st);
	off = XML_GetCurrentByteIndex(st->parser);
	st->err_offset = off >= 0 ? (long)off : -1;
	va_start(ap, fmt);
	vsnprintf(st->err_msg, sizeof(st->err_msg), fmt, ap);
	va_end(ap);
	XML_StopParser(st->parser, XML_FALSE);
}

#define fail(st, ...) fail_at((st), LWM2M_EINVAL, 0, __VA_ARGS__)

/* ---- small value parsers ---- */

/* Trim and collapse whitespace runs into one space, in place. */
static void normalize_space(char *s)
{
	char *w = s;
	bool space = false;

	for(const char *r = s; *r; r++){
		if(isspace((unsigned char)*r)){
			space = w != s;
			continue;
		}
		if(space) *w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

static bool parse_id(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if(!*s) return false;
	for(; *s; s++){
		if(*s < '0' || *s > '9') return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if(v > LWM2M_ID_MAX) return false;
	}
	*out = (uint16_t)v;
	return true;
}

/* 1*DIGIT "." 1*DIGIT, as ObjectVersion and ver= use. */
static bool valid_version(const char *s)
{
	size_t major = strspn(s, "0123456789");
	size_t minor;

	if(major == 0 || major > 5 || s[major] != '.') return false;
	minor = strspn(s + major + 1, "0123456789");
	return minor > 0 && minor <= 5 && s[major + 1 + minor] == '\0';
}

static bool parse_operations(const char *s, uint8_t *out)
{
	uint8_t ops = 0;

	if(!strcasecmp(s, "none")) s = "";
	for(; *s; s++){
		uint8_t bit;
		switch(toupper((unsigned char)*s)){
			case 'R': bit = OBJ_OP_R; break;
			case 'W': bit = OBJ_OP_W; break;
			case 'E': bit = OBJ_OP_E; break;
			default: return false;
		}
		if(ops & bit) return false;
		ops |= bit;
	}
	*out = ops;
	return true;
}

/* "" keeps the default; returns false for an unknown word. */
static bool parse_choice(const char *s, const char *yes, const char *no, bool *out)
{
	if(!*s) return true;
	if(!strcasecmp(s, yes)) *out = true;
	else if(!strcasecmp(s, no)) *out = false;
	else return false;
	return true;
}

static bool parse_type(const char *s, enum lwm2m_type *out)
{
	enum lwm2m_type t;

	if(!*s || !strcasecmp(s, "none")){
		*out = LWM2M_TYPE_NONE;
		return true;
	}
	t = lwm2m_type_from_name(s);
	if(t == LWM2M_TYPE_NONE) return false;
	*out = t;
	return true;
}

static bool replace_string(char **dst, const char *s)
{
	char *copy = strdup(s);

	if(!copy) return false;
	free(*dst);
	*dst = copy;
	return true;
}

/* ---- building objects ---- */

static void discard_object(struct xml_state *st)
{
	obj_def_free(st->obj);
	st->obj = NULL;
}

static void begin_object(struct xml_state *st)
{
	st->obj = calloc(1, sizeof(*st->obj));
	if(!st->obj || !(st->obj->name = strdup("")) || !(st->obj->urn = strdup(""))){
		fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
		return;
	}
	st->obj_line = current_line(st);
	st->res_cap = 0;
	st->obj_seen = 0;
	st->has_id = false;
}

static void begin_item(struct xml_state *st, const XML_Char **attrs)
{
	struct obj_def *obj = st->obj;
	const char *id_text = NULL;
	struct obj_resource_def *r;
	char idbuf[16];
	uint16_t id;

	for(size_t i = 0; attrs[i]; i += 2){
		if(!strcmp(attrs[i], "ID")) id_text = attrs[i + 1];
	}
	if(!id_text){
		fail(st, "<Item> without an ID attribute");
		return;
	}
	snprintf(idbuf, sizeof(idbuf), "%s", id_text);
	normalize_space(idbuf);
	if(strlen(id_text) >= sizeof(idbuf) || !parse_id(idbuf, &id)){
		fail(st, "resource ID \"%.32s\" is not a number in 0..65535", id_text);
		return;
	}
	if(obj->res_count == st->res_cap){
		size_t cap = st->res_cap ? st->res_cap * 2 : 16;
		struct obj_resource_def *res = realloc(obj->res, cap * sizeof(*res));

		if(!res){
			fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
			return;
		}
		obj->res = res;
		st->res_cap = cap;
	}
	if(obj->res_count == st->lines_cap){
		size_t cap = st->lines_cap ? st->lines_cap * 2 : 16;
		unsigned long *lines = realloc(st->res_lines, cap * sizeof(*lines));

		if(!lines){
			fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
			return;
		}
		st->res_lines = lines;
		st->lines_cap = cap;
	}
	r = &obj->res[obj->res_count];
	memset(r, 0, sizeof(*r));
	r->id = id;
	obj->res_count++;      /* counted now so that obj_def_free sees the strings below */
	st->res_lines[obj->res_count - 1] = current_line(st);
	if(!(r->name = strdup("")) || !(r->range_enum = strdup("")) || !(r->units = strdup(""))){
		fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
		return;
	}
	st->item_seen = 0;
}

static void set_object_field(struct xml_state *st, const char *text)
{
	struct obj_def *obj = st->obj;
	bool ok = true;

	switch(st->field){
		case F_NAME: ok = replace_string(&obj->name, text); break;
		case F_URN: ok = replace_string(&obj->urn, text); break;
		case F_OBJECT_ID:
			if(!parse_id(text, &obj->id)){
				fail(st, "ObjectID \"%.32s\" is not a number in 0..65535", text);
				return;
			}
			st->has_id = true;
			break;
		case F_OBJECT_VERSION:
			if(!*text) break;
			if(!valid_version(text)){
				fail(st, "ObjectVersion \"%.32s\" is not major.minor", text);
				return;
			}
			ok = replace_string(&obj->version, text);
			break;
		case F_LWM2M_VERSION:
			if(*text) ok = replace_string(&obj->lwm2m_version, text);
			break;
		case F_MULTIPLE:
			if(!parse_choice(text, "Multiple", "Single", &obj->multiple)){
				fail(st, "object MultipleInstances \"%.32s\" is not Single or Multiple", text);
				return;
			}
			break;
		case F_MANDATORY:
			if(!parse_choice(text, "Mandatory", "Optional", &obj->mandatory)){
				fail(st, "object Mandatory \"%.32s\" is not Mandatory or Optional", text);
				return;
			}
			break;
		default:
			break;
	}
	if(!ok) fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
}

static void set_item_field(struct xml_state *st, const char *text)
{
	struct obj_resource_def *r = &st->obj->res[st->obj->res_count - 1];
	bool ok = true;

	switch(st->field){
		case F_NAME: ok = replace_string(&r->name, text); break;
		case F_RANGE: ok = replace_string(&r->range_enum, text); break;
		case F_UNITS: ok = replace_string(&r->units, text); break;
		case F_OPERATIONS:
			if(!parse_operations(text, &r->operations)){
				fail(st, "resource %u: Operations \"%.32s\" is not a combination of R, W, E",
						r->id, text);
				return;
			}
			break;
		case F_TYPE:
			if(!parse_type(text, &r->type)){
				fail(st, "resource %u: unknown type \"%.32s\"", r->id, text);
				return;
			}
			break;
		case F_MULTIPLE:
			if(!parse_choice(text, "Multiple", "Single", &r->multiple)){
				fail(st, "resource %u: MultipleInstances \"%.32s\" is not Single or Multiple",
						r->id, text);
				return;
			}
			break;
		case F_MANDATORY:
			if(!parse_choice(text, "Mandatory", "Optional", &r->mandatory)){
				fail(st, "resource %u: Mandatory \"%.32s\" is not Mandatory or Optional",
						r->id, text);
				return;
			}
			break;
		default:
			break;
	}
	if(!ok) fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
}

static int compare_res(const void *a, const void *b)
{
	const struct obj_resource_def *x = a, *y = b;

	return (int)x->id - (int)y->id;
}

/* A repeated resource ID is an error at the line of its second <Item>; then sort. */
static void check_resources(struct xml_state *st)
{
	struct obj_def *obj = st->obj;
	uint8_t *seen;

	if(obj->res_count < 2) return;
	seen = calloc((LWM2M_ID_MAX + 1) / 8, 1);
	if(!seen){
		fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
		return;
	}
	for(size_t i = 0; i < obj->res_count; i++){
		uint16_t id = obj->res[i].id;
		uint8_t bit = (uint8_t)(1u << (id & 7));

		if(seen[id >> 3] & bit){
			free(seen);
			fail_at(st, LWM2M_EINVAL, st->res_lines[i], "duplicate resource ID %u in object %u",
					id, obj->id);
			return;
		}
		seen[id >> 3] |= bit;
	}
	free(seen);
	qsort(obj->res, obj->res_count, sizeof(*obj->res), compare_res);
}

static void end_object(struct xml_state *st)
{
	struct obj_def *obj = st->obj;

	if(!st->has_id){
		fail(st, "<Object> without <ObjectID>");
		return;
	}
	if(!obj->version && !(obj->version = strdup("1.0"))){
		fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
		return;
	}
	if(!obj->lwm2m_version && !(obj->lwm2m_version = strdup("1.0"))){
		fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
		return;
	}
	check_resources(st);
	if(st->rc) return;
	if(st->done_count == st->done_cap){
		size_t cap = st->done_cap ? st->done_cap * 2 : 4;
		struct obj_def **done = realloc(st->done, cap * sizeof(*done));
		unsigned long *lines;

		if(!done){
			fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
			return;
		}
		st->done = done;
		lines = realloc(st->done_lines, cap * sizeof(*lines));
		if(!lines){
			fail_at(st, LWM2M_ENOMEM, 0, "out of memory");
			return;
		}
		st->done_lines = lines;
		st->done_cap = cap;
	}
	st->done[st->done_count] = obj;
	st->done_lines[st->done_count] = st->obj_line;
	st->done_count++;
	st->obj = NULL;
}

/* ---- expat handlers ---- */

static const struct field_name *lookup_field(const char *tag, bool item)
{
	for(size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++){
		const struct field_name *f = &field_names[i];
		if(strcmp(f->tag, tag) != 0) continue;
		if(item ? f->in_item : f->in_object) return f;
	}
	return NULL;
}

static void push(struct xml_state *st, enum xml_ctx c)
{
	st->stack[st->depth++] = c;
}

static void begin_field(struct xml_state *st, const char *tag, bool item)
{
	const struct field_name *f = lookup_field(tag, item);
	unsigned *seen = item ? &st->item_seen : &st->obj_seen;

	if(!f){
		st->skip = 1;
		return;
	}
	if(*seen & (1u << f->field)){
		fail(st, "<%s> given twice", tag);
		return;
	}
	*seen |= 1u << f->field;
	st->field = f->field;
	st->text_len = 0;
	push(st, C_FIELD);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_state *st = ud;
	enum xml_ctx top;

	if(st->rc) return;
	if(st->skip){
		st->skip++;
		if(st->skip + st->depth > MAX_DEPTH) fail(st, "elements nested deeper than %d", MAX_DEPTH);
		return;
	}
	if(st->depth >= MAX_DEPTH){
		fail(st, "elements nested deeper than %d", MAX_DEPTH);
		return;
	}
	top = st->depth ? st->stack[st->depth - 1] : C_DOC;
	switch(top){
		case C_DOC:
			if(strcmp(name, "LWM2M") != 0){
				fail(st, "root element is <%.40s>, expected <LWM2M>", name);
				return;
			}
			push(st, C_ROOT);
			break;
		case C_ROOT:
			if(strcmp(name, "Object") != 0){
				st->skip = 1;
				return;
			}
			begin_object(st);
			if(!st->rc) push(st, C_OBJECT);
			break;
		case C_OBJECT:
			if(strcmp(name, "Resources") == 0){
				if(st->obj_seen & (1u << F_RESOURCES)){
					fail(st, "<Resources> given twice");
					return;
				}
				st->obj_seen |= 1u << F_RESOURCES;
				push(st, C_RESOURCES);
				return;
			}
			begin_field(st, name, false);
			break;
		case C_RESOURCES:
			if(strcmp(name, "Item") != 0){
				st->skip = 1;
				return;
			}
			begin_item(st, attrs);
			if(!st->rc) push(st, C_ITEM);
			break;
		case C_ITEM:
			begin_field(st, name, true);
			break;
		case C_FIELD:
			fail(st, "unexpected element <%.40s> inside a text field", name);
			break;
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xml_state *st = ud;
	enum xml_ctx top;

	if(st->rc) return;
	if(st->skip){
		st->skip--;
		return;
	}
	if(st->depth == 0) return;
	top = st->stack[--st->depth];
	switch(top){
		case C_FIELD:
			st->text[st->text_len] = '\0';
			normalize_space(st->text);
			if(st->stack[st->depth - 1] == C_ITEM) set_item_field(st, st->text);
			else set_object_field(st, st->text);
			break;
		case C_OBJECT:
			end_object(st);
			break;
		case C_ROOT:
			if(st->done_count == 0) fail(st, "no <Object> element");
			break;
		default:
			break;
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_state *st = ud;

	if(st->rc || st->skip || st->depth == 0 || st->stack[st->depth - 1] != C_FIELD) return;
	if(len < 0 || (size_t)len > FIELD_MAX - st->text_len){
		fail(st, "text field longer than %d bytes", FIELD_MAX);
		return;
	}
	memcpy(st->text + st->text_len, s, (size_t)len);
	st->text_len += (size_t)len;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
		const XML_Char *pubid, int has_internal_subset)
{
	fail(ud, "DOCTYPE declarations are not allowed");
}

static void state_free(struct xml_state *st)
{
	for(size_t i = 0; i < st->done_count; i++) obj_def_free(st->done[i]);
	free(st->done);
	free(st->done_lines);
	free(st->res_lines);
	discard_object(st);
}

/* Parse a document into st->done (or st->rc with err_line/err_msg). */
static void parse_document(struct xml_state *st, const char *buf, size_t len)
{
	if(len > MAX_DOC_SIZE){
		st->rc = -LWM2M_ETOOBIG;
		st->err_line = 0;
		st->err_offset = -1;
		snprintf(st->err_msg, sizeof(st->err_msg), "document larger than %u bytes", MAX_DOC_SIZE);
		return;
	}
	st->parser = XML_ParserCreate(NULL);
	if(!st->parser){
		st->rc = -LWM2M_ENOMEM;
		st->err_offset = -1;
		snprintf(st->err_msg, sizeof(st->err_msg), "out of memory");
		return;
	}
	XML_SetUserData(st->parser, st);
	XML_SetElementHandler(st->parser, on_start, on_end);
	XML_SetCharacterDataHandler(st->parser, on_text);
	XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
	if(XML_Parse(st->parser, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && !st->rc){
		XML_Index off = XML_GetCurrentByteIndex(st->parser);
		st->rc = -LWM2M_EINVAL;
		st->err_line = current_line(st);
		st->err_offset = off >= 0 ? (long)off : -1;
		snprintf(st->err_msg, sizeof(st->err_msg), "XML error: %s",
				XML_ErrorString(XML_GetErrorCode(st->parser)));
	}
	if(!st->rc && st->done_count == 0) fail(st, "no <Object> element");
	XML_ParserFree(st->parser);
	st->parser = NULL;
}

/* ---- loading ---- */

struct load_report {
	obj_load_report_fn fn;
	void *ctx;
	const char *file;
};

static int load_buffer(struct obj_registry *reg, const char *buf, size_t len, const char *name,
		struct lwm2m_error *err, unsigned long *err_line, char *bare, size_t bare_size,
		const struct load_report *rep)
{
	struct xml_state *st = calloc(1, sizeof(*st));
	int rc;

	if(!st) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "%s: out of memory", name);
	parse_document(st, buf, len);
	rc = st->rc;
	if(rc){
		if(err_line) *err_line = st->err_line;
		if(bare) snprintf(bare, bare_size, "%s", st->err_msg);
		lwm2m_fail(err, rc, st->err_offset, "%s:%lu: %s", name, st->err_line, st->err_msg);
		state_free(st);
		free(st);
		return rc;
	}
	for(size_t i = 0; i < st->done_count; i++){
		struct obj_def *def = st->done[i];
		bool replaced;

		rc = obj_registry_add(reg, def, &replaced);
		if(rc != 0){
			lwm2m_fail(err, rc, -1, "%s: out of memory", name);
			if(bare) snprintf(bare, bare_size, "out of memory");
			break;
		}
		st->done[i] = NULL;
		if(replaced && rep && rep->fn){
			char msg[LWM2M_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "object %u version %s replaces an earlier definition",
					def->id, def->version);
			rep->fn(rep->ctx, OBJ_LOAD_REPLACED, rep->file, st->done_lines[i], msg);
		}
	}
	state_free(st);
	free(st);
	return rc;
}

int obj_registry_load_xml(struct obj_registry *reg, const char *buf, size_t len,
		const char *name_for_errors, struct lwm2m_error *err)
{
	const char *name = name_for_errors ? name_for_errors : "<xml>";

	if(!reg || (!buf && len)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: no input", name);
	return load_buffer(reg, buf ? buf : "", len, name, err, NULL, NULL, 0, NULL);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Read a whole regular file (bounded). */
static int read_file(const char *path, char **out, size_t *len, char *why, size_t why_size)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *data;

	if(!f){
		snprintf(why, why_size, "cannot open: %s", strerror(errno));
		return -LWM2M_ENOENT;
	}
	if(fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)){
		fclose(f);
		snprintf(why, why_size, "not a regular file");
		return -LWM2M_EINVAL;
	}
	if((unsigned long long)sb.st_size > MAX_DOC_SIZE){
		fclose(f);
		snprintf(why, why_size, "file larger than %u bytes", MAX_DOC_SIZE);
		return -LWM2M_ETOOBIG;
	}
	data = malloc((size_t)sb.st_size + 1);
	if(!data){
		fclose(f);
		snprintf(why, why_size, "out of memory");
		return -LWM2M_ENOMEM;
	}
	*len = fread(data, 1, (size_t)sb.st_size, f);
	if(ferror(f)){
		free(data);
		fclose(f);
		snprintf(why, why_size, "read error");
		return -LWM2M_EINVAL;
	}
	fclose(f);
	data[*len] = '\0';
	*out = data;
	return 0;
}

static int load_path(struct obj_registry *reg, const char *path, struct lwm2m_error *err,
		unsigned long *line, char *bare, size_t bare_size, const struct load_report *rep)
{
	const char *name = base_name(path);
	char why[LWM2M_ERROR_MSG_MAX];
	char *data = NULL;
	size_t len = 0;
	int rc = read_file(path, &data, &len, why, sizeof(why));

	if(rc != 0){
		if(line) *line = 0;
		if(bare) snprintf(bare, bare_size, "%s", why);
		return lwm2m_fail(err, rc, -1, "%s: %s", name, why);
	}
	rc = load_buffer(reg, data, len, name, err, line, bare, bare_size, rep);
	free(data);
	return rc;
}

int obj_registry_load_file(struct obj_registry *reg, const char *path, struct lwm2m_error *err)
{
	if(!reg || !path) return lwm2m_fail(err, LWM2M_EINVAL, -1, "no registry or path");
	return load_path(reg, path, err, NULL, NULL, 0, NULL);
}

static bool is_xml_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && !strcasecmp(name + n - 4, ".xml");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.xml names of a directory, sorted (so that "later replaces earlier" is stable). */
static int list_xml(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*count = 0;
	if(!d) return -LWM2M_ENOENT;
	while((e = readdir(d)) != NULL){
		char *copy;
		if(!is_xml_name(e->d_name)) continue;
		if(*count == cap){
			size_t ncap = cap ? cap * 2 : 64;
			char **grown = realloc(*names, ncap * sizeof(*grown));
			if(!grown) goto nomem;
			*names = grown;
			cap = ncap;
		}
		if(!(copy = strdup(e->d_name))) goto nomem;
		(*names)[(*count)++] = copy;
	}
	closedir(d);
	if(*count) qsort(*names, *count, sizeof(**names), compare_names);
	return 0;
nomem:
	closedir(d);
	for(size_t i = 0; i < *count; i++) free((*names)[i]);
	free(*names);
	*names = NULL;
	*count = 0;
	return -LWM2M_ENOMEM;
}

int obj_registry_load_dir(struct obj_registry *reg, const char *dir, obj_load_report_fn report,
		void *ctx, size_t *loaded, size_t *failed)
{
	char **names;
	size_t count, ok = 0, bad = 0;
	int rc;

	if(loaded) *loaded = 0;
	if(failed) *failed = 0;
	if(!reg || !dir) return -LWM2M_EINVAL;
	rc = list_xml(dir, &names, &count);
	if(rc != 0) return rc;
	for(size_t i = 0; i < count; i++){
		struct load_report rep = {report, ctx, names[i]};
		char bare[LWM2M_ERROR_MSG_MAX] = "";
		unsigned long line = 0;
		size_t n = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(n);

		if(!path){
			rc = -LWM2M_ENOMEM;
			snprintf(bare, sizeof(bare), "out of memory");
		}else{
			snprintf(path, n, "%s/%s", dir, names[i]);
			rc = load_path(reg, path, NULL, &line, bare, sizeof(bare), &rep);
			free(path);
		}
		if(rc == 0){
			ok++;
		}else{
			bad++;
			if(report) report(ctx, OBJ_LOAD_FAILED, names[i], line, bare);
		}
		free(names[i]);
	}
	free(names);
	if(loaded) *loaded = ok;
	if(failed) *failed = bad;
	return 0;
}
