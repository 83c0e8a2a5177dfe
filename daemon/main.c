/* cmsd: args -> config -> manager -> engine probe -> HTTP server -> READY=1 -> main loop -> drain.
 * SIGHUP reloads the configuration (a bad one is refused and the old kept); SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish (bounded by limits.request_timeout) and exit 0.
 * The main loop also wakes on its own to ping systemd's watchdog and refresh STATUS=, so that a
 * hung main loop (or housekeeping thread) shows as missed pings. */
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"
#include "config.h"
#include "log.h"
#include "manager.h"
#include "monitor/sampler.h"
#include "scan/db.h"
#include "sdnotify.h"
#include "security/audit.h"

#define LOOP_MAX_SLEEP_MS 1000
#define STATUS_EVERY_MS   2000

struct loop {
        struct cms_manager *m;
        struct cms_api *api;
        const struct cms_cli *cli;
        struct cms_watchdog wd;
        sigset_t set;
        char status[256]; /* the STATUS= last sent */
        int64_t status_ms;
};

static void apply_log_level(const struct cms_cli *cli, const struct cms_config *c)
{
        enum cms_log_level lvl = c->log_level;
        if (cli->log_level)
                cms_log_parse_level(cli->log_level, &lvl);
        cms_log_set_level(lvl);
}

static bool reload(struct cms_manager *m, const struct cms_cli *cli)
{
        struct cms_config *fresh = NULL;
        struct cms_config_error cerr = {0};
        if (cms_config_load(cli, &fresh, &cerr) < 0) {
                char msg[800];
                cms_config_error_format(&cerr, msg, sizeof(msg));
                log_error("reload refused, keeping the running configuration: %s", msg);
                return false;
        }
        char note[160];
        struct cms_config *old = cms_manager_swap_config(m, fresh, note, sizeof(note));
        apply_log_level(cli, fresh);
        cms_audit_set_limits(m->audit, fresh->audit_max_size, (int)fresh->audit_keep);
        cms_config_free(old);
        log_info("configuration reloaded (%zu tokens)%s%s", fresh->n_tokens, note[0] ? "; " : "",
                 note);
        return true;
}

/* The service's one-line state for `systemctl status`. */
static void format_status(struct loop *l, const char *prefix, char *out, size_t len)
{
        char engine[160];
        struct cms_engine *e = l->m->engine;
        if (cms_engine_is_up(e)) {
                char v[64], api[16];
                cms_engine_versions(e, v, sizeof(v), api, sizeof(api));
                snprintf(engine, sizeof(engine), "engine %s %s (API %s) up",
                         cms_runtime_name(cms_engine_runtime(e)), v, api);
        } else {
                snprintf(engine, sizeof(engine), "engine %s down, retrying", cms_engine_url(e));
        }
        char sampler[96] = "sampler not running";
        if (l->m->sampler) {
                struct cms_sampler_status st;
                cms_sampler_status(l->m->sampler, &st);
                if (st.running)
                        snprintf(sampler, sizeof(sampler), "sampling %zu container%s (%s)",
                                 st.containers, st.containers == 1 ? "" : "s", st.mode);
        }
        size_t n = cms_api_listeners(l->api);
        snprintf(out, len, "%s%s; listening on %zu socket%s; %ld requests served; %s",
                 prefix ? prefix : "", engine, n, n == 1 ? "" : "s", cms_api_requests(l->api),
                 sampler);
}

static void update_status(struct loop *l, bool force)
{
        int64_t now = cms_now_ms();
        if (!force && now - l->status_ms < STATUS_EVERY_MS)
                return;
        char st[sizeof(l->status)];
        format_status(l, NULL, st, sizeof(st));
        l->status_ms = now;
        if (!force && !strcmp(st, l->status))
                return;
        snprintf(l->status, sizeof(l->status), "%s", st);
        cms_notify_status(st);
}

/* When the sampler last finished a round, as the main thread saw it (main thread only). */
static uint64_t sampler_gen;
static int64_t sampler_progress_ms;

/* The sampler's liveness as a "last tick" for the watchdog: a round must end within three
 * intervals (plus the allowance the housekeeping thread gets), else it counts as stuck. */
static int64_t sampler_tick(struct cms_manager *m, int64_t now)
{
        if (!m->sampler)
                return now;
        struct cms_sampler_status st;
        cms_sampler_status(m->sampler, &st);
        if (!st.running)
                return now;
        if (st.generation != sampler_gen || !sampler_progress_ms) {
                sampler_gen = st.generation;
                sampler_progress_ms = now;
        }
        return now - sampler_progress_ms <= 3 * st.interval_ms ? now
                                                               : sampler_progress_ms + 3 * st.interval_ms;
}

static void ping_watchdog(struct cms_watchdog *wd, struct cms_manager *m)
{
        int64_t now = cms_now_ms(), hk = cms_housekeeping_last_tick(m->housekeeping);
        int64_t sm = sampler_tick(m, now), tick = hk < sm ? hk : sm;
        bool was_withheld = wd->withheld;
        int r = cms_watchdog_tick(wd, now, tick);
        if (r == -EBUSY && !was_withheld)
                log_error("%s thread stuck for %" PRId64 " ms: withholding the watchdog ping, "
                          "systemd will restart cmsd",
                          hk <= sm ? "housekeeping" : "sampler", now - tick);
        else if (r == 1 && was_withheld)
                log_warn("threads running again: watchdog pings resume");
}

/* Waits for a signal, meanwhile pinging the watchdog and refreshing STATUS=. */
static int wait_signal(struct loop *l)
{
        for (;;) {
                ping_watchdog(&l->wd, l->m);
                update_status(l, false);
                int64_t ms = cms_watchdog_sleep_ms(&l->wd, cms_now_ms(), LOOP_MAX_SLEEP_MS);
                struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
                int sig = sigtimedwait(&l->set, NULL, &ts);
                if (sig > 0)
                        return sig;
        }
}

static void run(struct loop *l)
{
        char st[sizeof(l->status)];
        format_status(l, NULL, st, sizeof(st));
        snprintf(l->status, sizeof(l->status), "%s", st);
        l->status_ms = cms_now_ms();
        cms_notify_ready(st);
        log_info("cmsd %s ready", CMS_VERSION);
        for (;;) {
                int sig = wait_signal(l);
                if (sig == SIGHUP) {
                        cms_notify_reloading("reloading the configuration");
                        bool ok = reload(l->m, l->cli);
                        format_status(l, ok ? NULL : "reload refused, running configuration kept; ",
                                      st, sizeof(st));
                        snprintf(l->status, sizeof(l->status), "%s", st);
                        l->status_ms = cms_now_ms();
                        cms_notify_ready(st);
                        continue;
                }
                if (sig == SIGTERM || sig == SIGINT) {
                        log_info("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        snprintf(st, sizeof(st), "stopping: draining %d requests and streams",
                                 cms_api_busy(l->api));
                        cms_notify_stopping(st);
                        return;
                }
        }
}

/* Stops accepting, waits (at most limits.request_timeout) for in-flight requests and streams,
 * then frees everything. Returns false when work was still running at the deadline: then
 * nothing may be freed under it, and the caller exits without cleaning up. */
static bool drain(struct cms_manager *m, struct cms_api *api, struct cms_watchdog *wd)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        int64_t budget = c->request_timeout_ms;
        cms_manager_config_unlock(m);
        cms_manager_drain(m);
        cms_api_quiesce(api);
        int64_t deadline = cms_now_ms() + budget;
        int left;
        while ((left = cms_api_busy(api)) > 0 && cms_now_ms() < deadline) {
                ping_watchdog(wd, m);
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

/* The first probe, logged: cmsd serves whether or not the engine answers. */
static void log_engine(struct cms_engine *e)
{
        struct cms_error err = {0};
        if (cms_engine_probe(e, &err) < 0) {
                log_warn("engine %s is not answering (%s); serving anyway, will retry",
                         cms_engine_url(e), err.message);
                return;
        }
        char v[64], api[16];
        cms_engine_versions(e, v, sizeof(v), api, sizeof(api));
        log_info("engine %s: %s %s, API %s", cms_engine_url(e),
                 cms_runtime_name(cms_engine_runtime(e)), v, api);
}

/* "--import-vulndb PATH" (or "=PATH") taken out of argv before the ordinary options are read;
 * NULL when absent, "" when PATH is missing. */
static const char *take_import_flag(int *argc, char **argv)
{
        static const char flag[] = "--import-vulndb";
        for (int i = 1; i < *argc; i++) {
                const char *path;
                int used = 1;
                if (!strcmp(argv[i], flag)) {
                        used = i + 1 < *argc ? 2 : 1;
                        path = used == 2 ? argv[i + 1] : "";
                } else if (!strncmp(argv[i], flag, sizeof(flag) - 1) &&
                           argv[i][sizeof(flag) - 1] == '=')
                        path = argv[i] + sizeof(flag);
                else
                        continue;
                memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof(*argv));
                *argc -= used;
                return path;
        }
        return NULL;
}

/* cmsd --import-vulndb PATH: what POST /v1/vulndb does, offline, into the configured
 * state_dir; prints the meta and exits 0, or the reason and 1. */
static int import_vulndb(const struct cms_config *cfg, const char *path)
{
        char abs[PATH_MAX];
        if (!*path || !realpath(path, abs)) {
                fprintf(stderr, "cmsd: --import-vulndb %s: %s\n", path,
                        *path ? strerror(errno) : "a directory or archive is required");
                return 1;
        }
        _cleanup_free_ char *dir =
            cms_strdup_printf("%s/vulndb", cfg->state_dir ? cfg->state_dir : "");
        struct cms_error err = {0};
        json_object *info = NULL;
        if (!dir || cms_vulndb_import_path(dir, abs, NULL, &info, &err) < 0) {
                fprintf(stderr, "cmsd: --import-vulndb %s: %s\n", abs,
                        dir ? err.message : "out of memory");
                return 1;
        }
        printf("%s\n", json_object_to_json_string_ext(info, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(info);
        return 0;
}

/* glibc raises its mmap threshold to the size of each mapped block freed (up to 32 MB), so after
 * the first large transient (a 10 MB /metrics text at 1,000 containers, a list reply) the next
 * ones come from the heap and arenas, where the holes between them stay resident: after a
 * minute of /metrics load at 1,000 containers RSS stayed at 110 MB (45 MB before the load). A
 * fixed threshold turns that off: blocks of 1 MB or more are mapped on their own and go back
 * to the system when freed (256 KB cost 1.7 MB more idle RSS at 300 containers: the sampler's
 * mid-sized blocks). MALLOC_MMAP_THRESHOLD_ in the environment still decides (issue 16). */
static void malloc_tune(void)
{
        if (!getenv("MALLOC_MMAP_THRESHOLD_"))
                mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
}

int main(int argc, char **argv)
{
        struct cms_cli cli = {0};
        struct cms_config_error cerr = {0};
        char msg[800];
        malloc_tune();
        const char *import = take_import_flag(&argc, argv);
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
        if (cli.verify_audit) {
                /* Names the first broken record; exit 1 when there is one. */
                char vmsg[600];
                int vr = cms_audit_verify(cli.verify_audit, vmsg, sizeof(vmsg));
                printf("%s\n", vmsg);
                return vr < 0 ? 1 : 0;
        }
        struct cms_config *cfg = NULL;
        if (cms_config_load(&cli, &cfg, &cerr) < 0) {
                cms_config_error_format(&cerr, msg, sizeof(msg));
                fprintf(stderr, "cmsd: bad configuration: %s\n", msg);
                return cli.check_config ? 1 : 2;
        }
        if (import) {
                int ir = import_vulndb(cfg, import);
                cms_config_free(cfg);
                return ir;
        }
        if (cli.check_config) {
                printf("configuration ok%s%s\n", cfg->config_path ? ": " : " (defaults)",
                       cfg->config_path ? cfg->config_path : "");
                cms_config_free(cfg);
                return 0;
        }
        apply_log_level(&cli, cfg);

        /* Signals go to this thread alone: block them before any thread exists. */
        struct loop l = {.cli = &cli};
        sigemptyset(&l.set);
        sigaddset(&l.set, SIGTERM);
        sigaddset(&l.set, SIGINT);
        sigaddset(&l.set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &l.set, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct cms_error err = {0};
        if (cms_manager_new(cfg, &l.m, &err) < 0) {
                log_error("cannot set up the engine client: %s", err.message);
                cms_notify_status(err.message);
                cms_config_free(cfg);
                return 1;
        }
        log_engine(l.m->engine);
        if (cms_api_start(l.m, &l.api, &err) < 0) {
                log_error("%s", err.message);
                cms_notify_status(err.message);
                cms_manager_free(l.m);
                return 1;
        }
        cms_watchdog_init(&l.wd, cms_now_ms());
        if (l.wd.interval_ms > 0)
                log_info("systemd watchdog: pinging every %" PRId64 " ms", l.wd.interval_ms);
        run(&l);
        if (!drain(l.m, l.api, &l.wd)) {
                /* Work still runs: nothing may be freed under it, but the metrics history is
                 * saved all the same, so dashboards keep it across the restart. */
                for (size_t i = 0; i < l.m->n_all; i++) {
                        struct cms_error serr = {0};
                        if (cms_sampler_save(l.m->all[i]->sampler, &serr) < 0)
                                log_warn("engine %s: metrics snapshot not written: %s",
                                         l.m->all[i]->name, serr.message);
                }
                log_info("stopped");
                _exit(0);
        }
        cms_manager_free(l.m);
        log_info("stopped");
        return 0;
}
