#include "values.h"
#include "../objects/fmt.h"
#include "../objects/node_json.h"

#include <stdio.h>
#include <string.h>

json_t *values_to_json(const struct obj_registry *model, uint16_t ct, const uint8_t *payload,
		size_t len, const char *uri, char *why, size_t why_size)
{
	struct lwm2m_nodes nodes;
	struct lwm2m_path path, *req = NULL;
	struct lwm2m_error err;
	struct fmt_typer typer = obj_registry_typer(model);
	json_t *out = NULL;

	if(why_size) why[0] = '\0';
	if(ct == LWM2M_CF_LINK){
		out = payload ? json_stringn((const char *)payload, len) : NULL;
		if(!out) snprintf(why, why_size, "link-format payload is not valid UTF-8");
		return out;
	}
	if(uri && path_parse(uri, strlen(uri), &path, &err) == 0) req = &path;
	nodes_init(&nodes);
	if(fmt_decode(ct, payload, len, req, &typer, NULL, &nodes, &err) != 0
			|| node_json_from_nodes(&nodes, &out, &err) != 0){
		snprintf(why, why_size, "cannot decode content format %u: %s", ct, err.msg);
		out = NULL;
	}
	nodes_free(&nodes);
	return out;
}
