/* Secrets and configs of a compose project on the daemon's host.
 *
 * A `file:` source is read here, on the daemon's host, only where the caller's policy lets cmsd
 * read for them (build_paths, as env_file and extends.file); its content's sha256 goes into the
 * config hash, so a changed file recreates the services that mount it.
 *
 * Mechanism: each service's secrets and configs are materialized in
 * <state_dir>/compose-files/<project>/<service>/ (directories 0700, root's) with the reference's
 * uid, gid and mode, and bind-mounted read-only at their target. A read-only bind is what
 * Compose does without Swarm for file secrets; it is the only way that is read-only for root
 * inside the container too (a copy through PUT /containers/{id}/archive lands in the
 * container's writable layer), it survives the engine restarting the container, and the same
 * HostConfig.Mounts member works on Docker and Podman. It needs the engine on this host, which
 * binds need anyway. The files go with `down`. The stored project record keeps the compose
 * text (file paths and variable names), never a file's content. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FILE_CONTENT (1024 * 1024)

static bool used(const struct cms_compose_project *p, bool config, const char *key)
{
        for (size_t i = 0; i < p->n_services; i++) {
                const struct cms_compose_service *s = &p->services[i];
                const struct cms_compose_fileref *v = config ? s->configs : s->secrets;
                size_t n = config ? s->n_configs : s->n_secrets;
                for (size_t k = 0; k < n; k++)
                        if (!strcmp(v[k].source, key))
                                return true;
        }
        return false;
}

static int read_one(struct cms_manager *m, const struct cms_caller *who,
                    struct cms_compose_project *p, bool config, size_t i, struct cms_error *err)
{
        const struct cms_compose_filedef *d = &(config ? p->configs : p->secrets)[i];
        const char *kind = config ? "configs" : "secrets";
        char field[200];
        snprintf(field, sizeof(field), "%s.%s.file", kind, d->key);
        if (d->file[0] != '/')
                return cms_err(err, 400,
                               "%s: the relative path '%.100s' needs the project's "
                               "working_dir",
                               field, d->file);
        struct cms_policy_req q = {.kind = CMS_PQ_READ, .path = d->file, .field = field};
        int r = cms_policy_enforce(m, who, &q, err);
        char *data = NULL;
        size_t len = 0;
        if (r == 0)
                r = cms_read_file(d->file, MAX_FILE_CONTENT, &data, &len, err);
        if (r == -ENOENT)
                return cms_err(err, 400, "%s: %s not found", field, d->file);
        if (r == 0)
                r = cms_compose_filedef_resolve(p, config, i, data, len);
        return r;
}

/* A service's "seccomp=<file>" profile, read as secret files are (under the caller's policy) and
 * kept as compact JSON: Docker needs the content, and a changed profile recreates the service. */
static int read_seccomp(struct cms_manager *m, const struct cms_caller *who,
                        struct cms_compose_service *s, struct cms_error *err)
{
        const struct cms_compose_strv *l = &s->host.security_opt;
        for (size_t i = 0; i < l->n; i++) {
                const char *file = l->v[i] + 8;
                if (!cms_str_has_prefix(l->v[i], "seccomp=/"))
                        continue;
                char field[200];
                snprintf(field, sizeof(field), "services.%s.security_opt[%zu]", s->name, i);
                struct cms_policy_req q = {.kind = CMS_PQ_READ, .path = file, .field = field};
                int r = cms_policy_enforce(m, who, &q, err);
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                if (r == 0)
                        r = cms_read_file(file, MAX_FILE_CONTENT, &text, &len, err);
                if (r == -ENOENT)
                        return cms_err(err, 400, "%s: the seccomp profile %s is not there", field,
                                       file);
                if (r < 0)
                        return r;
                _cleanup_json_ json_object *doc = json_tokener_parse(text);
                if (!json_object_is_type(doc, json_type_object))
                        return cms_err(err, 400, "%s: %s is not a JSON seccomp profile", field,
                                       file);
                free(s->host.seccomp_profile);
                s->host.seccomp_profile = strdup(json_object_to_json_string_ext(
                    doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!s->host.seccomp_profile)
                        return cms_err(err, 500, "out of memory");
        }
        return 0;
}

int cms_project_read_files(struct cms_manager *m, const struct cms_caller *who,
                           struct cms_compose_project *p, struct cms_error *err)
{
        for (int config = 0; config < 2; config++) {
                const struct cms_compose_filedef *v = config ? p->configs : p->secrets;
                size_t n = config ? p->n_configs : p->n_secrets;
                for (size_t i = 0; i < n; i++) {
                        if (v[i].from != CMS_COMPOSE_FROM_FILE || !used(p, config, v[i].key))
                                continue;
                        int r = read_one(m, who, p, config, i, err);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < p->n_services; i++) {
                int r = read_seccomp(m, who, &p->services[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char *files_dir(struct cms_manager *m, const char *project, const char *service)
{
        return cms_policy_compose_files_dir(m, project, service);
}

/* Writes one file with its owner and mode, atomically: a running container that keeps the old
 * content (its hash did not change) keeps the old inode. */
static int write_one(const char *dir, const char *name, const struct cms_compose_filedef *d,
                     const struct cms_compose_fileref *f, struct cms_error *err)
{
        _cleanup_free_ char *path = cms_strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *tmp = cms_strdup_printf("%s/.%s.tmp", dir, name);
        if (!path || !tmp)
                return cms_err(err, 500, "out of memory");
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return cms_err(err, 500, "cannot write %s: %s", tmp, strerror(errno));
        int r = cms_write_all(fd, d->data, d->len);
        if (r == 0 &&
            fchown(fd, (uid_t)strtoul(f->uid, NULL, 10), (gid_t)strtoul(f->gid, NULL, 10)) < 0)
                r = -errno;
        if (r == 0 && fchmod(fd, (mode_t)f->mode) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return cms_err(err, 500, "cannot write %s: %s", path, strerror(-r));
        }
        return 0;
}

static int add_mount(json_object *body, const char *source, const char *target)
{
        json_object *hc = cms_json_get(body, "HostConfig");
        if (!hc) {
                hc = json_object_new_object();
                json_object_object_add(body, "HostConfig", hc);
        }
        json_object *mounts = cms_json_get(hc, "Mounts");
        if (!mounts) {
                mounts = json_object_new_array();
                json_object_object_add(hc, "Mounts", mounts);
        }
        json_object *e = json_object_new_object();
        json_object_object_add(e, "Type", json_object_new_string("bind"));
        json_object_object_add(e, "Source", json_object_new_string(source));
        json_object_object_add(e, "Target", json_object_new_string(target));
        json_object_object_add(e, "ReadOnly", json_object_new_boolean(true));
        return json_object_array_add(mounts, e) == 0 ? 0 : -ENOMEM;
}

static const struct cms_compose_filedef *def_of(const struct cms_compose_project *p, bool config,
                                                const char *key)
{
        const struct cms_compose_filedef *v = config ? p->configs : p->secrets;
        size_t n = config ? p->n_configs : p->n_secrets;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].key, key))
                        return &v[i];
        return NULL;
}

int cms_project_files_mount(struct cms_manager *m, const struct cms_compose_project *p,
                            const struct cms_compose_service *s, json_object *body,
                            struct cms_error *err)
{
        if (!s->n_secrets && !s->n_configs)
                return 0;
        /* A remote engine would bind a path of its own host, not the file made here. */
        const char *url = m->engine ? cms_engine_url(m->engine) : NULL;
        if (url && !cms_str_has_prefix(url, "unix://"))
                return cms_err(err, 400,
                               "services.%s.%s: secrets and configs are bind-mounted from "
                               "files cmsd writes on its host, so they need the engine on the "
                               "same host (a unix socket), not %.100s",
                               s->name, s->n_secrets ? "secrets" : "configs", url);
        _cleanup_free_ char *dir = files_dir(m, p->name, s->name);
        if (!dir)
                return cms_err(err, 500, "out of memory");
        int r = cms_mkdir_p(dir, 0700);
        if (r < 0)
                return cms_err(err, 500, "cannot create %s: %s", dir, strerror(-r));
        for (int config = 0; config < 2; config++) {
                const struct cms_compose_fileref *v = config ? s->configs : s->secrets;
                size_t n = config ? s->n_configs : s->n_secrets;
                for (size_t i = 0; i < n; i++) {
                        const struct cms_compose_filedef *d = def_of(p, config, v[i].source);
                        if (!d || !d->resolved)
                                return cms_err(err, 500, "services.%s.%s: %s was not read", s->name,
                                               config ? "configs" : "secrets", v[i].source);
                        char name[300];
                        snprintf(name, sizeof(name), "%s-%zu-%s", config ? "c" : "s", i,
                                 v[i].source);
                        _cleanup_free_ char *src = cms_strdup_printf("%s/%s", dir, name);
                        if (!src)
                                return cms_err(err, 500, "out of memory");
                        if ((r = write_one(dir, name, d, &v[i], err)) < 0)
                                return r;
                        if (add_mount(body, src, v[i].target) < 0)
                                return cms_err(err, 500, "out of memory");
                }
        }
        return 0;
}

static int rm_tree(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                        rm_tree(dirfd(d), e->d_name);
        closedir(d);
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

void cms_project_files_remove(struct cms_manager *m, const char *project)
{
        _cleanup_free_ char *dir = files_dir(m, project, NULL);
        if (dir)
                rm_tree(AT_FDCWD, dir);
}
