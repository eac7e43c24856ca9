/* Data-format benchmark: decode and encode throughput of SenML CBOR (112), LwM2M CBOR
 * (11544), TLV (11542) and SenML JSON (110), with libcbor's raw stream decode of the same
 * bytes as the floor any CBOR decoder pays. Prints numbers only; nothing passes or fails.
 *
 * Payloads: for each mix, one node list (many instances of one object, deterministic
 * values) is encoded once with fmt_encode in every format, so every format carries the
 * same values. One object per payload because TLV carries no composite. The instance count
 * is chosen so that the SenML CBOR payload reaches the size asked for (~1 KB, ~64 KB).
 *
 * Each figure is the best of 5 repetitions of a batch lasting about 1/5 of the measurement
 * time (0.3 s by default); a format's decode batches and its raw-pass batches alternate, so
 * background load hits both alike. Times come from CLOCK_PROCESS_CPUTIME_ID (time the
 * process spent on a CPU: other processes on a busy machine do not count), or
 * CLOCK_MONOTONIC with -M. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>

#include "objects/fmt.h"
#include "objects/model.h"
#include "objects/node.h"
#include "objects/path.h"
#include "util/buf.h"
#include "util/lwm2m_err.h"

#define REPEATS 5
#define TARGET_RATIO 2.0            /* the target: decode within 2x of the raw pass */

/* ---- clock ---- */

struct clock_cfg {
	clockid_t id;
	double rep_s;               /* length of one repetition */
};

static double clock_s(const struct clock_cfg *c)
{
	struct timespec ts;
	clock_gettime(c->id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the object 3303 definition (Temperature), for the typer ---- */

/* Only the resources the payloads use; the built-in registry has the core objects. */
#define RES_XML(id, name, type, mand) \
	"<Item ID=\"" #id "\"><Name>" name "</Name><Operations>R</Operations>" \
	"<MultipleInstances>Single</MultipleInstances><Mandatory>" mand "</Mandatory>" \
	"<Type>" type "</Type><RangeEnumeration></RangeEnumeration><Units></Units></Item>"

static const char temperature_xml[] =
	"<LWM2M><Object ObjectType=\"MODefinition\"><Name>Temperature</Name>"
	"<ObjectID>3303</ObjectID><ObjectURN>urn:oma:lwm2m:ext:3303:1.1</ObjectURN>"
	"<LWM2MVersion>1.0</LWM2MVersion><ObjectVersion>1.1</ObjectVersion>"
	"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory><Resources>"
	RES_XML(5601, "Min Measured Value", "Float", "Optional")
	RES_XML(5602, "Max Measured Value", "Float", "Optional")
	RES_XML(5603, "Min Range Value", "Float", "Optional")
	RES_XML(5604, "Max Range Value", "Float", "Optional")
	RES_XML(5700, "Sensor Value", "Float", "Mandatory")
	RES_XML(5701, "Sensor Units", "String", "Optional")
	RES_XML(5750, "Application Type", "String", "Optional")
	"</Resources></Object></LWM2M>";

/* ---- a memoizing typer (-T cached): what decoding costs when a type lookup is cheap ---- */

/* The registry typer's answer depends only on the object and resource IDs (it ignores the
 * prefix), so a direct-mapped table keyed by them returns the same answers. */
#define TYPE_CACHE_SLOTS 256

struct type_cache_slot {
	bool used;
	uint16_t obj, rid;
	enum lwm2m_type type;
	int multiple;
};

struct type_cache {
	struct fmt_typer inner;
	struct type_cache_slot slot[TYPE_CACHE_SLOTS];
};

static const struct type_cache_slot *type_cache_get(struct type_cache *tc, const char *prefix,
		const struct lwm2m_path *p)
{
	unsigned h = ((unsigned)p->ids[0] * 31u + p->ids[2]) % TYPE_CACHE_SLOTS;
	struct type_cache_slot *s = &tc->slot[h];
	struct lwm2m_path rp = { 3, { p->ids[0], p->ids[1], p->ids[2], 0 } };

	if(!s->used || s->obj != p->ids[0] || s->rid != p->ids[2]){
		s->used = true;
		s->obj = p->ids[0];
		s->rid = p->ids[2];
		s->type = tc->inner.type_of(tc->inner.ctx, prefix, &rp);
		s->multiple = tc->inner.is_multiple(tc->inner.ctx, prefix, &rp);
	}
	return s;
}

static enum lwm2m_type cached_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	if(p->len < 3) return LWM2M_TYPE_NONE;
	return type_cache_get(ctx, prefix, p)->type;
}

static int cached_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	if(p->len < 3) return -1;
	return type_cache_get(ctx, prefix, p)->multiple;
}

/* ---- deterministic values ---- */

struct rng {
	uint64_t s;
};

static uint32_t rng_next(struct rng *r)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(r->s >> 33);
}

/* A temperature with two decimals (-20.00 .. 39.99): most need a double on the wire. */
static double rng_temp(struct rng *r)
{
	return (double)((int)(rng_next(r) % 6000u) - 2000) / 100.0;
}

/* ---- node lists ---- */

struct builder {
	struct lwm2m_nodes *n;
	struct rng rng;
	uint16_t obj, inst;
	bool failed;
};

static struct lwm2m_node *add_node(struct builder *b, uint16_t rid, int ri)
{
	struct lwm2m_node *node = nodes_push(b->n);

	if(!node){
		b->failed = true;
		return NULL;
	}
	node->kind = LWM2M_NODE_VALUE;
	node->path = (struct lwm2m_path){ 3, { b->obj, b->inst, rid, 0 } };
	if(ri >= 0){
		node->path.len = 4;
		node->path.ids[3] = (uint16_t)ri;
	}
	return node;
}

static void add_float(struct builder *b, uint16_t rid, double v)
{
	struct lwm2m_node *node = add_node(b, rid, -1);
	if(!node) return;
	node->value.type = LWM2M_TYPE_FLOAT;
	node->value.v.f = v;
}

static void add_int(struct builder *b, uint16_t rid, int ri, enum lwm2m_type t, int64_t v)
{
	struct lwm2m_node *node = add_node(b, rid, ri);
	if(!node) return;
	node->value.type = t;
	node->value.v.i = v;
}

static void add_string(struct builder *b, uint16_t rid, const char *s)
{
	struct lwm2m_node *node = add_node(b, rid, -1);
	if(!node) return;
	if(value_set_bytes(&node->value, LWM2M_TYPE_STRING, s, strlen(s)) != 0) b->failed = true;
}

/* Numeric-heavy: a temperature sensor with its measured and range limits. */
static void inst_numeric(struct builder *b)
{
	double v = rng_temp(&b->rng);

	add_float(b, 5601, v - (double)(rng_next(&b->rng) % 500u) / 100.0);
	add_float(b, 5602, v + (double)(rng_next(&b->rng) % 500u) / 100.0);
	add_float(b, 5603, -40.0);
	add_float(b, 5604, 125.0);
	add_float(b, 5700, v);
	add_string(b, 5701, "Cel");
}

/* Mixed: a temperature sensor that also names where it is. */
static void inst_mixed(struct builder *b)
{
	static const char *const places[] = { "Room", "Cold store", "Boiler outlet", "Server rack" };
	static const char *const sides[] = { "north wall", "south wall", "ceiling", "floor" };
	double v = rng_temp(&b->rng);
	char app[64];

	add_float(b, 5601, v - (double)(rng_next(&b->rng) % 500u) / 100.0);
	add_float(b, 5602, v + (double)(rng_next(&b->rng) % 500u) / 100.0);
	add_float(b, 5700, v);
	add_string(b, 5701, "Cel");
	snprintf(app, sizeof(app), "%s %u, %s", places[rng_next(&b->rng) % 4u],
			(unsigned)(rng_next(&b->rng) % 300u), sides[rng_next(&b->rng) % 4u]);
	add_string(b, 5750, app);
}

/* String-heavy: a Device object (/3) as a client reports it. */
static void inst_device(struct builder *b)
{
	char serial[32], fw[32];

	snprintf(serial, sizeof(serial), "SN-%08X", (unsigned)rng_next(&b->rng));
	snprintf(fw, sizeof(fw), "v%u.%u.%u-build%u", 2u + rng_next(&b->rng) % 3u,
			rng_next(&b->rng) % 20u, rng_next(&b->rng) % 10u, 1000u + rng_next(&b->rng) % 9000u);
	add_string(b, 0, "Acme Sensor Systems Ltd.");
	add_string(b, 1, "ENV-MULTI-4000");
	add_string(b, 2, serial);
	add_string(b, 3, fw);
	add_int(b, 6, 0, LWM2M_TYPE_INTEGER, 1);
	add_int(b, 6, 1, LWM2M_TYPE_INTEGER, 5);
	add_int(b, 7, 0, LWM2M_TYPE_INTEGER, 3800);
	add_int(b, 7, 1, LWM2M_TYPE_INTEGER, 5000);
	add_int(b, 8, 0, LWM2M_TYPE_INTEGER, 125);
	add_int(b, 8, 1, LWM2M_TYPE_INTEGER, 900);
	add_int(b, 9, -1, LWM2M_TYPE_INTEGER, (int64_t)(rng_next(&b->rng) % 101u));
	add_int(b, 10, -1, LWM2M_TYPE_INTEGER, 15000 + (int64_t)(rng_next(&b->rng) % 50000u));
	add_int(b, 11, 0, LWM2M_TYPE_INTEGER, 0);
	add_int(b, 13, -1, LWM2M_TYPE_TIME, 1700000000 + (int64_t)(rng_next(&b->rng) % 10000000u));
	add_string(b, 14, "+01:00");
	add_string(b, 15, "Europe/Berlin");
	add_string(b, 16, "UQ");
	add_string(b, 17, "Environmental multi-sensor");
	add_string(b, 18, "HW rev. C2");
	add_string(b, 19, fw);
	add_int(b, 20, -1, LWM2M_TYPE_INTEGER, 0);
	add_int(b, 21, -1, LWM2M_TYPE_INTEGER, 131072);
}

struct mix {
	const char *name;
	uint16_t obj;
	void (*instance)(struct builder *b);
};

static const struct mix mixes[] = {
	{ "numeric", 3303, inst_numeric },
	{ "string", 3, inst_device },
	{ "mixed", 3303, inst_mixed },
};
#define N_MIXES (sizeof(mixes) / sizeof(mixes[0]))

/* The same seed for every size: a small payload is the start of a large one. */
static int build_nodes(const struct mix *m, unsigned instances, struct lwm2m_nodes *out)
{
	struct builder b = { .n = out, .rng = { 0x5eed0000u + m->obj }, .obj = m->obj };

	nodes_init(out);
	for(unsigned i = 0; i < instances && !b.failed; i++){
		b.inst = (uint16_t)i;
		m->instance(&b);
	}
	if(b.failed) nodes_free(out);
	return b.failed ? -1 : 0;
}

/* ---- formats ---- */

struct format {
	uint16_t cf;
	const char *name;
	bool cbor;                  /* CBOR-based: also the raw libcbor pass */
};

static const struct format formats[] = {
	{ LWM2M_CF_SENML_CBOR, "senml-cbor", true },
	{ LWM2M_CF_LWM2M_CBOR, "lwm2m-cbor", true },
	{ LWM2M_CF_TLV, "tlv", false },
	{ LWM2M_CF_SENML_JSON, "senml-json", false },
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))
#define SIZING_CF LWM2M_CF_SENML_CBOR

struct ctx {
	struct fmt_typer typer;
	struct lwm2m_path req;
	const uint8_t *buf;
	size_t len;
	uint16_t cf;
	const struct lwm2m_nodes *nodes;
	struct lwm2m_buf out;
	int failures;
};

/* ---- the measured operations (each returns 0, or non-zero on a failure) ---- */

typedef int (*op_fn)(struct ctx *c);

static int op_decode(struct ctx *c)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	int rc;

	nodes_init(&n);
	rc = fmt_decode(c->cf, c->buf, c->len, &c->req, &c->typer, NULL, &n, &err);
	nodes_free(&n);
	return rc;
}

static int op_encode(struct ctx *c)
{
	struct lwm2m_error err;

	buf_reset(&c->out);
	return fmt_encode(c->cf, c->nodes, &c->req, &c->typer, NULL, &c->out, &err);
}

/* libcbor's streaming decoder over every item with callbacks that do nothing: what any
 * CBOR decoder pays to walk the bytes. */
static int op_raw_cbor(struct ctx *c)
{
	size_t off = 0;

	while(off < c->len){
		struct cbor_decoder_result r = cbor_stream_decode(c->buf + off, c->len - off,
				&cbor_empty_callbacks, NULL);
		if(r.status != CBOR_DECODER_FINISHED || r.read == 0) return -1;
		off += r.read;
	}
	return 0;
}

/* ---- timing ---- */

struct timed {
	op_fn op;
	unsigned long iters;        /* per repetition */
	double best_s;              /* best repetition, per operation */
};

static double run_batch(const struct clock_cfg *clk, struct ctx *c, op_fn op, unsigned long iters)
{
	double t0 = clock_s(clk);
	int rc = 0;

	for(unsigned long i = 0; i < iters; i++) rc |= op(c);
	if(rc) c->failures++;
	return clock_s(clk) - t0;
}

/* Iterations for one repetition of about clk->rep_s (doubling until 1/8 of it is reached). */
static unsigned long calibrate(const struct clock_cfg *clk, struct ctx *c, op_fn op)
{
	unsigned long n = 1;
	double t;

	for(;;){
		t = run_batch(clk, c, op, n);
		if(t >= clk->rep_s / 8 || n >= (1ul << 30)) break;
		n *= 2;
	}
	if(t <= 0) return n;
	n = (unsigned long)((double)n * clk->rep_s / t);
	return n ? n : 1;
}

/* Best of REPEATS for each of `count` operations on the same context, repetitions
 * interleaved. */
static void measure(const struct clock_cfg *clk, struct ctx *c, struct timed *t, size_t count)
{
	for(size_t k = 0; k < count; k++){
		t[k].iters = calibrate(clk, c, t[k].op);
		t[k].best_s = 1e300;
	}
	for(int r = 0; r < REPEATS; r++){
		for(size_t k = 0; k < count; k++){
			double s = run_batch(clk, c, t[k].op, t[k].iters) / (double)t[k].iters;
			if(s < t[k].best_s) t[k].best_s = s;
		}
	}
}

static double mb_per_s(size_t bytes, double s)
{
	return s > 0 ? (double)bytes / s / 1e6 : 0;
}

/* ---- one payload mix at one size ---- */

enum { OP_DEC = 1, OP_ENC = 2, OP_RAW = 4 };

struct options {
	size_t sizes[4];
	size_t n_sizes;
	bool mix_on[N_MIXES];
	bool format_on[N_FORMATS];
	unsigned ops;               /* OP_* bits */
	bool cached_typer;          /* -T cached */
	struct clock_cfg clk;
};

struct row {
	const struct format *f;
	size_t bytes;
	double dec_s, enc_s, raw_s; /* per operation; raw_s 0 when not measured */
	bool ok;
};

/* Encodes `nodes` in format cf into out (reset first). */
static int encode_into(const struct fmt_typer *typer, const struct lwm2m_path *req, uint16_t cf,
		const struct lwm2m_nodes *nodes, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	buf_reset(out);
	return fmt_encode(cf, nodes, req, typer, NULL, out, err);
}

/* Smallest instance count whose SenML CBOR payload reaches `target` bytes. */
static int size_instances(const struct mix *m, const struct fmt_typer *typer,
		const struct lwm2m_path *req, size_t target, unsigned *instances)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	struct lwm2m_nodes n;
	size_t one = 0, two = 0;
	unsigned k;
	int rc = 0;

	buf_init(&b, 0);
	for(k = 1; k <= 2 && rc == 0; k++){
		rc = build_nodes(m, k, &n);
		if(rc == 0) rc = encode_into(typer, req, SIZING_CF, &n, &b, &err);
		if(k == 1) one = b.len;
		else two = b.len;
		nodes_free(&n);
	}
	/* estimate from the per-instance growth, then step up to the target */
	k = two > one && target > one ? 1 + (unsigned)((target - one) / (two - one)) : 1;
	while(rc == 0 && k > 1){
		rc = build_nodes(m, k - 1, &n);
		if(rc == 0) rc = encode_into(typer, req, SIZING_CF, &n, &b, &err);
		nodes_free(&n);
		if(rc || b.len < target) break;
		k--;
	}
	for(; rc == 0; k++){
		rc = build_nodes(m, k, &n);
		if(rc == 0) rc = encode_into(typer, req, SIZING_CF, &n, &b, &err);
		nodes_free(&n);
		if(rc == 0 && b.len >= target) break;
	}
	buf_free(&b);
	if(rc) fprintf(stderr, "bench_formats: sizing %s: %s\n", m->name, err.msg);
	*instances = k;
	return rc;
}

/* The payload decodes back to exactly the nodes it was encoded from. */
static bool round_trip_ok(struct ctx *c, const char *what)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	bool ok;

	nodes_init(&n);
	if(fmt_decode(c->cf, c->buf, c->len, &c->req, &c->typer, NULL, &n, &err) != 0){
		fprintf(stderr, "bench_formats: %s: decode failed: %s\n", what, err.msg);
		return false;
	}
	ok = n.count == c->nodes->count;
	if(!ok){
		fprintf(stderr, "bench_formats: %s: %zu nodes read back, %zu written\n", what, n.count,
				c->nodes->count);
	}
	for(size_t i = 0; ok && i < n.count; i++){
		ok = path_compare(&n.items[i].path, &c->nodes->items[i].path) == 0
			&& value_equal(&n.items[i].value, &c->nodes->items[i].value);
		if(!ok){
			char p[LWM2M_PATH_STR_MAX];
			path_format(&c->nodes->items[i].path, p, sizeof(p));
			fprintf(stderr, "bench_formats: %s: %s does not read back as written\n", what, p);
		}
	}
	nodes_free(&n);
	return ok;
}

static void measure_format(const struct options *o, struct ctx *c, const struct format *f,
		const char *label, struct row *row)
{
	struct lwm2m_buf payload;
	struct lwm2m_error err;
	struct timed t[3] = { { op_decode, 0, 0 }, { op_raw_cbor, 0, 0 }, { op_encode, 0, 0 } };
	char what[96];

	memset(row, 0, sizeof(*row));
	row->f = f;
	snprintf(what, sizeof(what), "%s %s", label, f->name);
	buf_init(&payload, 0);
	c->cf = f->cf;
	if(encode_into(&c->typer, &c->req, f->cf, c->nodes, &payload, &err) != 0){
		fprintf(stderr, "bench_formats: %s: encode failed: %s\n", what, err.msg);
		buf_free(&payload);
		return;
	}
	c->buf = payload.data;
	c->len = payload.len;
	row->bytes = payload.len;
	if(f->cbor && op_raw_cbor(c) != 0){
		fprintf(stderr, "bench_formats: %s: libcbor rejects the payload\n", what);
		buf_free(&payload);
		return;
	}
	if(!round_trip_ok(c, what)){
		buf_free(&payload);
		return;
	}
	c->failures = 0;
	/* decode and raw pass interleaved; encode on its own */
	if(o->ops & OP_DEC && f->cbor && o->ops & OP_RAW) measure(&o->clk, c, t, 2);
	else if(o->ops & OP_DEC) measure(&o->clk, c, &t[0], 1);
	else if(f->cbor && o->ops & OP_RAW) measure(&o->clk, c, &t[1], 1);
	if(o->ops & OP_ENC) measure(&o->clk, c, &t[2], 1);
	row->dec_s = t[0].best_s;
	row->raw_s = f->cbor ? t[1].best_s : 0;
	row->enc_s = t[2].best_s;
	row->ok = c->failures == 0;
	if(!row->ok) fprintf(stderr, "bench_formats: %s: %d batches failed\n", what, c->failures);
	buf_free(&payload);
}

static void print_header(const struct mix *m, size_t target, unsigned instances,
		const struct lwm2m_nodes *nodes)
{
	printf("\nmix %s target_bytes %zu object /%u instances %u values %zu\n", m->name, target,
			m->obj, instances, nodes->count);
	printf("  %-11s %7s %9s %9s %9s %9s %9s %8s  %s\n", "format", "bytes", "dec_MB/s", "dec_ns/v",
			"enc_MB/s", "enc_ns/v", "raw_MB/s", "dec/raw", "target dec<=2x raw");
}

/* A throughput and a time per value, or dashes when not measured. */
static void print_pair(size_t bytes, double s, size_t values)
{
	if(s > 0) printf(" %9.1f %9.1f", mb_per_s(bytes, s), s * 1e9 / (double)values);
	else printf(" %9s %9s", "-", "-");
}

static void print_row(const struct row *r, size_t values)
{
	if(!r->ok){
		printf("  %-11s %7zu  (failed, see stderr)\n", r->f->name, r->bytes);
		return;
	}
	printf("  %-11s %7zu", r->f->name, r->bytes);
	print_pair(r->bytes, r->dec_s, values);
	print_pair(r->bytes, r->enc_s, values);
	if(r->raw_s > 0) printf(" %9.1f", mb_per_s(r->bytes, r->raw_s));
	else printf(" %9s", "-");
	if(r->raw_s > 0 && r->dec_s > 0){
		double ratio = r->dec_s / r->raw_s;
		printf(" %8.2f  %s\n", ratio, ratio <= TARGET_RATIO ? "met" : "MISSED");
	} else {
		printf(" %8s  %s\n", "-", "-");
	}
}

static int run_mix(const struct options *o, const struct mix *m, const struct fmt_typer *typer,
		size_t target)
{
	struct lwm2m_nodes nodes;
	struct ctx c;
	struct row rows[N_FORMATS];
	unsigned instances;
	char label[64];
	int bad = 0;

	memset(&c, 0, sizeof(c));
	c.typer = *typer;
	c.req = (struct lwm2m_path){ 1, { m->obj, 0, 0, 0 } };
	if(size_instances(m, typer, &c.req, target, &instances) != 0) return 1;
	if(build_nodes(m, instances, &nodes) != 0) return 1;
	c.nodes = &nodes;
	buf_init(&c.out, 0);
	print_header(m, target, instances, &nodes);
	snprintf(label, sizeof(label), "%s %zu", m->name, target);
	for(size_t i = 0; i < N_FORMATS; i++){
		if(!o->format_on[i]) continue;
		measure_format(o, &c, &formats[i], label, &rows[i]);
		print_row(&rows[i], nodes.count);
		fflush(stdout);
		bad += !rows[i].ok;
	}
	buf_free(&c.out);
	nodes_free(&nodes);
	return bad;
}

/* ---- main ---- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-s BYTES[,BYTES...]] [-x MIX[,MIX...]] [-f FORMAT[,FORMAT...]]\n"
		"          [-o OP[,OP...]] [-t SECONDS] [-T registry|cached] [-M]\n"
		"  -s payload sizes (SenML CBOR bytes; default 1024,65536)\n"
		"  -x mixes: numeric, string, mixed (default all three)\n"
		"  -f formats: senml-cbor, lwm2m-cbor, tlv, senml-json (default all four)\n"
		"  -o operations: dec, enc, raw (default all three; e.g. -o dec to profile a decoder)\n"
		"  -t time of one measurement, best of %d repetitions of t/%d each (default 0.3)\n"
		"  -M CLOCK_MONOTONIC instead of CLOCK_PROCESS_CPUTIME_ID\n"
		"  -T typer: registry (obj_registry_typer, default) or cached (the same answers\n"
		"     memoized per object and resource ID: shows the cost of the type lookups)\n",
		argv0, REPEATS, REPEATS);
}

static bool parse_sizes(struct options *o, char *s)
{
	o->n_sizes = 0;
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		long v = strtol(tok, NULL, 10);
		if(v < 16 || v > 64l * 1024 * 1024 || o->n_sizes == sizeof(o->sizes) / sizeof(o->sizes[0])){
			return false;
		}
		o->sizes[o->n_sizes++] = (size_t)v;
	}
	return o->n_sizes > 0;
}

static bool parse_mixes(struct options *o, char *s)
{
	memset(o->mix_on, 0, sizeof(o->mix_on));
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		size_t i;
		for(i = 0; i < N_MIXES && strcmp(tok, mixes[i].name) != 0; i++) continue;
		if(i == N_MIXES) return false;
		o->mix_on[i] = true;
	}
	return true;
}

static bool parse_formats(struct options *o, char *s)
{
	memset(o->format_on, 0, sizeof(o->format_on));
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		size_t i;
		for(i = 0; i < N_FORMATS && strcmp(tok, formats[i].name) != 0; i++) continue;
		if(i == N_FORMATS) return false;
		o->format_on[i] = true;
	}
	return true;
}

static bool parse_ops(struct options *o, char *s)
{
	o->ops = 0;
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		if(strcmp(tok, "dec") == 0) o->ops |= OP_DEC;
		else if(strcmp(tok, "enc") == 0) o->ops |= OP_ENC;
		else if(strcmp(tok, "raw") == 0) o->ops |= OP_RAW;
		else return false;
	}
	return o->ops != 0;
}

static bool parse_args(struct options *o, int argc, char **argv)
{
	double t = 0.3;
	int ch;

	memset(o, 0, sizeof(*o));
	o->sizes[0] = 1024;
	o->sizes[1] = 65536;
	o->n_sizes = 2;
	for(size_t i = 0; i < N_MIXES; i++) o->mix_on[i] = true;
	for(size_t i = 0; i < N_FORMATS; i++) o->format_on[i] = true;
	o->ops = OP_DEC | OP_ENC | OP_RAW;
	o->clk.id = CLOCK_PROCESS_CPUTIME_ID;
	while((ch = getopt(argc, argv, "s:x:f:o:t:T:Mh")) != -1){
		switch(ch){
			case 'T':
				if(strcmp(optarg, "cached") == 0) o->cached_typer = true;
				else if(strcmp(optarg, "registry") != 0) return false;
				break;
			case 'f': if(!parse_formats(o, optarg)) return false; break;
			case 'o': if(!parse_ops(o, optarg)) return false; break;
			case 's': if(!parse_sizes(o, optarg)) return false; break;
			case 'x': if(!parse_mixes(o, optarg)) return false; break;
			case 't': t = strtod(optarg, NULL); break;
			case 'M': o->clk.id = CLOCK_MONOTONIC; break;
			default: return false;
		}
	}
	o->clk.rep_s = t / REPEATS;
	return optind == argc && t > 0 && t <= 60;
}

int main(int argc, char **argv)
{
	struct options o;
	struct obj_registry *reg;
	struct fmt_typer typer;
	struct type_cache *cache = NULL;
	struct lwm2m_error err;
	double t0;
	int bad = 0;

	if(!parse_args(&o, argc, argv)){
		usage(argv[0]);
		return 2;
	}
	reg = obj_registry_new();
	if(!reg || obj_registry_load_xml(reg, temperature_xml, sizeof(temperature_xml) - 1, "3303",
			&err) != 0){
		fprintf(stderr, "bench_formats: object model: %s\n", reg ? err.msg : "out of memory");
		obj_registry_free(reg);
		return 1;
	}
	typer = obj_registry_typer(reg);
	if(o.cached_typer){
		cache = calloc(1, sizeof(*cache));
		if(!cache){
			obj_registry_free(reg);
			return 1;
		}
		cache->inner = typer;
		typer = (struct fmt_typer){ cached_type_of, cached_is_multiple, cache };
	}
	t0 = clock_s(&(struct clock_cfg){ CLOCK_MONOTONIC, 0 });
	printf("# clock %s, best of %d repetitions of %.3f s; MB = 1e6 bytes of payload; ns/v = per value\n",
			o.clk.id == CLOCK_MONOTONIC ? "CLOCK_MONOTONIC" : "CLOCK_PROCESS_CPUTIME_ID", REPEATS,
			o.clk.rep_s);
	printf("# typer %s\n", o.cached_typer ? "cached (obj_registry_typer answers memoized per object and resource)"
			: "obj_registry_typer");
	printf("# decode = fmt_decode into a new list + nodes_free; encode = fmt_encode into a reused buffer;\n"
			"# raw = libcbor cbor_stream_decode with empty callbacks over every item of the same bytes\n");
	for(size_t i = 0; i < N_MIXES; i++){
		for(size_t s = 0; o.mix_on[i] && s < o.n_sizes; s++) bad += run_mix(&o, &mixes[i], &typer, o.sizes[s]);
	}
	printf("\n# wall time %.1f s\n", clock_s(&(struct clock_cfg){ CLOCK_MONOTONIC, 0 }) - t0);
	free(cache);
	obj_registry_free(reg);
	return bad ? 1 : 0;
}
