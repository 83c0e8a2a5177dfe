/* The audit trail (state_dir/audit.log): one JSON line per mutating request, policy denial and
 * failed authentication, written before the reply that acknowledges it. Each line carries the
 * SHA-256 of the line before it ("prev"), across rotations too, so an edit, a removal or an
 * insertion breaks the chain where it happened. audit.c is the only code that touches the file. */
#pragma once

#include "../util.h"

struct cms_audit;

/* Opens (or creates, mode 0600) dir/audit.log and picks the chain up from its last complete
 * line. max_size: rotate before a write would pass it; keep: rotated files kept (audit.log.1 is
 * the newest). */
int cms_audit_open(const char *dir, int64_t max_size, int keep, struct cms_audit **out,
                   struct cms_error *err);
void cms_audit_close(struct cms_audit *a);
/* The limits may change on reload. */
void cms_audit_set_limits(struct cms_audit *a, int64_t max_size, int keep);
/* Appends one record (rec: an object without "seq", "time" and "prev", which are added; taken
 * over). Thread-safe; returns when the line is in the file (write(2) done). */
int cms_audit_write(struct cms_audit *a, json_object *rec);
/* Records newest first, at most limit, those for which keep(rec, ud) is true; across the
 * rotated files. */
json_object *cms_audit_query(struct cms_audit *a, bool (*keep)(json_object *rec, void *ud),
                             void *ud, size_t limit);

/* Checks the chain of a file: 0 and a summary in msg when every record links to the one before;
 * -EBADMSG and the first broken record in msg otherwise. A last line without its newline (a
 * write cut by a crash) is reported, not counted as broken. */
int cms_audit_verify(const char *path, char *msg, size_t n);
