/* Device payloads as JSON for web clients, typed by the object model. */
#ifndef CORE_VALUES_H
#define CORE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../objects/model.h"

/* Decodes a payload of content format `ct` addressed to `uri` ("/3/0", NULL = root) into a
 * JSON array of nodes ({"path","type","value"[,"time"][,"prefix"]}); link-format (40) gives
 * a JSON string. NULL on failure, with the reason in why. */
json_t *values_to_json(const struct obj_registry *model, uint16_t ct, const uint8_t *payload,
		size_t len, const char *uri, char *why, size_t why_size);

#endif
