/* Command-line options of lwm2m-sim. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "binding/mqtt_codec.h"
#include "objects/fmt.h"

#define MAX_COUNT 1000000u

void cli_usage(FILE *out)
{
	fputs(
"usage: lwm2m-sim [options]\n"
"Simulated LwM2M 1.2 devices on the MQTT binding: each registers on its own MQTT\n"
"connection, keeps its registration up to date and answers the server's operations on\n"
"/1/0 (Server), /3/0 (Device) and /3303/x (Temperature). With --http they speak the\n"
"HTTP binding instead: requests to the server's URL, and one HTTP server of their own\n"
"where device <ep> answers under http://HOST:PORT/<ep>.\n"
"\n"
"  --host H              broker address (127.0.0.1)\n"
"  --port P              broker port (1883)\n"
"  --count N             number of devices (1); device i is <ep-prefix><i>\n"
"  --ep-prefix S         endpoint name prefix (sim-)\n"
"  --username-is-ep      MQTT username = endpoint name\n"
"  --username U          MQTT username for every device\n"
"  --password P          MQTT password for every device\n"
"  --prefix TENANT       topic prefix: TENANT/lwm2m/rd/<ep> (none)\n"
"  --lifetime S          registration lifetime in seconds (300); Update at 2/3 of it\n"
"  --version V           LwM2M version sent in Register (1.2)\n"
"  --binding B           binding mode: M or MQ (M); with --http H or HQ (H)\n"
"  --format F            format of Read/Observe answers: senml-cbor, lwm2m-cbor, tlv,\n"
"                        senml-json or text (senml-cbor); composites always use a\n"
"                        SenML or LwM2M CBOR format\n"
"  --notify-period MS    notify observations every MS ms (5000); 0 = on change only;\n"
"                        paths with pmin/pmax/gt/lt/st attributes follow those instead\n"
"  --run-for S           stop after S seconds; 0 = as soon as every device registered\n"
"                        (default: run until SIGINT/SIGTERM)\n"
"  --deregister-at-exit  send De-register before disconnecting\n"
"  --tls-ca FILE         CA certificate(s) to verify the broker (enables TLS)\n"
"  --tls-cert FILE       client certificate (with --tls-key)\n"
"  --tls-key FILE        client private key\n"
"  --max-pending N       connections/registrations in progress at once (200)\n"
"  --timeout S           wait for CONNACK, for results of Register/Update/\n"
"                        De-register and for Bootstrap-Finish (30)\n"
"  --retries N           attempts before a device that never registered gives up (3)\n"
"  --keepalive S         MQTT keep-alive (60)\n"
"Bootstrap:\n"
"  --bootstrap           bootstrap first: Bootstrap-Request on [TENANT/]lwm2m/bs/<ep>\n"
"                        (with --http: POST /bs?ep=<ep>, the server's requests to\n"
"                        the device's own HTTP server being bootstrap operations\n"
"                        until Finish, POST /bs), the server's Delete and Write\n"
"                        applied, Discover and Read answered; after Bootstrap-Finish\n"
"                        register with the server account written (/1 lifetime and\n"
"                        binding), on MQTT COSE-protected when its /0 instance links\n"
"                        a /23 key (resource 27)\n"
"  --bootstrap-pack      the same with one Bootstrap-Pack-Request (MQTT mode only)\n"
"  --pct F               content format the bootstrap data should come in (a --format\n"
"                        name or a number)\n"
"HTTP mode:\n"
"  --http URL            the LwM2M server's HTTP binding (http://HOST:PORT[/path]\n"
"                        or https://...; --tls-ca/--tls-cert/--tls-key apply);\n"
"                        --host, --port, --username*, --password, --prefix,\n"
"                        --keepalive, --notify-period and --bootstrap-pack do not\n"
"                        apply\n"
"  --listen HOST:PORT    the devices' own HTTP server (127.0.0.1:0, 0 = any free\n"
"                        port); prints \"device base URL http://HOST:PORT/{ep}\"\n"
"  --send MS             Send the temperature and the time every MS ms (0 = never)\n"
"  --verbose, -v         one line per event\n"
"  --help, -h            this text\n"
"\n"
"Prints a summary line at the end; exits 0 when every device registered (after\n"
"bootstrapping with --bootstrap, and de-registered with --deregister-at-exit), 1\n"
"otherwise, 2 on a usage error.\n", out);
}

enum {
	OPT_HOST = 256, OPT_PORT, OPT_COUNT, OPT_EP_PREFIX, OPT_USERNAME_IS_EP, OPT_USERNAME,
	OPT_PASSWORD, OPT_PREFIX, OPT_LIFETIME, OPT_VERSION, OPT_BINDING, OPT_FORMAT,
	OPT_NOTIFY_PERIOD, OPT_RUN_FOR, OPT_DEREGISTER, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_MAX_PENDING, OPT_TIMEOUT, OPT_RETRIES, OPT_KEEPALIVE, OPT_HTTP, OPT_LISTEN, OPT_SEND,
	OPT_BOOTSTRAP, OPT_BOOTSTRAP_PACK, OPT_PCT,
};

static const struct option long_opts[] = {
	{"host", required_argument, NULL, OPT_HOST},
	{"port", required_argument, NULL, OPT_PORT},
	{"count", required_argument, NULL, OPT_COUNT},
	{"ep-prefix", required_argument, NULL, OPT_EP_PREFIX},
	{"username-is-ep", no_argument, NULL, OPT_USERNAME_IS_EP},
	{"username", required_argument, NULL, OPT_USERNAME},
	{"password", required_argument, NULL, OPT_PASSWORD},
	{"prefix", required_argument, NULL, OPT_PREFIX},
	{"lifetime", required_argument, NULL, OPT_LIFETIME},
	{"version", required_argument, NULL, OPT_VERSION},
	{"binding", required_argument, NULL, OPT_BINDING},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"notify-period", required_argument, NULL, OPT_NOTIFY_PERIOD},
	{"run-for", required_argument, NULL, OPT_RUN_FOR},
	{"deregister-at-exit", no_argument, NULL, OPT_DEREGISTER},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"max-pending", required_argument, NULL, OPT_MAX_PENDING},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"keepalive", required_argument, NULL, OPT_KEEPALIVE},
	{"http", required_argument, NULL, OPT_HTTP},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"send", required_argument, NULL, OPT_SEND},
	{"bootstrap", no_argument, NULL, OPT_BOOTSTRAP},
	{"bootstrap-pack", no_argument, NULL, OPT_BOOTSTRAP_PACK},
	{"pct", required_argument, NULL, OPT_PCT},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Whole decimal number in [lo, hi]. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	if(!*s || *s == '-' || *s == '+') return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if(errno || *end || v < lo || v > hi) return false;
	*out = v;
	return true;
}

static bool version_valid(const char *v)
{
	size_t major = strspn(v, "0123456789");

	return major > 0 && v[major] == '.' && v[major + 1]
		&& strspn(v + major + 1, "0123456789") == strlen(v + major + 1);
}

static bool format_allowed(int cf)
{
	return cf == LWM2M_CF_TEXT || cf == LWM2M_CF_TLV || cf == LWM2M_CF_SENML_JSON
		|| cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_LWM2M_CBOR;
}

/* http:// or https://, a host, no query or fragment (request paths are appended). */
static bool http_url_valid(const char *u)
{
	size_t scheme = !strncmp(u, "http://", 7) ? 7 : !strncmp(u, "https://", 8) ? 8 : 0;

	return scheme && u[scheme] && u[scheme] != '/' && !strpbrk(u, "?# \t\r\n");
}

/* HOST:PORT or [V6]:PORT; the address itself is resolved when the server starts. */
static bool listen_valid(const char *l)
{
	const char *colon = strrchr(l, ':');
	unsigned long port;

	if(!colon || colon == l || !parse_uint(colon + 1, 0, 65535, &port)) return false;
	if(l[0] == '[') return colon[-1] == ']' && colon - l > 2;
	return memchr(l, ':', (size_t)(colon - l)) == NULL;
}

static void defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = 1883;
	c->count = 1;
	c->ep_prefix = "sim-";
	c->lifetime = 300;
	c->version = "1.2";
	c->binding = "M";
	c->format = LWM2M_CF_SENML_CBOR;
	c->notify_period_ms = 5000;
	c->max_pending = 200;
	c->timeout_s = 30;
	c->retries = 3;
	c->keepalive_s = 60;
	c->listen = "127.0.0.1:0";
}

/* One option with its argument; false (message printed) when invalid. */
static bool apply(struct sim_config *c, int opt, const char *arg, FILE *err)
{
	unsigned long v;
	char *end;
	int cf;

	switch(opt){
		case OPT_HOST: c->host = arg; return true;
		case OPT_PORT:
			if(!parse_uint(arg, 1, 65535, &v)) break;
			c->port = (int)v;
			return true;
		case OPT_COUNT:
			if(!parse_uint(arg, 1, MAX_COUNT, &v)) break;
			c->count = (unsigned)v;
			return true;
		case OPT_EP_PREFIX: c->ep_prefix = arg; return true;
		case OPT_USERNAME_IS_EP: c->username_is_ep = true; return true;
		case OPT_USERNAME: c->username = arg; return true;
		case OPT_PASSWORD: c->password = arg; return true;
		case OPT_PREFIX: c->prefix = arg; return true;
		case OPT_LIFETIME:
			if(!parse_uint(arg, 1, UINT32_MAX, &v)) break;
			c->lifetime = (uint32_t)v;
			return true;
		case OPT_VERSION:
			if(!version_valid(arg)) break;
			c->version = arg;
			return true;
		case OPT_BINDING:
			if(strcmp(arg, "M") && strcmp(arg, "MQ") && strcmp(arg, "H") && strcmp(arg, "HQ")) break;
			c->binding = arg;
			return true;
		case OPT_FORMAT:
			cf = fmt_cf_parse(arg);
			if(!format_allowed(cf)) break;
			c->format = (uint16_t)cf;
			return true;
		case OPT_NOTIFY_PERIOD:
			if(!parse_uint(arg, 0, 86400000u, &v)) break;
			c->notify_period_ms = (uint32_t)v;
			return true;
		case OPT_RUN_FOR:
			errno = 0;
			c->run_for_s = strtod(arg, &end);
			if(errno || end == arg || *end || !isfinite(c->run_for_s) || c->run_for_s < 0) break;
			c->has_run_for = true;
			return true;
		case OPT_DEREGISTER: c->deregister_at_exit = true; return true;
		case OPT_TLS_CA: c->tls_ca = arg; return true;
		case OPT_TLS_CERT: c->tls_cert = arg; return true;
		case OPT_TLS_KEY: c->tls_key = arg; return true;
		case OPT_MAX_PENDING:
			if(!parse_uint(arg, 1, MAX_COUNT, &v)) break;
			c->max_pending = (unsigned)v;
			return true;
		case OPT_TIMEOUT:
			if(!parse_uint(arg, 1, 3600, &v)) break;
			c->timeout_s = (unsigned)v;
			return true;
		case OPT_RETRIES:
			if(!parse_uint(arg, 0, 1000, &v)) break;
			c->retries = (unsigned)v;
			return true;
		case OPT_KEEPALIVE:
			if(!parse_uint(arg, 5, 65535, &v)) break;
			c->keepalive_s = (unsigned)v;
			return true;
		case OPT_HTTP:
			if(!http_url_valid(arg)) break;
			c->http_url = arg;
			return true;
		case OPT_LISTEN:
			if(!listen_valid(arg)) break;
			c->listen = arg;
			return true;
		case OPT_SEND:
			if(!parse_uint(arg, 0, 86400000u, &v)) break;
			c->send_period_ms = (uint32_t)v;
			return true;
		case OPT_BOOTSTRAP: c->bootstrap = true; return true;
		case OPT_BOOTSTRAP_PACK:
			c->bootstrap = c->bootstrap_pack = true;
			return true;
		case OPT_PCT:
			cf = fmt_cf_parse(arg);
			if(cf < 0) break;
			c->has_pct = true;
			c->pct = (uint16_t)cf;
			return true;
		case 'v': c->verbose = true; return true;
		default: return false;
	}
	for(const struct option *o = long_opts; o->name; o++){
		if(o->val == opt) fprintf(err, "lwm2m-sim: --%s: invalid value '%s'\n", o->name, arg);
	}
	return false;
}

/* Options of the other mode; given[] says which options were on the command line. */
static bool mode_options_fit(struct sim_config *c, const bool *given, FILE *err)
{
	static const int mqtt_only[] = { OPT_HOST, OPT_PORT, OPT_USERNAME_IS_EP, OPT_USERNAME,
		OPT_PASSWORD, OPT_PREFIX, OPT_KEEPALIVE, OPT_NOTIFY_PERIOD, OPT_BOOTSTRAP_PACK };
	static const int http_only[] = { OPT_LISTEN, OPT_SEND };
	bool http = c->http_url != NULL;
	const int *other = http ? mqtt_only : http_only;
	size_t n = http ? sizeof(mqtt_only) / sizeof(mqtt_only[0]) : sizeof(http_only) / sizeof(http_only[0]);

	for(size_t i = 0; i < n; i++){
		if(!given[other[i] - OPT_HOST]) continue;
		for(const struct option *o = long_opts; o->name; o++){
			if(o->val == other[i]){
				fprintf(err, "lwm2m-sim: --%s %s\n", o->name,
						http ? "does not apply to --http" : "needs --http");
			}
		}
		return false;
	}
	if(!given[OPT_BINDING - OPT_HOST]){
		c->binding = http ? "H" : "M";
	}else if((c->binding[0] == 'H') != http){
		fprintf(err, "lwm2m-sim: --binding %s is for %s mode\n", c->binding, http ? "MQTT" : "HTTP");
		return false;
	}
	return true;
}

static bool consistent(const struct sim_config *c, FILE *err)
{
	char ep[300];
	int n = snprintf(ep, sizeof(ep), "%s%u", c->ep_prefix, c->count - 1);

	/* a prefix is one topic level, with the rules of an endpoint name */
	if(c->prefix && !mqtt_endpoint_name_valid(c->prefix, strlen(c->prefix))){
		fprintf(err, "lwm2m-sim: --prefix '%s' is not a single topic level without +, #, $\n", c->prefix);
		return false;
	}
	if(n < 0 || (size_t)n >= sizeof(ep) || !mqtt_endpoint_name_valid(ep, (size_t)n)){
		fprintf(err, "lwm2m-sim: --ep-prefix '%s' does not make valid endpoint names\n", c->ep_prefix);
		return false;
	}
	if(c->username_is_ep && c->username){
		fprintf(err, "lwm2m-sim: --username and --username-is-ep exclude each other\n");
		return false;
	}
	if(!c->tls_cert != !c->tls_key){
		fprintf(err, "lwm2m-sim: --tls-cert and --tls-key go together\n");
		return false;
	}
	if(c->tls_cert && !c->tls_ca){
		fprintf(err, "lwm2m-sim: --tls-cert needs --tls-ca\n");
		return false;
	}
	if(c->has_pct && !c->bootstrap){
		fprintf(err, "lwm2m-sim: --pct needs --bootstrap or --bootstrap-pack\n");
		return false;
	}
	/* the HTTP binding's ?pct= names only the formats bootstrap data can come in */
	if(c->has_pct && c->http_url && c->pct != LWM2M_CF_SENML_JSON && c->pct != LWM2M_CF_SENML_CBOR
			&& c->pct != LWM2M_CF_LWM2M_CBOR && c->pct != LWM2M_CF_TLV){
		fprintf(err, "lwm2m-sim: --pct with --http: senml-json, senml-cbor, lwm2m-cbor or tlv\n");
		return false;
	}
	return true;
}

int cli_parse(int argc, char **argv, struct sim_config *cfg, FILE *err)
{
	bool given[OPT_PCT - OPT_HOST + 1] = { false };
	int opt;

	defaults(cfg);
	optind = 1;
	opterr = 0;
	while((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1){
		if(opt == 'h'){
			cli_usage(stdout);
			return 1;
		}
		if(opt == '?' || opt == ':'){
			fprintf(err, "lwm2m-sim: unknown option or missing value: %s (try --help)\n",
					argv[optind - 1]);
			return -1;
		}
		if(!apply(cfg, opt, optarg, err)) return -1;
		if(opt >= OPT_HOST && opt <= OPT_PCT) given[opt - OPT_HOST] = true;
	}
	if(optind < argc){
		fprintf(err, "lwm2m-sim: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if(!mode_options_fit(cfg, given, err)) return -1;
	return consistent(cfg, err) ? 0 : -1;
}
