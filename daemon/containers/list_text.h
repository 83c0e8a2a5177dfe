/* The container list written as reply text straight from the engine's reply text (list_text.c),
 * and the pieces of the list item's translation it shares with summary.c, so both ways give the
 * same bytes. */
#pragma once

#include "../manager.h"

/* GET /v1/containers's whole reply document ({"success":true,"data":[...]}) into out, as
 * cms_containers_list plus the reply's serialization would write it (viewer: as a viewer sees
 * it). -EAGAIN when the engine's reply has a shape this way does not take (the caller then takes
 * cms_containers_list, which asks the engine again); other negatives with err. */
int cms_containers_list_text(struct cms_manager *m, const struct cms_list_opts *o, bool viewer,
                             struct cms_buf *out, struct cms_error *err);

/* The engine's reply text of a list (Docker's /containers/json, or libpod's with libpod) into
 * out as above; -EAGAIN for what it does not take, -ENOMEM. Pure; exposed for the unit tests. */
int cms_container_list_text(const char *body, size_t len, bool libpod, bool viewer,
                            struct cms_buf *out);

/* Shared with summary.c. */
int64_t cms_rfc3339_unix(const char *s);                /* -1 when unparsable */
bool cms_unix_rfc3339(int64_t t, char *buf, size_t n);  /* false for t <= 0 */
const char *cms_health_from_status(const char *status); /* Docker's list status text */
void cms_libpod_status(char *buf, size_t n, const char *state, const char *health, int64_t started,
                       int64_t exited, int64_t exit_code);
