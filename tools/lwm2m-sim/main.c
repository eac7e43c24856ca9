/* lwm2m-sim: simulated LwM2M 1.2 devices on the MQTT or HTTP binding (see sim.h, --help). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

uint64_t sim_wall_s(void)
{
	return (uint64_t)time(NULL);
}

void sim_log(const struct sim *s, const struct sim_device *d, const char *fmt, ...)
{
	va_list ap;

	if(!s->cfg.verbose) return;
	if(d) printf("sim: %s: ", d->ep);
	else fputs("sim: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_summary(const struct sim_config *cfg, const struct sim_stats *st)
{
	printf("sim: %u devices, %lu registered, %lu failed, %lu de-registered, "
			"%lu requests answered, %lu notifications, %lu updates, %lu bootstrapped\n",
			cfg->count, st->registered, st->failed, st->deregistered, st->answered,
			st->notifications, st->updates, st->bootstrapped);
	if(cfg->http_url && cfg->send_period_ms){
		printf("sim: %lu Send accepted, %lu Send refused or unanswered\n", st->sends,
				st->send_errors);
	}
	if(cfg->http_url && (st->malformed || st->publish_errors)){
		printf("sim: %lu undecodable requests, %lu requests of the devices unanswered\n",
				st->malformed, st->publish_errors);
	}else if(st->malformed || st->publish_errors){
		printf("sim: %lu undecodable messages, %lu publish errors\n", st->malformed,
				st->publish_errors);
	}
}

static bool succeeded(const struct sim_config *cfg, const struct sim_stats *st)
{
	if(st->registered != cfg->count) return false;
	return !cfg->deregister_at_exit || st->deregistered == cfg->count;
}

/* Run this process's devices (all of them, or a worker's slice). */
static int run_devices(const struct sim_config *cfg, struct sim_stats *st)
{
	struct lwm2m_error err;
	struct sim s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.cfg = *cfg;
	s.epfd = s.sigfd = -1;
	buf_init(&s.out, 0);
	buf_init(&s.sealed, 0);
	if(tree_model_init(&s.model, &err) != 0){
		fprintf(stderr, "sim: object model: %s\n", err.msg);
		return -1;
	}
	rc = net_init(&s);   /* says what went wrong */
	if(rc == 0) rc = net_run(&s);
	*st = s.st;
	net_free(&s);
	tree_model_free(&s.model);
	buf_free(&s.out);
	buf_free(&s.sealed);
	return rc;
}

int main(int argc, char **argv)
{
	struct sim_config cfg;
	struct sim_stats st;
	unsigned per;
	int rc;

	rc = cli_parse(argc, argv, &cfg, stderr);
	if(rc) return rc > 0 ? 0 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&st, 0, sizeof(st));
	per = workers_capacity();
	/* HTTP devices hold no socket each, and share one server: never split */
	if(cfg.http_url || cfg.count <= per) rc = run_devices(&cfg, &st);
	else rc = workers_run(&cfg, per, run_devices, &st);
	print_summary(&cfg, &st);
	return rc == 0 && succeeded(&cfg, &st) ? 0 : 1;
}
