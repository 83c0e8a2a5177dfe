/* The live configuration of struct cms_manager: borrowed under a read lock for short reads by
 * every layer (tokens, limits, state_dir and each engine's part of it), swapped whole on SIGHUP.
 * Below the domain folders: it calls nothing but the config's own files. */
#include "manager.h"

/* The manager holding the config: the root (a bare manager, as unit tests make, is its own). */
static struct cms_manager *holder(struct cms_manager *m)
{
        return m->root ? m->root : m;
}

static bool same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_engines(const struct cms_config *a, const struct cms_config *b)
{
        if (a->n_engines != b->n_engines)
                return false;
        for (size_t i = 0; i < a->n_engines; i++) {
                const struct cms_engine_conf *x = &a->engines[i], *y = &b->engines[i];
                if (!same_str(x->name, y->name) || !same_str(x->url, y->url) ||
                    !same_str(x->tls_ca, y->tls_ca) || !same_str(x->tls_cert, y->tls_cert) ||
                    !same_str(x->tls_key, y->tls_key))
                        return false;
        }
        return true;
}

struct cms_config *cms_manager_swap_config(struct cms_manager *m, struct cms_config *cfg,
                                           char *note, size_t note_len)
{
        if (note_len)
                note[0] = 0;
        m = holder(m);
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
        bool engine_changed = !same_str(old->engine, cfg->engine) || !same_engines(old, cfg);
        if (engine_changed) {
                free(cfg->engine);
                cfg->engine = old->engine;
                old->engine = NULL;
        }
        /* The managers borrow the engines' names: the running list stays, the new file's goes
         * with the old config (the same list, or one that needs a restart). */
        struct cms_engine_conf tmp[CMS_MAX_ENGINES];
        size_t n = cfg->n_engines;
        memcpy(tmp, cfg->engines, sizeof(tmp));
        memcpy(cfg->engines, old->engines, sizeof(tmp));
        memcpy(old->engines, tmp, sizeof(tmp));
        cfg->n_engines = old->n_engines;
        old->n_engines = n;
        m->cfg = cfg;
        pthread_rwlock_unlock(&m->cfg_lock);
        if (note_len && (listen_changed || engine_changed))
                snprintf(note, note_len, "%s%s%s need a restart to change; kept the running ones",
                         listen_changed ? "listen" : "",
                         listen_changed && engine_changed ? " and " : "",
                         engine_changed ? "engines" : "");
        return old;
}

const struct cms_config *cms_manager_config_rdlock(struct cms_manager *m)
{
        pthread_rwlock_rdlock(&holder(m)->cfg_lock);
        return holder(m)->cfg;
}

void cms_manager_config_unlock(struct cms_manager *m)
{
        pthread_rwlock_unlock(&holder(m)->cfg_lock);
}

char *cms_manager_state_dir(struct cms_manager *m)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        const char *base = c->state_dir ? c->state_dir : "";
        char *d = holder(m) == m ? strdup(base)
                                 : cms_strdup_printf("%s/engines/%s", base, m->name);
        cms_manager_config_unlock(m);
        return d;
}
