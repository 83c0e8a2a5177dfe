/* struct cms_manager: owns the engine client and the live configuration, which SIGHUP swaps. */
#include "manager.h"

#include "log.h"
#include "monitor/sampler.h"

int cms_manager_new(struct cms_config *cfg, struct cms_manager **out, struct cms_error *err)
{
        struct cms_manager *m = calloc(1, sizeof(*m));
        if (!m)
                return cms_err(err, 500, "out of memory");
        int r = cms_engine_new(cfg->engine, 30000, &m->engine, err);
        if (r < 0) {
                free(m);
                return r;
        }
        pthread_rwlock_init(&m->cfg_lock, NULL);
        pthread_mutex_init(&m->projects_mu, NULL);
        m->projects_busy = json_object_new_object();
        m->cfg = cfg;
        m->started_ms = cms_now_ms();
        m->started_at = time(NULL);
        if (cms_housekeeping_start(m, &m->housekeeping) < 0)
                log_warn("cannot start the housekeeping thread");
        struct cms_error serr = {0};
        if (cms_sampler_start(m->engine, cfg, &m->sampler, &serr) < 0)
                log_warn("metrics sampler not running: %s", serr.message);
        *out = m;
        return 0;
}

void cms_manager_free(struct cms_manager *m)
{
        if (!m)
                return;
        /* First: its threads use the engine, and its rings go to state_dir on the way out. */
        cms_sampler_stop(m->sampler);
        cms_housekeeping_stop(m->housekeeping);
        cms_engine_free(m->engine);
        cms_config_free(m->cfg);
        pthread_rwlock_destroy(&m->cfg_lock);
        pthread_mutex_destroy(&m->projects_mu);
        json_object_put(m->projects_busy);
        free(m);
}

static bool same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

struct cms_config *cms_manager_swap_config(struct cms_manager *m, struct cms_config *cfg,
                                           char *note, size_t note_len)
{
        if (note_len)
                note[0] = 0;
        pthread_rwlock_wrlock(&m->cfg_lock);
        struct cms_config *old = m->cfg;
        bool listen_changed = old->n_listen != cfg->n_listen;
        for (size_t i = 0; !listen_changed && i < cfg->n_listen; i++)
                listen_changed = !same_str(old->listen[i], cfg->listen[i]);
        /* Listeners and the engine are bound at start: keep the running ones in the live
         * config so that what it says stays true. */
        if (listen_changed) {
                for (size_t i = 0; i < cfg->n_listen; i++)
                        free(cfg->listen[i]);
                for (size_t i = 0; i < old->n_listen; i++) {
                        cfg->listen[i] = old->listen[i];
                        old->listen[i] = NULL;
                }
                cfg->n_listen = old->n_listen;
                old->n_listen = 0;
        }
        bool engine_changed = !same_str(old->engine, cfg->engine);
        if (engine_changed) {
                free(cfg->engine);
                cfg->engine = old->engine;
                old->engine = NULL;
        }
        m->cfg = cfg;
        pthread_rwlock_unlock(&m->cfg_lock);
        if (note_len && (listen_changed || engine_changed))
                snprintf(note, note_len, "%s%s%s need a restart to change; kept the running ones",
                         listen_changed ? "listen" : "", listen_changed && engine_changed ? " and " : "",
                         engine_changed ? "engine" : "");
        return old;
}

const struct cms_config *cms_manager_config_rdlock(struct cms_manager *m)
{
        pthread_rwlock_rdlock(&m->cfg_lock);
        return m->cfg;
}

void cms_manager_config_unlock(struct cms_manager *m)
{
        pthread_rwlock_unlock(&m->cfg_lock);
}
