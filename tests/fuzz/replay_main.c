/* Runs a fuzz target over every file of the given directories (or files), so the seed
 * corpora and past findings are replayed by the ordinary test suite. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if(!f){
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	if(fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0){
		fclose(f);
		return -1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if(!buf || fread(buf, 1, (size_t)n, f) != (size_t)n){
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char child[4096];
	int rc = 0;

	if(stat(path, &st) != 0){
		fprintf(stderr, "replay: %s does not exist\n", path);
		return -1;
	}
	if(!S_ISDIR(st.st_mode)){
		if(run_file(path) != 0) return -1;
		(*count)++;
		return 0;
	}
	d = opendir(path);
	if(!d) return -1;
	while((e = readdir(d)) != NULL){
		if(e->d_name[0] == '.') continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		if(run_path(child, count) != 0) rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	for(int i = 1; i < argc; i++){
		if(run_path(argv[i], &count) != 0) rc = 1;
	}
	printf("replayed %u inputs\n", count);
	if(count == 0){
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	return rc;
}
