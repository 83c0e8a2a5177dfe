/* Fuzzes OSV records as the vulnerability database import reads them (one JSON document each):
 * cms_osv_parse, then cms_osv_affects for every package the record names, at every version its
 * ranges and lists mention and at a few others, in the record's own ecosystem and in each one
 * cmsd orders (Debian, Ubuntu, Alpine, npm, PyPI). */
#include "fuzz.h"

#include "daemon/scan/osv.h"

static void ask(const struct cms_osv *rec, const struct cms_osv_affected *a, const char *version)
{
        static const char *ecos[] = {NULL, "Debian", "Alpine", "npm", "PyPI"};
        for (size_t e = 0; e < sizeof(ecos) / sizeof(ecos[0]); e++) {
                const char *fixed = NULL;
                const char *eco = ecos[e] ? ecos[e] : a->ecosystem;
                int r = cms_osv_affects(rec, eco ? eco : "", a->release, a->name ? a->name : "",
                                        version, &fixed);
                FUZZ_CHECK(r == 0 || r == 1 || r == -EOPNOTSUPP || r == -EINVAL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        json_object *doc = fuzz_json(s, size);
        free(s);
        if (!doc)
                return 0;
        struct cms_osv *rec = NULL;
        const char *why = NULL;
        int r = cms_osv_parse(doc, &rec, &why);
        json_object_put(doc); /* the record took its own reference */
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && why);
                return 0;
        }
        FUZZ_CHECK(rec && rec->id);
        static const char *others[] = {"0", "1.0.0", "1:2.3-4", "2.0.0-r1", "1.0a1", ""};
        for (size_t i = 0; i < rec->naffected && i < 8; i++) {
                const struct cms_osv_affected *a = &rec->affected[i];
                for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++)
                        ask(rec, a, others[k]);
                for (size_t g = 0; g < a->nranges && g < 4; g++)
                        for (size_t k = 0; k < a->ranges[g].nevents && k < 8; k++)
                                if (a->ranges[g].events[k].version)
                                        ask(rec, a, a->ranges[g].events[k].version);
                for (size_t k = 0; k < a->nversions && k < 8; k++)
                        if (a->versions[k])
                                ask(rec, a, a->versions[k]);
        }
        cms_osv_free(rec);
        return 0;
}
