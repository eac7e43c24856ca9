/* CoRE link-format (RFC 6690, content format 40) as LwM2M uses it: registration object
 * lists, Discover and Bootstrap-Discover payloads, Corelnk resource values. */
#ifndef OBJ_LINK_FORMAT_H
#define OBJ_LINK_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../util/buf.h"
#include "../util/lwm2m_err.h"

#define LF_DEFAULT_MAX_LEN   (64u * 1024u)   /* payload bytes */
#define LF_DEFAULT_MAX_LINKS 2048u
#define LF_DEFAULT_MAX_ATTRS 32u              /* per link */

/* Bounds and reading mode. A zero bound means its default; lim == NULL means all defaults. */
struct lf_limits {
	size_t max_len;
	size_t max_links;
	size_t max_attrs;
	/* RFC 6690 grammar exactly: no whitespace after ',' and no legacy bare root. The default
	 * (false) tolerates both, as LwM2M examples and clients use them. */
	bool strict;
	/* Do not check the values of the attributes LwM2M defines (pmin ... hqmax, dim, ssid,
	 * ver, lwm2m, ct) and allow repeated names; for foreign link-format. */
	bool generic;
};

struct lf_attr {
	char *name;
	char *value;    /* NULL = valueless ("obs"); quoted values are stored unescaped */
	bool quoted;    /* the value was (or is to be written as) a quoted-string */
};

struct lf_link {
	char *uri;      /* as written between '<' and '>' (percent-encoding kept) */
	struct lf_attr *attrs;
	size_t n_attrs;
	/* Legacy Bootstrap-Discover root written without a URI ("lwm2m=1.0,</0/0>..."):
	 * uri is "/" and the link is written back without "<...>". Only ever the first link. */
	bool bare;
};

struct lf_links {
	struct lf_link *items;
	size_t count;
};

/* Parse a link-format payload. Tolerated (default mode): one or more spaces/tabs/CR/LF
 * after ',', a first element "lwm2m=1.x" without URI. Refused: missing ',' between links,
 * unterminated quotes, missing '<' or '>', empty or non-path URIs ("<>", "<//>", "<a:b>",
 * '?', '#', bad %-escapes, non-ASCII), empty attribute names or values ("p="), any other
 * whitespace, a trailing ',' or ';', more than the bounds. Unless lim->generic, LwM2M
 * attribute values are checked: pmin/pmax/epmin/epmax/hqmax unsigned, gt/lt/st numbers,
 * edge/con 0|1 (all need a value and no quotes), dim 0..255, ssid 1..65534, ver/lwm2m
 * "major.minor", ct a number 0..65535 or a quoted space-separated list; names may not repeat
 * within a link. Inside a quoted value only \" is an escape (other backslashes are kept).
 * An empty payload gives zero links. On error out is left empty. */
int lf_parse(const char *s, size_t len, const struct lf_limits *lim, struct lf_links *out,
		struct lwm2m_error *err);

void lf_links_free(struct lf_links *links);

/* Value of the first attribute called `name` on the link. *present (optional) says whether
 * it exists; a valueless attribute returns NULL with *present = true. */
const char *lf_attr_get(const struct lf_link *link, const char *name, bool *present);

/* Append the link-format text of links to out ("</3/0>;ver=1.1,</5>"). Values with
 * quoted=false are written bare; quoted ones in quotes with '"' escaped. Refuses
 * (-LWM2M_EINVAL, nothing appended) anything lf_parse (default mode) could not read back
 * to the same links: bad URIs or names, unquoted values that are not tokens, quoted
 * values that the escape rule cannot carry (a '\' right before a '"' or at the end), a
 * bare link that is not first or does not start with lwm2m=<value>. */
int lf_format(const struct lf_links *links, struct lwm2m_buf *out);

/* Append just ";name=value;..." for attrs (same rules as lf_format). */
int lf_format_attrs(const struct lf_attr *attrs, size_t n, struct lwm2m_buf *out);

/* ---- Registration object list (Register / Update payload) ---- */

struct lf_object_entry {
	uint16_t obj;
	bool has_inst;
	uint16_t inst;
	char *ver;                 /* "1.1" or NULL when the link has no ver */
	struct lf_attr *attrs;     /* the link's other attributes, in order, as text */
	size_t n_attrs;
};

struct lf_object_list {
	char *alt_path;            /* "/" or the alternate path ("/lwm2m"), no trailing '/' */
	uint16_t *cts;             /* content formats from the root link's ct, in order */
	size_t n_ct;
	struct lf_object_entry *items;
	size_t count;
};

/* Parse a registration payload. The root link is "</>" and/or the link with
 * rt="oma.lwm2m", whose URI (made of non-numeric segments) becomes alt_path; its ct gives
 * cts. Every other link must be <alt_path>/o or <alt_path>/o/i (one trailing '/'
 * tolerated), IDs 0..65535. Refused: non-numeric segments, deeper links, links outside
 * the alternate path, two root links or two rt="oma.lwm2m" links, the same object or
 * instance listed twice, a bad ct. An empty payload gives an empty list with alt_path "/".
 * On error out is left empty. */
int lf_parse_object_list(const char *s, size_t len, struct lf_object_list *out,
		struct lwm2m_error *err);

void lf_object_list_free(struct lf_object_list *list);

/* Append the registration payload for list: a root link when there is an alternate path
 * (</alt>;rt="oma.lwm2m") or content formats (</>;ct=..), then one link per entry, ver first. */
int lf_format_object_list(const struct lf_object_list *list, struct lwm2m_buf *out);

#endif
