/* Compose projects at rest: the last applied compose file, env and options of each project in
 * <state_dir>/projects/<name>.json, written atomically so a crash leaves the old or the new
 * record, never half of one; and the per-project lock that keeps two operations on one project
 * from interleaving. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void cms_project_record_done(struct cms_project_record *r)
{
        free(r->name);
        free(r->compose);
        json_object_put(r->overrides);
        free(r->dotenv);
        free(r->working_dir);
        json_object_put(r->env);
        json_object_put(r->profiles);
        json_object_put(r->scale);
        memset(r, 0, sizeof(*r));
}

/* <the engine's state dir>/projects, or NULL on OOM. */
static char *store_dir(struct cms_manager *m)
{
        _cleanup_free_ char *base = cms_manager_state_dir(m);
        return base ? cms_strdup_printf("%s/projects", base) : NULL;
}

static void put_str(json_object *o, const char *k, const char *v)
{
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

int cms_project_store_save(struct cms_manager *m, const struct cms_project_record *rec,
                           struct cms_error *err)
{
        _cleanup_free_ char *dir = store_dir(m);
        _cleanup_free_ char *path = dir ? cms_strdup_printf("%s/%s.json", dir, rec->name) : NULL;
        _cleanup_free_ char *tmp =
            dir ? cms_strdup_printf("%s/.%s.json.tmp", dir, rec->name) : NULL;
        if (!tmp || !path)
                return cms_err(err, 500, "out of memory");
        int r = cms_mkdir_p(dir, 0700);
        if (r < 0)
                return cms_err(err, 500, "cannot create %s: %s", dir, strerror(-r));
        _cleanup_json_ json_object *o = json_object_new_object();
        put_str(o, "name", rec->name);
        put_str(o, "compose", rec->compose);
        if (rec->overrides)
                json_object_object_add(o, "overrides", json_object_get(rec->overrides));
        put_str(o, "dotenv", rec->dotenv);
        put_str(o, "working_dir", rec->working_dir);
        json_object_object_add(o, "env", json_object_get(rec->env));
        json_object_object_add(o, "profiles", json_object_get(rec->profiles));
        json_object_object_add(o, "scale", json_object_get(rec->scale));
        json_object_object_add(o, "saved_at", json_object_new_int64(time(NULL)));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return cms_err(err, 500, "cannot write %s: %s", tmp, strerror(errno));
        r = cms_write_all(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return cms_err(err, 500, "cannot store project %s: %s", rec->name, strerror(-r));
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return 0;
}

static int take_str(json_object *o, const char *k, char **out)
{
        json_object *v = cms_json_get(o, k);
        *out = NULL;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        return (*out = strdup(json_object_get_string(v))) ? 0 : -ENOMEM;
}

static json_object *take_typed(json_object *o, const char *k, enum json_type t)
{
        json_object *v = cms_json_get(o, k);
        return json_object_is_type(v, t) ? json_object_get(v) : NULL;
}

int cms_project_store_load(struct cms_manager *m, const char *name, struct cms_project_record *out,
                           struct cms_error *err)
{
        memset(out, 0, sizeof(*out));
        if (!cms_compose_project_name_valid(name))
                return cms_err(err, 400, "invalid project name '%.64s'", name);
        _cleanup_free_ char *dir = store_dir(m);
        _cleanup_free_ char *path = dir ? cms_strdup_printf("%s/%s.json", dir, name) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        _cleanup_json_ json_object *o = json_object_from_file(path);
        if (!o) {
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        return cms_err(err, 404, "project %s has no stored compose file", name);
                return cms_err(err, 500, "cannot read %s", path);
        }
        int r = take_str(o, "name", &out->name);
        r = r ?: take_str(o, "compose", &out->compose);
        r = r ?: take_str(o, "dotenv", &out->dotenv);
        r = r ?: take_str(o, "working_dir", &out->working_dir);
        if (r < 0 || !out->compose || !out->name || strcmp(out->name, name)) {
                cms_project_record_done(out);
                return cms_err(err, 500, "the stored record of project %s is damaged: %s", name,
                               path);
        }
        out->overrides = take_typed(o, "overrides", json_type_array);
        for (size_t i = 0; out->overrides && i < cms_jlen(out->overrides); i++)
                if (!json_object_is_type(json_object_array_get_idx(out->overrides, i),
                                         json_type_string)) {
                        cms_project_record_done(out);
                        return cms_err(err, 500, "the stored record of project %s is damaged: %s",
                                       name, path);
                }
        out->env = take_typed(o, "env", json_type_object);
        out->profiles = take_typed(o, "profiles", json_type_array);
        out->scale = take_typed(o, "scale", json_type_object);
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(json_object_get_string(*(json_object *const *)a),
                      json_object_get_string(*(json_object *const *)b));
}

json_object *cms_project_store_names(struct cms_manager *m)
{
        json_object *names = json_object_new_array();
        _cleanup_free_ char *dir = store_dir(m);
        DIR *d = dir ? opendir(dir) : NULL;
        if (!d)
                return names;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l <= 5 || strcmp(e->d_name + l - 5, ".json"))
                        continue;
                _cleanup_free_ char *n = strndup(e->d_name, l - 5);
                if (n && cms_compose_project_name_valid(n))
                        json_object_array_add(names, json_object_new_string(n));
        }
        closedir(d);
        json_object_array_sort(names, name_cmp);
        return names;
}

int cms_project_lock(struct cms_manager *m, const char *name, struct cms_error *err)
{
        pthread_mutex_lock(&m->projects_mu);
        bool busy = json_object_object_get_ex(m->projects_busy, name, NULL);
        if (!busy)
                json_object_object_add(m->projects_busy, name, json_object_new_boolean(true));
        pthread_mutex_unlock(&m->projects_mu);
        if (busy)
                return cms_err(err, 409, "another operation on project %s is running", name);
        return 0;
}

void cms_project_unlock(struct cms_manager *m, const char *name)
{
        pthread_mutex_lock(&m->projects_mu);
        json_object_object_del(m->projects_busy, name);
        pthread_mutex_unlock(&m->projects_mu);
}

/* Who reads env files: the caller, whose policy decides which host files cmsd reads for them. */
struct reader {
        struct cms_manager *m;
        const struct cms_caller *who;
};

/* One env_file into the service's environment; what `environment` sets wins. */
static int env_file_into(const struct reader *rd, struct cms_compose_service *s, size_t k,
                         const char *wd, json_object *warnings, struct cms_error *err)
{
        const struct cms_compose_env_file *f = &s->env_files[k];
        if (f->path[0] != '/' && !wd)
                return cms_err(err, 400,
                               "services.%s.env_file: the relative path '%.100s' needs "
                               "the project's working_dir",
                               s->name, f->path);
        _cleanup_free_ char *path =
            f->path[0] == '/' ? strdup(f->path) : cms_strdup_printf("%s/%s", wd, f->path);
        _cleanup_free_ char *text = NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        char field[200];
        snprintf(field, sizeof(field), "services.%s.env_file[%zu]", s->name, k);
        struct cms_policy_req q = {.kind = CMS_PQ_READ, .path = path, .field = field};
        int r = cms_policy_enforce(rd->m, rd->who, &q, err);
        if (r < 0)
                return r;
        r = cms_read_file(path, CMS_COMPOSE_MAX_BYTES, &text, NULL, err);
        if (r == -ENOENT && !f->required)
                return 0;
        if (r == -ENOENT)
                return cms_err(err, 400, "services.%s.env_file: %s not found", s->name, path);
        struct cms_compose_env *e = NULL;
        if (r < 0 || (r = cms_compose_env_new(NULL, text, &e, warnings, err)) < 0) {
                cms_project_prefix_error(err, "services.", s->name);
                return r;
        }
        const struct cms_compose_kvs *kv = cms_compose_env_dotenv(e);
        for (size_t i = 0; r == 0 && i < kv->n; i++)
                if (!cms_compose_kvs_get(&s->environment, kv->v[i].key))
                        r = cms_compose_kvs_set(&s->environment, kv->v[i].key,
                                                kv->v[i].value ? kv->v[i].value : "");
        cms_compose_env_free(e);
        return r < 0 ? cms_err(err, 500, "out of memory") : 0;
}

/* env_file is read here, on the daemon's host, so the model (and the config hash) carries the
 * resolved environment, as `docker compose config` shows it. Later files win over earlier.
 * Without a caller (internal parses for service names and order) no file is read. */
static int resolve_env_files(const struct reader *rd, struct cms_compose_project *p,
                             json_object *warnings, struct cms_error *err)
{
        for (size_t i = 0; i < p->n_services; i++) {
                struct cms_compose_service *s = &p->services[i];
                for (size_t k = s->n_env_files; rd->who && k-- > 0;) {
                        int r = env_file_into(rd, s, k, p->working_dir, warnings, err);
                        if (r < 0)
                                return r;
                }
                for (size_t k = 0; k < s->n_env_files; k++)
                        free(s->env_files[k].path);
                free(s->env_files);
                s->env_files = NULL;
                s->n_env_files = 0;
        }
        return 0;
}

/* The parser's loader for the files a compose file names (extends.file, include and its env
 * files): read on the daemon's host only where the caller's policy lets cmsd read for them
 * (build_paths, as env_file); -ENOENT for a file that is not there. */
static int load_named_file(void *ud, const char *what, const char *path, char **text,
                           struct cms_error *err)
{
        const struct reader *rd = ud;
        struct cms_policy_req q = {.kind = CMS_PQ_READ, .path = path, .field = what};
        int r = rd->who ? cms_policy_enforce(rd->m, rd->who, &q, err) : 0;
        return r ?: cms_read_file(path, CMS_COMPOSE_MAX_BYTES, text, NULL, err);
}

int cms_project_parse(struct cms_manager *m, const struct cms_caller *who,
                      const struct cms_project_record *rec, struct cms_compose_project **out,
                      json_object *warnings, struct cms_error *err)
{
        const struct reader rd = {m, who};
        const char *profiles[65], *overrides[CMS_COMPOSE_MAX_FILES + 1];
        size_t np = 0, no = 0;
        for (size_t i = 0; rec->overrides && i < cms_jlen(rec->overrides); i++) {
                if (no == CMS_COMPOSE_MAX_FILES - 1)
                        return cms_err(err, 400, "compose: at most %d files",
                                       CMS_COMPOSE_MAX_FILES);
                overrides[no++] =
                    json_object_get_string(json_object_array_get_idx(rec->overrides, i));
        }
        overrides[no] = NULL;
        for (size_t i = 0; rec->profiles && i < cms_jlen(rec->profiles); i++) {
                if (np == ELEMENTSOF(profiles) - 1)
                        return cms_err(err, 400, "profiles: at most 64");
                profiles[np++] =
                    json_object_get_string(json_object_array_get_idx(rec->profiles, i));
        }
        profiles[np] = NULL;
        struct cms_compose_parse_opts po = {
            .name = rec->name,
            .env = rec->env,
            .dotenv = rec->dotenv,
            .working_dir = rec->working_dir,
            .profiles = rec->profiles ? profiles : NULL,
            .overrides = no ? overrides : NULL,
            .load = load_named_file,
            .load_ud = (void *)&rd,
            .swarm = rec->swarm,
        };
        int r = cms_compose_parse(rec->compose, strlen(rec->compose), &po, out, warnings, err);
        if (r == 0 && (r = resolve_env_files(&rd, *out, warnings, err)) == 0 && who)
                r = cms_project_read_files(m, who, *out, err);
        if (r < 0 && *out) {
                cms_compose_project_free(*out);
                *out = NULL;
        }
        return r;
}

void cms_project_prefix_error(struct cms_error *err, const char *what, const char *key)
{
        if (!err || err->status != 400)
                return;
        char msg[sizeof(err->message) + 256];
        snprintf(msg, sizeof(msg), "%s%s: %s", what, key, err->message);
        size_t l = strnlen(msg, sizeof(err->message) - 1);
        memcpy(err->message, msg, l);
        err->message[l] = 0;
}
