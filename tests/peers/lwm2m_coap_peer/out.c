/* Events on stdout and the conversions they need. */
#include "peer.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void emit(json_t *event)
{
	if(!event){
		fputs("{\"event\":\"error\",\"message\":\"out of memory\"}\n", stdout);
		fflush(stdout);
		return;
	}
	char *text = json_dumps(event, JSON_COMPACT);
	json_decref(event);
	if(!text){
		return;
	}
	fputs(text, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	free(text);
}

void emit_error(const char *request_id, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	json_t *ev = json_pack("{s:s, s:o}", "event", "error", "message",
		json_text_or_null((const uint8_t *)message, strlen(message)));
	if(ev && request_id){
		json_object_set_new(ev, "id", json_string(request_id));
	}
	emit(ev);
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

json_t *json_hex(const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *text = malloc(len * 2 + 1);
	if(!text){
		return NULL;
	}
	for(size_t i = 0; i < len; i++){
		text[2 * i] = digits[data[i] >> 4];
		text[2 * i + 1] = digits[data[i] & 15];
	}
	json_t *s = json_stringn(text, len * 2);
	free(text);
	return s;
}

/* Text that is not UTF-8 cannot be a JSON string: null then (callers add hex where the
 * bytes matter). */
json_t *json_text_or_null(const uint8_t *data, size_t len)
{
	json_t *s = json_stringn((const char *)data, len);
	return s ? s : json_null();
}

json_t *json_addr(const coap_session_t *session)
{
	const coap_address_t *a = coap_session_get_addr_remote(session);
	char host[INET6_ADDRSTRLEN];
	char text[INET6_ADDRSTRLEN + 16];
	if(!a){
		return json_null();
	}
	if(a->addr.sa.sa_family == AF_INET){
		if(!inet_ntop(AF_INET, &a->addr.sin.sin_addr, host, sizeof(host))){
			return json_null();
		}
		snprintf(text, sizeof(text), "%s:%u", host, (unsigned)ntohs(a->addr.sin.sin_port));
	}else if(a->addr.sa.sa_family == AF_INET6){
		if(!inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, host, sizeof(host))){
			return json_null();
		}
		snprintf(text, sizeof(text), "[%s]:%u", host, (unsigned)ntohs(a->addr.sin6.sin6_port));
	}else{
		return json_null();
	}
	return json_string(text);
}

json_t *json_identity(const coap_session_t *session)
{
	const coap_bin_const_t *id = coap_session_get_psk_identity(session);
	if(!id || !id->s){
		return json_null();
	}
	return json_text_or_null(id->s, id->length);
}

json_t *json_code(coap_pdu_code_t code)
{
	char text[8];
	snprintf(text, sizeof(text), "%u.%02u", ((unsigned)code >> 5) & 7, (unsigned)code & 31);
	return json_string(text);
}

/* "4.03" or 403 */
int parse_code(const json_t *value, coap_pdu_code_t *code)
{
	unsigned cls;
	unsigned detail;
	if(json_is_integer(value)){
		json_int_t n = json_integer_value(value);
		if(n < 100 || n > 799){
			return -1;
		}
		cls = (unsigned)(n / 100);
		detail = (unsigned)(n % 100);
	}else if(json_is_string(value)){
		const char *s = json_string_value(value);
		char tail;
		if(sscanf(s, "%1u.%2u%c", &cls, &detail, &tail) != 2 || strlen(s) != 4){
			return -1;
		}
	}else{
		return -1;
	}
	if(cls < 2 || cls > 7 || detail > 31){
		return -1;
	}
	*code = (coap_pdu_code_t)((cls << 5) | detail);
	return 0;
}

static int hex_digit(char c)
{
	if(c >= '0' && c <= '9'){
		return c - '0';
	}
	if(c >= 'a' && c <= 'f'){
		return c - 'a' + 10;
	}
	if(c >= 'A' && c <= 'F'){
		return c - 'A' + 10;
	}
	return -1;
}

int parse_hex(const char *hex, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(hex);
	if(n % 2){
		return -1;
	}
	uint8_t *buf = malloc(n / 2 + 1);
	if(!buf){
		return -1;
	}
	for(size_t i = 0; i < n / 2; i++){
		int hi = hex_digit(hex[2 * i]);
		int lo = hex_digit(hex[2 * i + 1]);
		if(hi < 0 || lo < 0){
			free(buf);
			return -1;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = buf;
	*out_len = n / 2;
	return 0;
}

struct peer *peer_of(const coap_session_t *session)
{
	return coap_get_app_data(coap_session_get_context(session));
}
