/* Fuzzes the metrics snapshot loader (daemon/monitor/snapshot.c) as the sampler runs it at start:
 * the input is a snapshot file without its SHA-256 trailer, which the harness appends (else
 * nearly every input would stop at the checksum). A snapshot that loads must give rings that
 * decode to their end, and what cmsd saves of them must load again, whole: the property issue
 * 15's defect 5b broke. The sampler is built by hand (no threads, no engine). */
#include "fuzz.h"

#include <unistd.h>

#include "daemon/monitor/sampler_internal.h"
#include "daemon/util.h"

static struct cms_sampler *sampler_new(void)
{
        struct cms_sampler *s = calloc(1, sizeof(*s));
        FUZZ_CHECK(s);
        pthread_mutex_init(&s->lock, NULL);
        s->interval_ms = 1000;
        s->capacity = 64;
        s->state_dir = strdup(fuzz_scratch());
        return s;
}

static void sampler_free(struct cms_sampler *s)
{
        for (size_t i = 0; i < s->n; i++)
                cms_sampler_ctr_unref(s->v[i]);
        free(s->v);
        free(s->state_dir);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* Every ring held decodes to its end; returns the samples held in all. */
static size_t check_rings(struct cms_sampler *s)
{
        size_t total = 0;
        for (size_t i = 0; i < s->n; i++) {
                struct cms_ring_snap sn;
                FUZZ_CHECK(cms_ring_snapshot(s->v[i]->ring, &sn) == 0);
                FUZZ_CHECK(cms_ring_snap_validate(&sn) == 0);
                total += sn.count;
                cms_ring_snap_free(&sn);
        }
        return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > (1u << 20))
                return 0;
        char path[300];
        snprintf(path, sizeof(path), "%s/metrics.snapshot", fuzz_scratch());
        uint8_t *file = malloc(size + CMS_SHA256_LEN);
        FUZZ_CHECK(file);
        memcpy(file, data, size);
        cms_sha256(data, size, file + size);
        fuzz_write_file(path, file, size + CMS_SHA256_LEN);
        free(file);

        struct cms_sampler *s = sampler_new();
        size_t loaded = 0;
        struct cms_error err = {0};
        if (cms_sampler_snapshot_load(s, &loaded, &err) == 0 && loaded > 0) {
                FUZZ_CHECK(s->n <= loaded);
                size_t held = check_rings(s);
                FUZZ_CHECK(cms_sampler_snapshot_save(s, &err) == 0);
                struct cms_sampler *again = sampler_new();
                size_t loaded2 = 0;
                /* What cmsd saved it must take back, with every sample. */
                if (cms_sampler_snapshot_load(again, &loaded2, &err) != 0) {
                        fprintf(stderr, "own snapshot refused: %s\n", err.message);
                        abort();
                }
                FUZZ_CHECK(again->n == s->n && check_rings(again) == held);
                sampler_free(again);
        } else if (loaded == 0 && err.message[0]) {
                FUZZ_CHECK(err.status == 400 || err.status == 500);
        }
        sampler_free(s);
        unlink(path);
        return 0;
}
