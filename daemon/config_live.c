/* The live configuration of struct cms_manager: borrowed under a read lock for short reads by
 * every layer (tokens, limits, state_dir), swapped whole on SIGHUP. Below the domain folders: it
 * calls nothing but the config's own files. */
#include "manager.h"

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
                         listen_changed ? "listen" : "",
                         listen_changed && engine_changed ? " and " : "",
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
