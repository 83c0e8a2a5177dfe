/* Redaction of secrets in replies for the viewer role (see redact.c). */
#pragma once

#include "../util.h"

/* In place: environment / env / args / BuildArgs maps get "<redacted>" values, Env lists
 * "K=<redacted>", dotenv text "<redacted>". */
void cms_redact_for_viewer(json_object *doc);
