/* The vulnerability database's index key (db.h): one spelling for the importer and the lookup,
 * so that "v3.18" and "3.18" (Alpine) or "Requests" and "requests" (PyPI) meet. Pure. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "sbom.h"

bool cms_vulndb_key(const char *ecosystem, const char *release, const char *name, char *out,
                    size_t cap)
{
        char norm[512];
        if (!ecosystem || !name)
                return false;
        if (!strcmp(ecosystem, "PyPI")) {
                if (strlen(name) >= sizeof(norm))
                        return false;
                cms_sbom_pep503(name, norm, sizeof(norm));
                name = norm;
        }
        if (!release)
                release = "";
        if (!strcmp(ecosystem, "Alpine") && *release == 'v')
                release++;
        int n = snprintf(out, cap, "%s\x1f%s\x1f%s", ecosystem, release, name);
        return n >= 0 && (size_t)n < cap;
}
