/* struct cms_manager: owns the engine client, the housekeeping and sampler threads and the live
 * configuration (which SIGHUP swaps through config_live.c). */
#include "manager.h"

#include "log.h"
#include "monitor/sampler.h"
#include "security/audit.h"

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
        struct cms_error aerr = {0};
        if (cms_audit_open(cfg->state_dir, cfg->audit_max_size, (int)cfg->audit_keep, &m->audit,
                           &aerr) < 0)
                log_error("no audit trail: %s", aerr.message);
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
        cms_audit_close(m->audit);
        cms_config_free(m->cfg);
        pthread_rwlock_destroy(&m->cfg_lock);
        pthread_mutex_destroy(&m->projects_mu);
        json_object_put(m->projects_busy);
        free(m);
}

bool cms_manager_engine_up(struct cms_manager *m)
{
        return cms_engine_is_up(m->engine);
}
