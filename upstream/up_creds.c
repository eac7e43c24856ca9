/* Client sessions toward the server, each with its endpoint's own credentials: servers tie
 * the endpoint name to the DTLS identity, so one shared identity works only with a server
 * configured to trust it (a "*" entry in plugin_opt_endpoints_file does that). */
#include "upstream_internal.h"
#include "../conf/endpoints.h"

#include <stdio.h>
#include <string.h>

static coap_session_t *psk_session(struct upstream *u, coap_context_t *ctx, const struct endpoint_conf *conf,
		const char *endpoint)
{
	const char *identity = endpoint_psk_identity(conf, endpoint);
	coap_dtls_cpsk_t setup;

	memset(&setup, 0, sizeof(setup));
	setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
	setup.psk_info.identity.s = (const uint8_t *)identity;
	setup.psk_info.identity.length = strlen(identity);
	setup.psk_info.key.s = conf->upstream.psk_key;
	setup.psk_info.key.length = conf->upstream.psk_key_len;
	/* libcoap copies identity and key into the session. */
	return coap_new_client_session_psk2(ctx, NULL, &u->server, COAP_PROTO_DTLS, &setup);
}

static coap_session_t *pki_session(struct upstream *u, coap_context_t *ctx, const struct endpoint_conf *conf)
{
	const struct endpoint_upstream *up = &conf->upstream;
	coap_dtls_pki_t setup;

	memset(&setup, 0, sizeof(setup));
	setup.version = COAP_DTLS_PKI_SETUP_VERSION;
	setup.pki_key.key_type = COAP_PKI_KEY_PEM;
	setup.pki_key.key.pem.private_key = up->key_file;
	if(up->kind == ENDPOINT_CRED_RPK){
		setup.is_rpk_not_cert = 1;
		/* An RPK key file holds both halves. */
		setup.pki_key.key.pem.public_cert = up->key_file;
	}else{
		setup.pki_key.key.pem.public_cert = up->cert_file;
		setup.pki_key.key.pem.ca_file = up->ca_file;
		setup.verify_peer_cert = up->ca_file != NULL;
		setup.check_common_ca = up->ca_file != NULL;
		setup.cert_chain_validation = 1;
		setup.cert_chain_verify_depth = 3;
	}
	return coap_new_client_session_pki(ctx, NULL, &u->server, COAP_PROTO_DTLS, &setup);
}

coap_session_t *up_creds_session(struct upstream *u, const char *endpoint, char *why, size_t why_size)
{
	const struct endpoint_conf *conf = endpoints_find(core_api_endpoints(u->c), endpoint);
	coap_context_t *ctx;
	coap_session_t *s = NULL;

	if(u->proto != COAP_PROTO_UDP && (!conf || conf->upstream.kind == ENDPOINT_CRED_NONE)){
		snprintf(why, why_size, "no DTLS credentials for '%s' in plugin_opt_endpoints_file", endpoint);
		return NULL;
	}
	ctx = up_context_for_new_session(u);
	if(!ctx){
		snprintf(why, why_size, "cannot create a CoAP context");
		return NULL;
	}
	if(u->proto == COAP_PROTO_UDP) s = coap_new_client_session(ctx, NULL, &u->server, u->proto);
	else if(conf->upstream.kind == ENDPOINT_CRED_PSK) s = psk_session(u, ctx, conf, endpoint);
	else s = pki_session(u, ctx, conf);
	if(!s){
		struct up_shard *sh = coap_get_app_data(ctx);
		if(sh) sh->sessions--;
		snprintf(why, why_size, "cannot open a CoAP session (see the log above)");
	}
	return s;
}
