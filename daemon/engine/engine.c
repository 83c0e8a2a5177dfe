/* The engine object's life: URL resolution (explicit, DOCKER_HOST, then the well-known sockets)
 * and the "probe before the first call" rule that lets cmsd start before its engine and recover
 * when the engine comes back. The state it guards is state.c's. */
#include "internal.h"

#include <sys/stat.h>
#include <unistd.h>

static bool is_socket(const char *path)
{
        struct stat st;
        return path && stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* DESIGN.md's order. The last resort is Docker's default path even when absent: the engine may
 * simply not be up yet, and that must not stop cmsd from starting. */
static char *resolve_auto_url(void)
{
        const char *dh = getenv("DOCKER_HOST");
        if (dh && *dh)
                return strdup(dh);
        if (is_socket("/var/run/docker.sock"))
                return strdup("unix:///var/run/docker.sock");
        if (is_socket("/run/podman/podman.sock"))
                return strdup("unix:///run/podman/podman.sock");
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg) {
                _cleanup_free_ char *p = cms_strdup_printf("%s/podman/podman.sock", xdg);
                if (p && is_socket(p))
                        return cms_strdup_printf("unix://%s", p);
        }
        return strdup("unix:///var/run/docker.sock");
}

/* "host", "host:port", "[v6]", "[v6]:port" -> host and port (2375, Docker's plain-TCP port). */
static int split_host_port(const char *hp, char **host, char **port)
{
        const char *colon;
        if (*hp == '[') {
                const char *close = strchr(hp, ']');
                if (!close || close == hp + 1)
                        return -EINVAL;
                *host = strndup(hp + 1, (size_t)(close - hp - 1));
                colon = close[1] == ':' ? close + 1 : NULL;
                if (close[1] && !colon)
                        return -EINVAL;
        } else {
                colon = strrchr(hp, ':');
                *host = colon ? strndup(hp, (size_t)(colon - hp)) : strdup(hp);
        }
        *port = strdup(colon && colon[1] ? colon + 1 : "2375");
        if (!*host || !*port)
                return -ENOMEM;
        int64_t n;
        if (!**host || cms_parse_int(*port, 1, 65535, &n) < 0)
                return -EINVAL;
        return 0;
}

static int parse_url(struct cms_engine *e, struct cms_error *err)
{
        const char *u = e->url;
        if (cms_str_has_prefix(u, "unix://")) {
                const char *p = u + strlen("unix://");
                if (*p != '/')
                        return cms_err(err, 400, "engine URL %s: the socket path must be absolute",
                                       u);
                e->socket_path = strdup(p);
                e->base = strdup("http://localhost");
                return e->socket_path && e->base ? 0 : cms_err(err, 500, "out of memory");
        }
        if (!e->tls_ca && (cms_str_has_prefix(u, "https://") || getenv("DOCKER_TLS_VERIFY") ||
                           cms_str_has_prefix(u, "tls://")))
                return cms_err(err, 400,
                               "engine URL %s: a TLS engine is a tcp:// one in engines: with "
                               "tls: {ca, cert, key}",
                               u);
        const char *hp = NULL;
        if (cms_str_has_prefix(u, "tcp://"))
                hp = u + strlen("tcp://");
        else if (cms_str_has_prefix(u, "http://"))
                hp = u + strlen("http://");
        if (!hp)
                return cms_err(err, 400, "engine URL %s: expected unix:///path or tcp://host:port",
                               u);
        _cleanup_free_ char *trimmed = strdup(hp);
        if (!trimmed)
                return cms_err(err, 500, "out of memory");
        size_t n = strlen(trimmed);
        if (n && trimmed[n - 1] == '/')
                trimmed[n - 1] = 0;
        if (strchr(trimmed, '/') || split_host_port(trimmed, &e->host, &e->port) < 0)
                return cms_err(err, 400, "engine URL %s: expected tcp://host:port", u);
        bool v6 = strchr(e->host, ':') != NULL;
        const char *scheme = e->tls_ca ? "https" : "http";
        e->base = cms_strdup_printf(v6 ? "%s://[%s]:%s" : "%s://%s:%s", scheme, e->host, e->port);
        return e->base ? 0 : cms_err(err, 500, "out of memory");
}

static int take_tls(struct cms_engine *e, const struct cms_engine_tls *tls, struct cms_error *err)
{
        const char *const files[] = {tls->ca, tls->cert, tls->key};
        const char *const names[] = {"tls.ca", "tls.cert", "tls.key"};
        char **dst[] = {&e->tls_ca, &e->tls_cert, &e->tls_key};
        if (!tls->ca || !tls->cert != !tls->key)
                return cms_err(err, 400, "engine %s: TLS needs ca, and cert with key", e->url);
        if (!cms_str_has_prefix(e->url, "tcp://"))
                return cms_err(err, 400, "engine %s: TLS is for a tcp:// engine", e->url);
        for (size_t i = 0; i < 3; i++) {
                if (!files[i])
                        continue;
                if (access(files[i], R_OK) < 0)
                        return cms_err(err, 400, "engine %s: %s %s: %s", e->url, names[i],
                                       files[i], strerror(errno));
                if (!(*dst[i] = strdup(files[i])))
                        return cms_err(err, 500, "out of memory");
        }
        return 0;
}

int cms_engine_new(const char *url, long timeout_ms, struct cms_engine **out, struct cms_error *err)
{
        return cms_engine_new_tls(url, NULL, timeout_ms, out, err);
}

int cms_engine_new_tls(const char *url, const struct cms_engine_tls *tls, long timeout_ms,
                       struct cms_engine **out, struct cms_error *err)
{
        if (cms_eng_global_init() < 0)
                return cms_err(err, 500, "cannot initialise libcurl");
        struct cms_engine *e = calloc(1, sizeof(*e));
        if (!e)
                return cms_err(err, 500, "out of memory");
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->probe_cv, NULL);
        atomic_init(&e->timeout_ms, timeout_ms > 0 ? timeout_ms : CMS_ENG_DEFAULT_TIMEOUT_MS);
        e->last_probe_ms = INT64_MIN / 2;
        if (!url || !*url || !strcmp(url, "auto"))
                e->url = resolve_auto_url();
        else
                e->url = strdup(url);
        if (!e->url) {
                cms_engine_free(e);
                return cms_err(err, 500, "out of memory");
        }
        int r = tls ? take_tls(e, tls, err) : 0;
        if (r == 0)
                r = parse_url(e, err);
        if (r < 0) {
                cms_engine_free(e);
                return r;
        }
        *out = e;
        return 0;
}

void cms_engine_set_timeout(struct cms_engine *e, long timeout_ms)
{
        if (timeout_ms > 0)
                atomic_store(&e->timeout_ms, timeout_ms);
}

void cms_engine_free(struct cms_engine *e)
{
        if (!e)
                return;
        cms_eng_pool_free(e);
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->probe_cv);
        free(e->url);
        free(e->socket_path);
        free(e->base);
        free(e->host);
        free(e->port);
        free(e->tls_ca);
        free(e->tls_cert);
        free(e->tls_key);
        free(e);
}

int cms_eng_begin(struct cms_engine *e, const struct cms_engine_req *req, char **path,
                  struct cms_error *err)
{
        *path = NULL;
        int r = cms_eng_ensure_ready(e, err);
        if (r < 0)
                return r;
        if (!(*path = cms_eng_build_path(e, req->path)))
                return cms_err(err, 500, "engine path must start with '/': %s",
                               req->path ? req->path : "(null)");
        return 0;
}

int cms_engine_ready(struct cms_engine *e, struct cms_error *err)
{
        return cms_eng_ensure_ready(e, err);
}

int cms_eng_ensure_ready(struct cms_engine *e, struct cms_error *err)
{
        struct cms_error perr = {0};
        int r = cms_eng_probe(e, false, &perr);
        /* "Unreachable" and "does not answer" stop the call (it would only wait the same time
         * again); an odd /version still lets it run with defaults. */
        if (r < 0 && (perr.status == 503 || perr.status == 504)) {
                if (err)
                        *err = perr;
                return r;
        }
        return 0;
}
