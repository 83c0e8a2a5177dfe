/* struct cms_manager: one per engine of the config, each owning its engine client, housekeeping
 * and sampler threads; the default engine's (the root) also owns the live configuration (which
 * SIGHUP swaps through config_live.c) and the audit trail, which the others share. */
#include "manager.h"

#include "log.h"
#include "monitor/sampler.h"
#include "security/audit.h"

static void one_free(struct cms_manager *m)
{
        /* First: its threads use the engine, and its rings go to state_dir on the way out. */
        cms_sampler_stop(m->sampler);
        cms_housekeeping_stop(m->housekeeping);
        cms_engine_free(m->engine);
        pthread_mutex_destroy(&m->projects_mu);
        json_object_put(m->projects_busy);
        free(m);
}

/* The manager of cfg->engines[i]; root is NULL for the first (which becomes the root). */
static int one_new(struct cms_config *cfg, size_t i, struct cms_manager *root,
                   struct cms_manager **out, struct cms_error *err)
{
        const struct cms_engine_conf *ec = &cfg->engines[i];
        struct cms_manager *m = calloc(1, sizeof(*m));
        if (!m)
                return cms_err(err, 500, "out of memory");
        const struct cms_engine_tls tls = {ec->tls_ca, ec->tls_cert, ec->tls_key};
        int r = cms_engine_new_tls(ec->url, ec->tls_ca ? &tls : NULL, 30000, &m->engine, err);
        if (r < 0) {
                free(m);
                if (cfg->n_engines > 1)
                        cms_err(err, err->status, "engine %s: %.400s", ec->name, err->message);
                return r;
        }
        m->name = ec->name;
        m->is_default = i == 0;
        m->root = root ? root : m;
        pthread_mutex_init(&m->projects_mu, NULL);
        m->projects_busy = json_object_new_object();
        m->started_ms = cms_now_ms();
        m->started_at = time(NULL);
        *out = m;
        return 0;
}

/* The threads, once every manager exists (the housekeeping reads the root's config). */
static void one_start(struct cms_manager *m, const struct cms_config *cfg)
{
        if (cms_housekeeping_start(m, &m->housekeeping) < 0)
                log_warn("engine %s: cannot start the housekeeping thread", m->name);
        struct cms_error serr = {0};
        _cleanup_free_ char *dir = cms_manager_state_dir(m);
        if (!dir || cms_sampler_start(m->engine, cfg, dir, &m->sampler, &serr) < 0)
                log_warn("engine %s: metrics sampler not running: %s", m->name,
                         dir ? serr.message : "out of memory");
}

int cms_manager_new(struct cms_config *cfg, struct cms_manager **out, struct cms_error *err)
{
        struct cms_manager *root = NULL;
        if (cfg->n_engines == 0)
                return cms_err(err, 500, "no engine configured");
        for (size_t i = 0; i < cfg->n_engines; i++) {
                struct cms_manager *m = NULL;
                int r = one_new(cfg, i, root, &m, err);
                if (r < 0) {
                        for (size_t j = root ? root->n_all : 0; j-- > 0;)
                                one_free(root->all[j]);
                        return r;
                }
                if (!root)
                        root = m;
                root->all[root->n_all++] = m;
        }
        pthread_rwlock_init(&root->cfg_lock, NULL);
        root->cfg = cfg;
        struct cms_error aerr = {0};
        if (cms_audit_open(cfg->state_dir, cfg->audit_max_size, (int)cfg->audit_keep, &root->audit,
                           &aerr) < 0)
                log_error("no audit trail: %s", aerr.message);
        for (size_t i = 0; i < root->n_all; i++) {
                root->all[i]->audit = root->audit;
                one_start(root->all[i], cfg);
        }
        *out = root;
        return 0;
}

void cms_manager_free(struct cms_manager *m)
{
        if (!m)
                return;
        m = m->root;
        /* The other engines first (their threads read the root's config), the root last. */
        for (size_t i = m->n_all; i-- > 1;)
                one_free(m->all[i]);
        struct cms_audit *audit = m->audit;
        struct cms_config *cfg = m->cfg;
        cms_sampler_stop(m->sampler); /* its threads read the config: stopped before the lock */
        cms_housekeeping_stop(m->housekeeping);
        m->sampler = NULL;
        m->housekeeping = NULL;
        pthread_rwlock_destroy(&m->cfg_lock);
        one_free(m);
        cms_audit_close(audit);
        cms_config_free(cfg);
}

void cms_manager_drain(struct cms_manager *m)
{
        m = m->root;
        for (size_t i = 0; i < m->n_all; i++)
                atomic_store(&m->all[i]->draining, true);
}

bool cms_manager_engine_up(struct cms_manager *m)
{
        return cms_engine_is_up(m->engine);
}
