/* Fuzzes the audit trail's reader: the input is an audit.log as found on disk (after a crash, an
 * edit, a bad disk). cms_audit_verify checks its chain; cms_audit_open picks the chain up from
 * its last complete line and must then append a record that verifies against what was there;
 * cms_audit_query reads the records back. */
#include "fuzz.h"

#include <unistd.h>

#include "daemon/security/audit.h"

static bool keep_all(json_object *rec, void *ud)
{
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *dir = fuzz_scratch();
        char path[300], rotated[310];
        snprintf(path, sizeof(path), "%s/audit.log", dir);
        snprintf(rotated, sizeof(rotated), "%s.1", path);
        unlink(rotated);
        fuzz_write_file(path, data, size);
        char msg[512];
        cms_audit_verify(path, msg, sizeof(msg));
        struct cms_audit *a = NULL;
        struct cms_error err = {0};
        if (cms_audit_open(dir, 1 << 20, 1, &a, &err) == 0) {
                json_object *q = cms_audit_query(a, keep_all, NULL, 20);
                json_object_put(q);
                json_object *rec = json_object_new_object();
                json_object_object_add(rec, "route", json_object_new_string("fuzz"));
                json_object_object_add(rec, "status", json_object_new_int(200));
                cms_audit_write(a, rec);
                q = cms_audit_query(a, keep_all, NULL, 5);
                FUZZ_CHECK(q);
                json_object_put(q);
                cms_audit_close(a);
        } else {
                FUZZ_CHECK(err.message[0]);
        }
        unlink(path);
        return 0;
}
