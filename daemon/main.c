/* cmsd: args -> config -> manager -> HTTP server -> wait for signals -> drain.
 * SIGHUP reloads the configuration (a bad one is refused and the old kept); SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish (bounded by limits.request_timeout) and exit 0. */
#include <signal.h>
#include <unistd.h>

#include "api/api.h"
#include "config.h"
#include "log.h"
#include "manager.h"

static void apply_log_level(const struct cms_cli *cli, const struct cms_config *c)
{
        enum cms_log_level lvl = c->log_level;
        if (cli->log_level)
                cms_log_parse_level(cli->log_level, &lvl);
        cms_log_set_level(lvl);
}

static void reload(struct cms_manager *m, const struct cms_cli *cli)
{
        struct cms_config *fresh = NULL;
        struct cms_config_error cerr = {0};
        if (cms_config_load(cli, &fresh, &cerr) < 0) {
                char msg[800];
                cms_config_error_format(&cerr, msg, sizeof(msg));
                log_error("reload refused, keeping the running configuration: %s", msg);
                return;
        }
        char note[160];
        struct cms_config *old = cms_manager_swap_config(m, fresh, note, sizeof(note));
        apply_log_level(cli, fresh);
        cms_config_free(old);
        log_info("configuration reloaded (%zu tokens)%s%s", fresh->n_tokens, note[0] ? "; " : "",
                 note);
}

/* Stops accepting, waits (at most limits.request_timeout) for in-flight requests and streams,
 * then frees everything. Returns false when work was still running at the deadline: then
 * nothing may be freed under it, and the caller exits without cleaning up. */
static bool drain(struct cms_manager *m, struct cms_api *api)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        int64_t budget = c->request_timeout_ms;
        cms_manager_config_unlock(m);
        atomic_store(&m->draining, true);
        cms_api_quiesce(api);
        int64_t deadline = cms_now_ms() + budget;
        int left;
        while ((left = cms_api_busy(api)) > 0 && cms_now_ms() < deadline) {
                struct timespec ts = {0, 50 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        if (left > 0) {
                log_warn("%d requests or streams still running after %" PRId64 " ms; exiting anyway",
                         left, budget);
                return false;
        }
        cms_api_stop(api);
        return true;
}

int main(int argc, char **argv)
{
        struct cms_cli cli = {0};
        struct cms_config_error cerr = {0};
        char msg[800];
        if (cms_cli_parse(argc, argv, &cli, &cerr) < 0) {
                cms_config_error_format(&cerr, msg, sizeof(msg));
                fprintf(stderr, "cmsd: %s\n", msg);
                cms_cli_usage(stderr);
                return 2;
        }
        if (cli.help) {
                cms_cli_usage(stdout);
                return 0;
        }
        if (cli.version) {
                printf("cmsd %s\n", CMS_VERSION);
                return 0;
        }
        struct cms_config *cfg = NULL;
        if (cms_config_load(&cli, &cfg, &cerr) < 0) {
                cms_config_error_format(&cerr, msg, sizeof(msg));
                fprintf(stderr, "cmsd: bad configuration: %s\n", msg);
                return cli.check_config ? 1 : 2;
        }
        if (cli.check_config) {
                printf("configuration ok%s%s\n", cfg->config_path ? ": " : " (defaults)",
                       cfg->config_path ? cfg->config_path : "");
                cms_config_free(cfg);
                return 0;
        }
        apply_log_level(&cli, cfg);

        /* Signals go to this thread alone: block them before any thread exists. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct cms_manager *m = NULL;
        struct cms_error err = {0};
        if (cms_manager_new(cfg, &m, &err) < 0) {
                log_error("cannot set up the engine client: %s", err.message);
                cms_config_free(cfg);
                return 1;
        }
        if (cms_engine_probe(m->engine, &err) < 0) {
                log_warn("engine %s is not answering (%s); serving anyway, will retry",
                         cms_engine_url(m->engine), err.message);
        } else {
                char v[64], api[16];
                cms_engine_versions(m->engine, v, sizeof(v), api, sizeof(api));
                log_info("engine %s: %s %s, API %s", cms_engine_url(m->engine),
                         cms_runtime_name(cms_engine_runtime(m->engine)), v, api);
        }
        struct cms_api *api = NULL;
        if (cms_api_start(m, &api, &err) < 0) {
                log_error("%s", err.message);
                cms_manager_free(m);
                return 1;
        }
        log_info("cmsd %s ready", CMS_VERSION);
        for (;;) {
                int sig = sigwaitinfo(&set, NULL);
                if (sig == SIGHUP) {
                        reload(m, &cli);
                        continue;
                }
                if (sig == SIGTERM || sig == SIGINT) {
                        log_info("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        break;
                }
        }
        if (!drain(m, api)) {
                log_info("stopped");
                _exit(0);
        }
        cms_manager_free(m);
        log_info("stopped");
        return 0;
}
