/* Engine labels as Prometheus labels (see labels.c). */
#pragma once

#include "../util.h"

/* "container_label_" + key sanitized for Prometheus, truncated to cap. */
void cms_prom_label_name(const char *key, char *out, size_t cap);
/* ",container_label_a=\"v\",..." for the string labels of a JSON object (the engine's
 * Config.Labels), at most max_keys of them, escaped; malloc'd. NULL when there are none (or
 * max_keys is 0, or out of memory). */
char *cms_prom_container_labels(json_object *labels, size_t max_keys);
