/* CoRE link-format (RFC 6690) reader and writer, plus the LwM2M registration object list. */
#include "link_format.h"

#include <stdlib.h>
#include <string.h>

#include "attributes.h"
#include "path.h"

/* ---- character classes (RFC 3986, RFC 5987, RFC 6690) ---- */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* pchar without pct-encoded, plus '/': what a path-absolute may hold literally. */
static bool is_uri_char(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* RFC 5987 attr-char: the characters of a parameter name. */
static bool is_name_char(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* RFC 6690 ptokenchar: the characters of an unquoted value. */
static bool is_ptoken_char(unsigned char c)
{
	return is_alpha(c) || is_digit(c)
		|| (c != '\0' && strchr("!#$%&'()*+-./:<=>?@[]^_`{|}~", c) != NULL);
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Length of the well-formed UTF-8 sequence (2..4 bytes) at s, or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if(s[0] >= 0xc2 && s[0] <= 0xdf){ n = 2; cp = s[0] & 0x1fu; }
	else if(s[0] >= 0xe0 && s[0] <= 0xef){ n = 3; cp = s[0] & 0x0fu; }
	else if(s[0] >= 0xf0 && s[0] <= 0xf4){ n = 4; cp = s[0] & 0x07u; }
	else return 0;
	if(avail < n) return 0;
	for(size_t i = 1; i < n; i++){
		if((s[i] & 0xc0) != 0x80) return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff
			|| (cp >= 0xd800 && cp <= 0xdfff)){
		return 0;   /* overlong, surrogate or beyond Unicode */
	}
	return n;
}

/* A URI as LwM2M links carry it: path-absolute, "/" or "/seg...", no query or fragment.
 * Returns the offset of the first bad byte, or len when valid. */
static size_t check_uri(const char *u, size_t len)
{
	if(len == 0 || u[0] != '/') return 0;
	if(len > 1 && u[1] == '/') return 1;    /* "//" would start an authority */
	for(size_t i = 0; i < len; i++){
		unsigned char c = (unsigned char)u[i];
		if(c == '%'){
			if(i + 2 >= len) return i;
			if(!is_hex((unsigned char)u[i + 1]) || !is_hex((unsigned char)u[i + 2])) return i;
			i += 2;
		}else if(!is_uri_char(c)){
			return i;
		}
	}
	return len;
}

static bool check_name(const char *n)
{
	if(!n || !*n) return false;
	for(; *n; n++){
		if(!is_name_char((unsigned char)*n)) return false;
	}
	return true;
}

static bool check_ptoken(const char *v)
{
	if(!*v) return false;
	for(; *v; v++){
		if(!is_ptoken_char((unsigned char)*v)) return false;
	}
	return true;
}

/* ---- LwM2M attribute values ---- */

static bool parse_uint_max(const char *s, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if(!s || !*s) return false;
	for(; *s; s++){
		if(!is_digit((unsigned char)*s)) return false;
		v = v * 10u + (uint32_t)(*s - '0');
		if(v > max) return false;
	}
	*out = v;
	return true;
}

/* 1*DIGIT "." 1*DIGIT */
static bool is_version(const char *s)
{
	const char *dot;
	size_t a, b;

	if(!s) return false;
	dot = strchr(s, '.');
	if(!dot) return false;
	a = (size_t)(dot - s);
	b = strlen(dot + 1);
	if(a == 0 || b == 0) return false;
	for(size_t i = 0; i < a; i++) if(!is_digit((unsigned char)s[i])) return false;
	for(size_t i = 0; i < b; i++) if(!is_digit((unsigned char)dot[1 + i])) return false;
	return true;
}

/* Calls fn for each content format of a ct value: "11543" or (quoted) "110 112 60".
 * Returns false on any malformed element. */
static bool ct_each(const struct lf_attr *a, bool (*fn)(void *ctx, uint16_t cf), void *ctx)
{
	const char *p = a->value;
	char num[8];

	if(!p || !*p) return false;
	if(!a->quoted && strchr(p, ' ')) return false;
	while(*p){
		size_t n = strcspn(p, " ");
		uint32_t v;
		if(n == 0 || n >= sizeof(num)) return false;
		memcpy(num, p, n);
		num[n] = '\0';
		if(!parse_uint_max(num, 65535u, &v)) return false;
		if(fn && !fn(ctx, (uint16_t)v)) return false;
		p += n;
		if(*p == ' '){
			p++;
			if(!*p) return false;   /* no trailing space */
		}
	}
	return true;
}

/* Checks the value of an attribute LwM2M gives a meaning to; others pass. */
static int check_lwm2m_attr(const struct lf_attr *a, size_t off, struct lwm2m_error *err)
{
	int id = attr_from_name(a->name, strlen(a->name));
	uint32_t v;

	if(id >= 0){
		struct lwm2m_attrs tmp;
		memset(&tmp, 0, sizeof(tmp));
		if(!a->value || a->quoted){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
					"link-format: %s at byte %zu needs an unquoted value", a->name, off);
		}
		if(attr_parse_value((enum lwm2m_attr_id)id, a->value, strlen(a->value), &tmp, NULL) != 0){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
					"link-format: bad %s value at byte %zu", a->name, off);
		}
		return 0;
	}
	if(strcmp(a->name, "dim") == 0 || strcmp(a->name, "ssid") == 0){
		bool dim = a->name[0] == 'd';
		if(!a->value || a->quoted || !parse_uint_max(a->value, dim ? 255u : 65534u, &v)
				|| (!dim && v == 0)){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
					"link-format: %s at byte %zu must be a number in %s", a->name, off,
					dim ? "0..255" : "1..65534");
		}
		return 0;
	}
	if(strcmp(a->name, "ver") == 0 || strcmp(a->name, "lwm2m") == 0){
		if(!is_version(a->value)){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
					"link-format: %s at byte %zu must be a version like 1.1", a->name, off);
		}
		return 0;
	}
	if(strcmp(a->name, "ct") == 0 && !ct_each(a, NULL, NULL)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)off,
				"link-format: ct at byte %zu must be content formats 0..65535", off);
	}
	return 0;
}

/* ---- freeing ---- */

static void attrs_free(struct lf_attr *attrs, size_t n)
{
	for(size_t i = 0; i < n; i++){
		free(attrs[i].name);
		free(attrs[i].value);
	}
	free(attrs);
}

static void link_free(struct lf_link *l)
{
	free(l->uri);
	attrs_free(l->attrs, l->n_attrs);
}

void lf_links_free(struct lf_links *links)
{
	if(!links) return;
	for(size_t i = 0; i < links->count; i++) link_free(&links->items[i]);
	free(links->items);
	links->items = NULL;
	links->count = 0;
}

/* ---- parser ---- */

struct lf_parser {
	const char *s;
	size_t len;
	size_t pos;
	struct lf_limits lim;
	struct lwm2m_error *err;
};

static char *dup_range(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if(!p) return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int fail_at(struct lf_parser *p, int code, const char *what)
{
	return lwm2m_fail(p->err, code, (long)p->pos, "link-format: %s at byte %zu", what, p->pos);
}

static int nomem(struct lf_parser *p)
{
	return lwm2m_fail(p->err, LWM2M_ENOMEM, (long)p->pos, "link-format: out of memory");
}

/* quoted-string after the opening '"'; only \" is an escape, other pairs stay as written. */
static int parse_quoted(struct lf_parser *p, char **out)
{
	size_t start = p->pos, n = 0;
	char *v;

	/* The unescaped value is never longer than the raw text. */
	v = malloc(p->len - start + 1);
	if(!v) return nomem(p);
	while(p->pos < p->len){
		unsigned char c = (unsigned char)p->s[p->pos];
		size_t k;

		if(c == '"'){
			char *fit;
			p->pos++;
			v[n] = '\0';
			fit = realloc(v, n + 1);   /* give back what the escapes saved */
			*out = fit ? fit : v;
			return 0;
		}
		if(c == '\\'){
			if(p->pos + 1 >= p->len) break;
			if(p->s[p->pos + 1] == '"'){
				v[n++] = '"';
				p->pos += 2;
				continue;
			}
			v[n++] = '\\';
			p->pos++;
			c = (unsigned char)p->s[p->pos];   /* the escaped byte is kept as is */
		}
		if(c < 0x80){
			if(is_ctl(c)){
				free(v);
				return fail_at(p, LWM2M_EINVAL, "control character in a quoted value");
			}
			v[n++] = (char)c;
			p->pos++;
			continue;
		}
		k = utf8_seq_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
		if(k == 0){
			free(v);
			return fail_at(p, LWM2M_EINVAL, "invalid UTF-8 in a quoted value");
		}
		memcpy(v + n, p->s + p->pos, k);
		n += k;
		p->pos += k;
	}
	free(v);
	p->pos = start - 1;
	return fail_at(p, LWM2M_EINVAL, "unterminated quoted value starting");
}

static int parse_attr(struct lf_parser *p, struct lf_attr *a)
{
	size_t start = p->pos;

	while(p->pos < p->len && is_name_char((unsigned char)p->s[p->pos])) p->pos++;
	if(p->pos == start) return fail_at(p, LWM2M_EINVAL, "empty or invalid attribute name");
	a->name = dup_range(p->s + start, p->pos - start);
	if(!a->name) return nomem(p);
	if(p->pos >= p->len || p->s[p->pos] != '=') return 0;   /* valueless */
	p->pos++;
	if(p->pos < p->len && p->s[p->pos] == '"'){
		p->pos++;
		a->quoted = true;
		return parse_quoted(p, &a->value);
	}
	start = p->pos;
	while(p->pos < p->len && is_ptoken_char((unsigned char)p->s[p->pos])) p->pos++;
	if(p->pos == start) return fail_at(p, LWM2M_EINVAL, "empty or invalid attribute value");
	a->value = dup_range(p->s + start, p->pos - start);
	return a->value ? 0 : nomem(p);
}

/* Appends one attribute to link, then checks it against the ones before. */
static int parse_link_attr(struct lf_parser *p, struct lf_link *l)
{
	size_t off = p->pos;
	struct lf_attr *grown;
	int rc;

	if(l->n_attrs >= p->lim.max_attrs){
		return fail_at(p, LWM2M_ETOOBIG, "too many attributes on one link");
	}
	grown = realloc(l->attrs, (l->n_attrs + 1) * sizeof(*grown));
	if(!grown) return nomem(p);
	l->attrs = grown;
	memset(&l->attrs[l->n_attrs], 0, sizeof(l->attrs[0]));
	rc = parse_attr(p, &l->attrs[l->n_attrs]);
	l->n_attrs++;                 /* owned by the link from here, even on error */
	if(rc || p->lim.generic) return rc;
	for(size_t i = 0; i + 1 < l->n_attrs; i++){
		if(strcmp(l->attrs[i].name, l->attrs[l->n_attrs - 1].name) == 0){
			return lwm2m_fail(p->err, LWM2M_EINVAL, (long)off,
					"link-format: attribute %s repeated at byte %zu", l->attrs[i].name, off);
		}
	}
	return check_lwm2m_attr(&l->attrs[l->n_attrs - 1], off, p->err);
}

static int parse_uri(struct lf_parser *p, struct lf_link *l)
{
	size_t start, bad;

	if(p->pos >= p->len || p->s[p->pos] != '<') return fail_at(p, LWM2M_EINVAL, "expected '<'");
	start = ++p->pos;
	while(p->pos < p->len && p->s[p->pos] != '>') p->pos++;
	if(p->pos >= p->len){
		p->pos = start - 1;
		return fail_at(p, LWM2M_EINVAL, "missing '>' for the '<'");
	}
	if(p->pos == start) return fail_at(p, LWM2M_EINVAL, "empty URI");
	bad = check_uri(p->s + start, p->pos - start);
	if(bad != p->pos - start){
		p->pos = start + bad;
		return fail_at(p, LWM2M_EINVAL, "URI is not an absolute path (bad byte)");
	}
	l->uri = dup_range(p->s + start, p->pos - start);
	if(!l->uri) return nomem(p);
	p->pos++;   /* '>' */
	return 0;
}

/* Legacy Bootstrap-Discover root: "lwm2m=1.0" with no URI, first element only. */
static bool at_bare_root(const struct lf_parser *p)
{
	static const char key[] = "lwm2m=";
	return !p->lim.strict && p->len - p->pos >= sizeof(key) - 1
		&& memcmp(p->s + p->pos, key, sizeof(key) - 1) == 0;
}

static int parse_link(struct lf_parser *p, struct lf_link *l, bool first)
{
	int rc;

	if(first && at_bare_root(p)){
		l->bare = true;
		l->uri = dup_range("/", 1);
		if(!l->uri) return nomem(p);
		rc = parse_link_attr(p, l);
		if(rc) return rc;
	}else{
		rc = parse_uri(p, l);
		if(rc) return rc;
	}
	while(p->pos < p->len && p->s[p->pos] == ';'){
		p->pos++;
		rc = parse_link_attr(p, l);
		if(rc) return rc;
	}
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void resolve_limits(const struct lf_limits *in, struct lf_limits *out)
{
	memset(out, 0, sizeof(*out));
	if(in) *out = *in;
	if(!out->max_len) out->max_len = LF_DEFAULT_MAX_LEN;
	if(!out->max_links) out->max_links = LF_DEFAULT_MAX_LINKS;
	if(!out->max_attrs) out->max_attrs = LF_DEFAULT_MAX_ATTRS;
}

int lf_parse(const char *s, size_t len, const struct lf_limits *lim, struct lf_links *out,
		struct lwm2m_error *err)
{
	struct lf_parser p = { .s = s, .len = len, .err = err };
	struct lf_links links = { 0 };
	size_t cap = 0;
	int rc = 0;

	resolve_limits(lim, &p.lim);
	out->items = NULL;
	out->count = 0;
	if(len && !s) return lwm2m_fail(err, LWM2M_EINVAL, -1, "link-format: no text");
	if(len > p.lim.max_len){
		return lwm2m_fail(err, LWM2M_ETOOBIG, -1, "link-format: payload of %zu bytes is above %zu",
				len, p.lim.max_len);
	}
	while(p.pos < len){
		struct lf_link *grown;

		if(links.count >= p.lim.max_links){
			rc = fail_at(&p, LWM2M_ETOOBIG, "too many links");
			break;
		}
		if(links.count == cap){
			cap = cap ? cap * 2 : 8;
			grown = realloc(links.items, cap * sizeof(*grown));
			if(!grown){
				rc = nomem(&p);
				break;
			}
			links.items = grown;
		}
		memset(&links.items[links.count], 0, sizeof(links.items[0]));
		rc = parse_link(&p, &links.items[links.count], links.count == 0);
		links.count++;
		if(rc) break;
		if(p.pos == len) break;
		if(p.s[p.pos] != ','){
			rc = fail_at(&p, LWM2M_EINVAL, "expected ',' between links");
			break;
		}
		p.pos++;
		while(!p.lim.strict && p.pos < len && is_ws(p.s[p.pos])) p.pos++;
		if(p.pos == len){
			rc = fail_at(&p, LWM2M_EINVAL, "trailing ',' (no link after it)");
			break;
		}
	}
	if(rc){
		lf_links_free(&links);
		return rc;
	}
	*out = links;
	return 0;
}

const char *lf_attr_get(const struct lf_link *link, const char *name, bool *present)
{
	for(size_t i = 0; i < link->n_attrs; i++){
		if(strcmp(link->attrs[i].name, name) == 0){
			if(present) *present = true;
			return link->attrs[i].value;
		}
	}
	if(present) *present = false;
	return NULL;
}

/* ---- writer ---- */

/* Can v be written as a quoted-string that parse_quoted reads back unchanged? Each '\'
 * takes the byte after it as a pair, so that byte must exist and not be '"'. */
static bool quotable(const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t len = strlen(v);

	for(size_t i = 0; i < len;){
		if(s[i] == '\\'){
			if(i + 1 >= len || s[i + 1] == '"') return false;
			i++;   /* the paired byte is checked as an ordinary byte below */
		}
		if(s[i] < 0x80){
			if(is_ctl(s[i])) return false;
			i++;
		}else{
			size_t k = utf8_seq_len(s + i, len - i);
			if(k == 0) return false;
			i += k;
		}
	}
	return true;
}

static int put_str(struct lwm2m_buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

static int put_attr(const struct lf_attr *a, bool lead, struct lwm2m_buf *out)
{
	int rc = 0;

	if(!check_name(a->name)) return -LWM2M_EINVAL;
	if(a->value && !a->quoted && !check_ptoken(a->value)) return -LWM2M_EINVAL;
	if(a->value && a->quoted && !quotable(a->value)) return -LWM2M_EINVAL;
	if(lead) rc = buf_append_byte(out, ';');
	if(!rc) rc = put_str(out, a->name);
	if(rc || !a->value) return rc;
	rc = buf_append_byte(out, '=');
	if(rc || !a->quoted) return rc ? rc : put_str(out, a->value);
	rc = buf_append_byte(out, '"');
	for(const char *c = a->value; !rc && *c; c++){
		if(*c == '"') rc = buf_append_byte(out, '\\');
		if(!rc) rc = buf_append_byte(out, (uint8_t)*c);
	}
	if(!rc) rc = buf_append_byte(out, '"');
	return rc;
}

int lf_format_attrs(const struct lf_attr *attrs, size_t n, struct lwm2m_buf *out)
{
	size_t start = out->len;
	int rc = 0;

	for(size_t i = 0; i < n && !rc; i++) rc = put_attr(&attrs[i], true, out);
	if(rc) out->len = start;
	return rc;
}

static int put_link(const struct lf_link *l, bool first, struct lwm2m_buf *out)
{
	int rc;

	if(l->bare){
		if(!first || l->n_attrs == 0 || strcmp(l->attrs[0].name, "lwm2m") != 0
				|| !l->attrs[0].value){
			return -LWM2M_EINVAL;
		}
		rc = put_attr(&l->attrs[0], false, out);
		return rc ? rc : lf_format_attrs(l->attrs + 1, l->n_attrs - 1, out);
	}
	if(!l->uri || !l->uri[0] || check_uri(l->uri, strlen(l->uri)) != strlen(l->uri)){
		return -LWM2M_EINVAL;
	}
	rc = buf_append_byte(out, '<');
	if(!rc) rc = put_str(out, l->uri);
	if(!rc) rc = buf_append_byte(out, '>');
	if(!rc) rc = lf_format_attrs(l->attrs, l->n_attrs, out);
	return rc;
}

int lf_format(const struct lf_links *links, struct lwm2m_buf *out)
{
	size_t start = out->len;
	int rc = 0;

	for(size_t i = 0; i < links->count && !rc; i++){
		if(i > 0) rc = buf_append_byte(out, ',');
		if(!rc) rc = put_link(&links->items[i], i == 0, out);
	}
	if(rc) out->len = start;
	return rc;
}

/* ---- registration object list ---- */

void lf_object_list_free(struct lf_object_list *list)
{
	if(!list) return;
	for(size_t i = 0; i < list->count; i++){
		free(list->items[i].ver);
		attrs_free(list->items[i].attrs, list->items[i].n_attrs);
	}
	free(list->items);
	free(list->cts);
	free(list->alt_path);
	memset(list, 0, sizeof(*list));
}

/* Does the space-separated rt value list "oma.lwm2m"? */
static bool rt_is_lwm2m(const struct lf_link *l)
{
	static const char tag[] = "oma.lwm2m";
	const char *rt = lf_attr_get(l, "rt", NULL);

	while(rt && *rt){
		size_t n = strcspn(rt, " ");
		if(n == sizeof(tag) - 1 && memcmp(rt, tag, n) == 0) return true;
		rt += n;
		while(*rt == ' ') rt++;
	}
	return false;
}

/* Length of uri without one trailing '/' (but "/" stays "/"). */
static size_t trimmed_len(const char *uri)
{
	size_t n = strlen(uri);
	return (n > 1 && uri[n - 1] == '/') ? n - 1 : n;
}

/* An alternate path: "/seg[/seg...]", no empty and no all-digit segment. */
static bool valid_alt_path(const char *u, size_t n)
{
	size_t i = 1;

	if(n < 2 || u[0] != '/') return false;
	while(i <= n){
		size_t start = i;
		bool digits = true;
		while(i < n && u[i] != '/'){
			if(!is_digit((unsigned char)u[i])) digits = false;
			i++;
		}
		if(i == start || digits) return false;
		i++;
	}
	return true;
}

static bool push_ct(void *ctx, uint16_t cf)
{
	struct lf_object_list *l = ctx;
	uint16_t *grown = realloc(l->cts, (l->n_ct + 1) * sizeof(*grown));
	if(!grown) return false;
	l->cts = grown;
	l->cts[l->n_ct++] = cf;
	return true;
}

/* Finds the root link(s) and fills alt_path and cts; marks them in is_root. */
static int read_root(const struct lf_links *links, bool *is_root, struct lf_object_list *out,
		struct lwm2m_error *err)
{
	const struct lf_link *alt = NULL, *slash = NULL, *ct_from = NULL;

	for(size_t i = 0; i < links->count; i++){
		const struct lf_link *l = &links->items[i];
		bool root = trimmed_len(l->uri) == 1;

		if(rt_is_lwm2m(l)){
			if(alt) return lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: two rt=\"oma.lwm2m\" links");
			alt = l;
			is_root[i] = true;
		}else if(root){
			if(slash) return lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: two root links");
			slash = l;
			is_root[i] = true;
		}
		if(is_root[i] && lf_attr_get(l, "ct", NULL)){
			if(ct_from) return lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: ct given twice");
			ct_from = l;
		}
	}
	if(alt && trimmed_len(alt->uri) > 1){
		size_t n = trimmed_len(alt->uri);
		if(!valid_alt_path(alt->uri, n)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1,
					"object list: alternate path %s must be non-numeric segments", alt->uri);
		}
		out->alt_path = dup_range(alt->uri, n);
	}else{
		out->alt_path = dup_range("/", 1);
	}
	if(!out->alt_path) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "object list: out of memory");
	if(ct_from){
		const struct lf_attr *a = NULL;
		for(size_t i = 0; i < ct_from->n_attrs; i++){
			if(strcmp(ct_from->attrs[i].name, "ct") == 0){ a = &ct_from->attrs[i]; break; }
		}
		if(!ct_each(a, push_ct, out)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: bad ct on the root link");
		}
	}
	return 0;
}

static int copy_attrs_except_ver(const struct lf_link *l, struct lf_object_entry *e)
{
	if(l->n_attrs == 0) return 0;
	e->attrs = calloc(l->n_attrs, sizeof(*e->attrs));
	if(!e->attrs) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < l->n_attrs; i++){
		const struct lf_attr *a = &l->attrs[i];
		struct lf_attr *d;

		if(strcmp(a->name, "ver") == 0){
			if(a->value && !e->ver && !(e->ver = strdup(a->value))) return -LWM2M_ENOMEM;
			continue;
		}
		d = &e->attrs[e->n_attrs++];
		d->quoted = a->quoted;
		d->name = strdup(a->name);
		if(!d->name) return -LWM2M_ENOMEM;
		if(a->value && !(d->value = strdup(a->value))) return -LWM2M_ENOMEM;
	}
	return 0;
}

/* "<alt>/o[/i][/]" -> entry ids. */
static int read_entry(const struct lf_link *l, const char *alt, struct lf_object_entry *e,
		struct lwm2m_error *err)
{
	size_t alt_len = strcmp(alt, "/") == 0 ? 0 : strlen(alt);
	struct lwm2m_path path;
	const char *rest;

	if(strncmp(l->uri, alt, alt_len) != 0 || l->uri[alt_len] != '/'){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: link %s is not under %s", l->uri, alt);
	}
	rest = l->uri + alt_len;
	if(path_parse(rest, strlen(rest), &path, NULL) != 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
				"object list: link %s is not /object or /object/instance (IDs 0..65535)", l->uri);
	}
	if(path.len == 0 || path.len > 2){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
				"object list: link %s must name an object or an object instance", l->uri);
	}
	e->obj = path.ids[0];
	e->has_inst = path.len == 2;
	e->inst = e->has_inst ? path.ids[1] : 0;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct lf_object_entry *x = *(const struct lf_object_entry *const *)a;
	const struct lf_object_entry *y = *(const struct lf_object_entry *const *)b;
	uint32_t kx = ((uint32_t)x->obj << 16) | x->inst;
	uint32_t ky = ((uint32_t)y->obj << 16) | y->inst;

	if(kx == ky && x->has_inst != y->has_inst) return x->has_inst ? 1 : -1;
	return kx < ky ? -1 : kx > ky;
}

static int check_duplicates(const struct lf_object_list *list, struct lwm2m_error *err)
{
	const struct lf_object_entry **order;
	int rc = 0;

	if(list->count < 2) return 0;
	order = malloc(list->count * sizeof(*order));
	if(!order) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "object list: out of memory");
	for(size_t i = 0; i < list->count; i++) order[i] = &list->items[i];
	qsort(order, list->count, sizeof(*order), entry_cmp);
	for(size_t i = 1; i < list->count && !rc; i++){
		if(entry_cmp(&order[i - 1], &order[i]) == 0){
			rc = order[i]->has_inst
				? lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: /%u/%u listed twice",
						order[i]->obj, order[i]->inst)
				: lwm2m_fail(err, LWM2M_EINVAL, -1, "object list: /%u listed twice", order[i]->obj);
		}
	}
	free(order);
	return rc;
}

static int read_entries(const struct lf_links *links, const bool *is_root,
		struct lf_object_list *out, struct lwm2m_error *err)
{
	if(links->count == 0) return 0;
	out->items = calloc(links->count, sizeof(*out->items));
	if(!out->items) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "object list: out of memory");
	for(size_t i = 0; i < links->count; i++){
		struct lf_object_entry *e;
		int rc;

		if(is_root[i]) continue;
		e = &out->items[out->count++];
		rc = read_entry(&links->items[i], out->alt_path, e, err);
		if(rc) return rc;
		if(copy_attrs_except_ver(&links->items[i], e) != 0){
			return lwm2m_fail(err, LWM2M_ENOMEM, -1, "object list: out of memory");
		}
	}
	return check_duplicates(out, err);
}

int lf_parse_object_list(const char *s, size_t len, struct lf_object_list *out,
		struct lwm2m_error *err)
{
	struct lf_links links;
	struct lf_object_list list;
	bool *is_root;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&list, 0, sizeof(list));
	rc = lf_parse(s, len, NULL, &links, err);
	if(rc) return rc;
	is_root = calloc(links.count ? links.count : 1, sizeof(*is_root));
	if(!is_root){
		lf_links_free(&links);
		return lwm2m_fail(err, LWM2M_ENOMEM, -1, "object list: out of memory");
	}
	rc = read_root(&links, is_root, &list, err);
	if(!rc) rc = read_entries(&links, is_root, &list, err);
	free(is_root);
	lf_links_free(&links);
	if(rc){
		lf_object_list_free(&list);
		return rc;
	}
	*out = list;
	return 0;
}

static int put_ct_list(const struct lf_object_list *list, struct lwm2m_buf *out)
{
	int rc = put_str(out, ";ct=");

	if(!rc && list->n_ct > 1) rc = buf_append_byte(out, '"');
	for(size_t i = 0; i < list->n_ct && !rc; i++){
		rc = buf_printf(out, i ? " %u" : "%u", (unsigned)list->cts[i]);
	}
	if(!rc && list->n_ct > 1) rc = buf_append_byte(out, '"');
	return rc;
}

static int put_entry(const struct lf_object_list *list, const struct lf_object_entry *e,
		struct lwm2m_buf *out)
{
	/* NULL means the root, as in lf_format_object_list. */
	const char *alt = (!list->alt_path || strcmp(list->alt_path, "/") == 0) ? "" : list->alt_path;
	int rc = e->has_inst
		? buf_printf(out, "<%s/%u/%u>", alt, (unsigned)e->obj, (unsigned)e->inst)
		: buf_printf(out, "<%s/%u>", alt, (unsigned)e->obj);

	if(!rc && e->ver){
		if(!is_version(e->ver)) return -LWM2M_EINVAL;
		rc = buf_printf(out, ";ver=%s", e->ver);
	}
	if(!rc) rc = lf_format_attrs(e->attrs, e->n_attrs, out);
	return rc;
}

int lf_format_object_list(const struct lf_object_list *list, struct lwm2m_buf *out)
{
	const char *alt = list->alt_path ? list->alt_path : "/";
	bool has_alt = strcmp(alt, "/") != 0;
	size_t start = out->len;
	bool first = true;
	int rc = 0;

	if(has_alt && !valid_alt_path(alt, strlen(alt))) return -LWM2M_EINVAL;
	if(has_alt || list->n_ct){
		rc = buf_printf(out, "<%s>", alt);
		if(!rc && has_alt) rc = put_str(out, ";rt=\"oma.lwm2m\"");
		if(!rc && list->n_ct) rc = put_ct_list(list, out);
		first = false;
	}
	for(size_t i = 0; i < list->count && !rc; i++){
		if(!first) rc = buf_append_byte(out, ',');
		first = false;
		if(!rc) rc = put_entry(list, &list->items[i], out);
	}
	if(rc) out->len = start;
	return rc;
}
