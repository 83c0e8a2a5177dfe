/* The sampler's container set: one refcounted record per container, found by id, name or id
 * prefix, listed as a snapshot of pointers. The lowest file of the sampler: watch.c, snapshot.c
 * and sampler.c call it, it calls none of them. */
#include "sampler_internal.h"

static void ctr_free(struct cms_sampler_ctr *c)
{
        cms_cgroup_close(c->cg);
        cms_ring_free(c->ring);
        free((char *)c->info.prom_labels);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

void cms_sampler_ctr_unref(struct cms_sampler_ctr *c)
{
        if (c && atomic_fetch_sub(&c->refs, 1) == 1)
                ctr_free(c);
}

static struct cms_sampler_ctr *ctr_new(struct cms_sampler *s, const char *id)
{
        struct cms_sampler_ctr *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        if (cms_ring_new(s->capacity, s->interval_ms, &c->ring) < 0) {
                free(c);
                return NULL;
        }
        pthread_mutex_init(&c->lock, NULL);
        atomic_init(&c->refs, 1);
        snprintf(c->info.id, sizeof(c->info.id), "%s", id);
        c->info.state = CMS_CTR_STOPPED;
        c->info.spec.cpu_quota_us = -1;
        c->info.spec.cpu_period_us = 100000;
        c->info.spec.cpu_shares = 1024;
        return c;
}

static ssize_t index_of(struct cms_sampler *s, const char *id)
{
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->v[i]->info.id, id))
                        return (ssize_t)i;
        return -1;
}

struct cms_sampler_ctr *cms_sampler_get_or_add(struct cms_sampler *s, const char *id)
{
        struct cms_sampler_ctr *c = NULL;
        pthread_mutex_lock(&s->lock);
        ssize_t i = index_of(s, id);
        if (i >= 0) {
                c = s->v[i];
        } else if (s->n < CMS_SAMPLER_MAX_CONTAINERS) {
                if (s->n == s->cap) {
                        size_t ncap = s->cap ? s->cap * 2 : 64;
                        void *p = realloc(s->v, ncap * sizeof(*s->v));
                        if (p) {
                                s->v = p;
                                s->cap = ncap;
                        }
                }
                if (s->n < s->cap && (c = ctr_new(s, id)))
                        s->v[s->n++] = c;
        }
        if (c)
                atomic_fetch_add(&c->refs, 1);
        pthread_mutex_unlock(&s->lock);
        return c;
}

void cms_sampler_remove(struct cms_sampler *s, const char *id)
{
        struct cms_sampler_ctr *c = NULL;
        pthread_mutex_lock(&s->lock);
        ssize_t i = index_of(s, id);
        if (i >= 0) {
                c = s->v[i];
                memmove(&s->v[i], &s->v[i + 1], (s->n - (size_t)i - 1) * sizeof(*s->v));
                s->n--;
                s->generation++;
        }
        pthread_mutex_unlock(&s->lock);
        cms_sampler_ctr_unref(c);
}

char (*cms_sampler_ids(struct cms_sampler *s, size_t *n))[65]
{
        pthread_mutex_lock(&s->lock);
        char(*ids)[65] = malloc((s->n + 1) * sizeof(*ids));
        *n = 0;
        for (size_t i = 0; ids && i < s->n; i++)
                memcpy(ids[(*n)++], s->v[i]->info.id, 65);
        pthread_mutex_unlock(&s->lock);
        return ids;
}

bool cms_sampler_ctr_live(struct cms_sampler_ctr *c)
{
        pthread_mutex_lock(&c->lock);
        bool l = c->info.state == CMS_CTR_RUNNING || c->info.state == CMS_CTR_PAUSED;
        pthread_mutex_unlock(&c->lock);
        return l;
}

int cms_sampler_list(struct cms_sampler *s, bool live_only, struct cms_sampler_ctr ***out,
                     size_t *n)
{
        *out = NULL;
        *n = 0;
        pthread_mutex_lock(&s->lock);
        struct cms_sampler_ctr **v = calloc(s->n + 1, sizeof(*v));
        if (!v) {
                pthread_mutex_unlock(&s->lock);
                return -ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
                if (live_only && !cms_sampler_ctr_live(s->v[i]))
                        continue;
                atomic_fetch_add(&s->v[i]->refs, 1);
                v[k++] = s->v[i];
        }
        pthread_mutex_unlock(&s->lock);
        *out = v;
        *n = k;
        return 0;
}

void cms_sampler_list_free(struct cms_sampler_ctr **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                cms_sampler_ctr_unref(v[i]);
        free(v);
}

struct cms_sampler_ctr *cms_sampler_find(struct cms_sampler *s, const char *key)
{
        struct cms_sampler_ctr *hit = NULL;
        size_t prefix_hits = 0, kl = strlen(key);
        if (!kl)
                return NULL;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n && !hit; i++) {
                struct cms_sampler_ctr *c = s->v[i];
                pthread_mutex_lock(&c->lock);
                if (!strcmp(c->info.id, key) || !strcmp(c->info.name, key))
                        hit = c;
                pthread_mutex_unlock(&c->lock);
        }
        for (size_t i = 0; i < s->n && !hit; i++)
                if (!strncmp(s->v[i]->info.id, key, kl))
                        prefix_hits++;
        for (size_t i = 0; i < s->n && !hit && prefix_hits == 1; i++)
                if (!strncmp(s->v[i]->info.id, key, kl))
                        hit = s->v[i];
        if (hit)
                atomic_fetch_add(&hit->refs, 1);
        pthread_mutex_unlock(&s->lock);
        return hit;
}

int cms_sampler_ctr_read(struct cms_sampler_ctr *c, struct cms_ctr_info *info,
                         struct cms_ring_snap *snap)
{
        int r = 0;
        pthread_mutex_lock(&c->lock);
        *info = c->info;
        if (snap)
                r = cms_ring_snapshot(c->ring, snap);
        pthread_mutex_unlock(&c->lock);
        return r;
}

void cms_sampler_note_cpu(struct cms_sampler *s, int which)
{
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
                atomic_store(&s->cpu_ns[which],
                             (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

bool cms_sampler_sleep(struct cms_sampler *s, int64_t ms)
{
        struct timespec ts = cms_deadline(CLOCK_MONOTONIC, ms);
        pthread_mutex_lock(&s->lock);
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &ts) == 0)
                ;
        bool stop = s->stop;
        pthread_mutex_unlock(&s->lock);
        return stop;
}
