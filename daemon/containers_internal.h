/* Pieces the container manager files share (containers.c, container_io.c, deploy.c). */
#pragma once

#include "container_model.h"
#include "manager.h"

/* The engine's inspect document of a container. */
int cms_container_inspect_raw(struct cms_manager *m, const char *id, json_object **out,
                              struct cms_error *err);
/* Creates (and optionally starts) from a validated spec -> {"id","name","warnings"}. A container
 * that fails to start is removed again. */
int cms_container_create_spec(struct cms_manager *m, struct cms_create_spec *spec, bool start,
                              json_object **out, struct cms_error *err);
