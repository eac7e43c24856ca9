/* Golden-vector runner (see runner.h). */
#include "runner.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_WHY_MAX 512

struct vec_file_kind {
	const char *name;      /* file name without ".json" */
	vec_handler run;       /* NULL while nobody has written it */
	size_t decode_flags;   /* jansson flags for loading this file */
};

/* Filled at run time: weak handlers that nobody defined are NULL here. */
static size_t file_kinds(struct vec_file_kind *k)
{
	size_t n = 0;

	k[n++] = (struct vec_file_kind){ "link_format", vec_run_link_format, 0 };
	k[n++] = (struct vec_file_kind){ "path", vec_run_path, 0 };
	/* Leshan's decimal attributes include 1e19 written as an integer, which jansson refuses
	 * as an integer; the handler reads every number as a double anyway. */
	k[n++] = (struct vec_file_kind){ "attributes", vec_run_attributes, JSON_DECODE_INT_AS_REAL };
	k[n++] = (struct vec_file_kind){ "objlnk", vec_run_objlnk, 0 };
	k[n++] = (struct vec_file_kind){ "tlv", vec_run_tlv, 0 };
	k[n++] = (struct vec_file_kind){ "plain_text", vec_run_plain_text, 0 };
	k[n++] = (struct vec_file_kind){ "cbor", vec_run_cbor, 0 };
	k[n++] = (struct vec_file_kind){ "lwm2m_cbor", vec_run_lwm2m_cbor, 0 };
	k[n++] = (struct vec_file_kind){ "senml_json", vec_run_senml_json, 0 };
	k[n++] = (struct vec_file_kind){ "senml_cbor", vec_run_senml_cbor, 0 };
	k[n++] = (struct vec_file_kind){ "oma_json", vec_run_oma_json, 0 };
	return n;
}

#define VEC_MAX_KINDS 16

/* ---- helpers ---- */

static int vfail(int ret, char *why, size_t why_len, const char *fmt, va_list ap)
{
	if(why && why_len) vsnprintf(why, why_len, fmt, ap);
	return ret;
}

int vec_fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(VEC_FAIL, why, why_len, fmt, ap);
	va_end(ap);
	return rc;
}

int vec_deviation(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(VEC_DEVIATION, why, why_len, fmt, ap);
	va_end(ap);
	return rc;
}

const char *vec_str(json_t *vector, const char *key)
{
	json_t *v = json_object_get(vector, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *vec_text(json_t *vector, size_t *len)
{
	json_t *v = json_object_get(vector, "text");

	if(!json_is_string(v)) return NULL;
	if(len) *len = json_string_length(v);
	return json_string_value(v);
}

static int hex_nibble(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int vec_hex(json_t *vector, uint8_t **out, size_t *len)
{
	const char *h = vec_str(vector, "bytes_hex");
	size_t n;
	uint8_t *b;

	*out = NULL;
	*len = 0;
	if(!h) return -1;
	n = strlen(h);
	if(n % 2) return -1;
	b = malloc(n / 2 + 1);
	if(!b) return -1;
	for(size_t i = 0; i < n / 2; i++){
		int hi = hex_nibble(h[2 * i]), lo = hex_nibble(h[2 * i + 1]);
		if(hi < 0 || lo < 0){
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

bool vec_decodes(json_t *vector)
{
	const char *d = vec_str(vector, "direction");
	return d && (strcmp(d, "decode") == 0 || strcmp(d, "both") == 0);
}

bool vec_encodes(json_t *vector)
{
	const char *d = vec_str(vector, "direction");
	return d && (strcmp(d, "encode") == 0 || strcmp(d, "both") == 0);
}

bool vec_expects_error(json_t *vector)
{
	const char *e = vec_str(vector, "expected");
	return e && strcmp(e, "error") == 0;
}

/* ---- running ---- */

struct vec_totals {
	unsigned passed;
	unsigned failed;
};

static const struct vec_file_kind *kind_for(const struct vec_file_kind *kinds, size_t n,
		const char *stem)
{
	for(size_t i = 0; i < n; i++){
		if(strcmp(kinds[i].name, stem) == 0) return &kinds[i];
	}
	return NULL;
}

/* Runs one vector; returns its verdict with the reason in why. */
static int run_vector(const struct vec_file_kind *kind, json_t *v, char *why, size_t why_len)
{
	why[0] = '\0';
	if(!json_is_object(v)) return vec_fail(why, why_len, "vector is not a JSON object");
	if(!kind) return vec_fail(why, why_len, "no handler for this file");
	if(!kind->run) return vec_fail(why, why_len, "no handler yet");
	return kind->run(v, why, why_len);
}

static void run_file(const char *dir, const char *fname, const struct vec_file_kind *kinds,
		size_t n_kinds, struct vec_totals *total)
{
	char path[4096], stem[256], why[VEC_WHY_MAX];
	const struct vec_file_kind *kind;
	struct vec_totals file = { 0, 0 };
	unsigned deviations = 0;
	char *report = NULL;
	size_t report_len = 0;
	FILE *rep;
	json_error_t jerr;
	json_t *arr;
	size_t i;
	json_t *v;

	snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(fname) - 5), fname);
	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	kind = kind_for(kinds, n_kinds, stem);
	arr = json_load_file(path, kind ? kind->decode_flags : 0, &jerr);
	if(!json_is_array(arr)){
		printf("%s: 0 passed, 1 failed\n  FAIL %s: cannot load: %s (line %d)\n", fname, fname,
				arr ? "not a JSON array" : jerr.text, jerr.line);
		json_decref(arr);
		total->failed++;
		return;
	}
	rep = open_memstream(&report, &report_len);
	json_array_foreach(arr, i, v){
		const char *id = vec_str(v, "id");
		int verdict = run_vector(kind, v, why, sizeof(why));

		if(!id) id = "(no id)";
		if(verdict == VEC_FAIL){
			file.failed++;
			if(rep) fprintf(rep, "  FAIL %s: %s\n", id, why[0] ? why : "failed");
		}else{
			file.passed++;
			if(verdict == VEC_DEVIATION){
				deviations++;
				if(rep) fprintf(rep, "  NOTE %s: %s\n", id, why);
			}
		}
	}
	if(rep) fclose(rep);
	printf("%s: %u passed, %u failed", fname, file.passed, file.failed);
	if(deviations) printf(" (%u checked as documented deviations)", deviations);
	printf("\n%s", report ? report : "");
	free(report);
	json_decref(arr);
	total->passed += file.passed;
	total->failed += file.failed;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *n)
{
	size_t l = strlen(n);
	return l > 5 && strcmp(n + l - 5, ".json") == 0;
}

/* Selected by the optional name arguments (none = all). */
static bool selected(const char *fname, int argc, char **argv)
{
	if(argc <= 2) return true;
	for(int i = 2; i < argc; i++){
		size_t l = strlen(argv[i]);
		if(strncmp(fname, argv[i], l) == 0 && strcmp(fname + l, ".json") == 0) return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct vec_file_kind kinds[VEC_MAX_KINDS];
	size_t n_kinds = file_kinds(kinds);
	struct vec_totals total = { 0, 0 };
	char **names = NULL;
	size_t n_names = 0;
	struct dirent *e;
	DIR *d;

	if(argc < 2){
		fprintf(stderr, "usage: %s <vectors dir> [name ...]\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if(!d){
		fprintf(stderr, "vector_runner: cannot open %s\n", argv[1]);
		return 2;
	}
	while((e = readdir(d)) != NULL){
		char **grown;
		if(!has_json_suffix(e->d_name) || !selected(e->d_name, argc, argv)) continue;
		grown = realloc(names, (n_names + 1) * sizeof(*names));
		if(!grown || !(grown[n_names] = strdup(e->d_name))){
			fprintf(stderr, "vector_runner: out of memory\n");
			return 2;
		}
		names = grown;
		n_names++;
	}
	closedir(d);
	qsort(names, n_names, sizeof(*names), cmp_names);   /* stable, readable order */
	for(size_t i = 0; i < n_names; i++){
		run_file(argv[1], names[i], kinds, n_kinds, &total);
		free(names[i]);
	}
	free(names);
	if(n_names == 0){
		fprintf(stderr, "vector_runner: no vector files in %s\n", argv[1]);
		total.failed++;
	}
	printf("vectors: %u passed, %u failed\n", total.passed, total.failed);
	fflush(stdout);
	return total.failed ? 1 : 0;
}
