/* cmsctl's other read commands: images, network ls, volume ls (create, inspect and rm are in
 * cmd_objects.c), version, whoami, engine ls. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

#ifndef CMSCTL_VERSION
#define CMSCTL_VERSION "0.1.0"
#endif

/* GET path and print it: JSON, or a table of the given columns (each a string member, or
 * "size"/"created" made human). */
static int list(struct ctl *c, const char *path, const char *const *heads, const char *const *keys,
                size_t ncols)
{
        json_object *d = NULL;
        int r = ctl_call(c, "GET", path, NULL, &d);
        if (r != CTL_OK)
                return r;
        if (ctl_structured(c, d)) {
                json_object_put(d);
                return CTL_OK;
        }
        /* engine=*: the engine first. */
        const char *eh[8], *ek[8];
        if (c->engine && !strcmp(c->engine, "*") && ncols < 8) {
                eh[0] = "ENGINE", ek[0] = "engine";
                memcpy(eh + 1, heads, ncols * sizeof(*heads));
                memcpy(ek + 1, keys, ncols * sizeof(*keys));
                heads = eh, keys = ek, ncols++;
        }
        struct ctl_table *t = ctl_table_new(heads, ncols);
        int64_t now = (int64_t)time(NULL);
        size_t n = json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(d, i), *v = NULL;
                char cells[8][256];
                const char *row[8];
                for (size_t k = 0; k < ncols && k < 8; k++) {
                        row[k] = cells[k];
                        if (!strcmp(keys[k], "size") && json_object_object_get_ex(it, "size", &v))
                                ctl_human_size((uint64_t)json_object_get_int64(v), cells[k], 256);
                        else if (!strcmp(keys[k], "created"))
                                ctl_human_age(ctl_str(it, "created"), now, cells[k], 256);
                        else if (!strcmp(keys[k], "id"))
                                snprintf(cells[k], 256, "%.12s",
                                         ctl_str(it, "id") +
                                             (strncmp(ctl_str(it, "id"), "sha256:", 7) ? 0 : 7));
                        else
                                snprintf(cells[k], 256, "%s", ctl_str(it, keys[k]));
                }
                if (c->format == CTL_QUIET)
                        puts(row[0]);
                else
                        ctl_table_add(t, row);
        }
        if (c->format != CTL_QUIET)
                ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

int cmd_images(struct ctl *c, int argc, char **argv)
{
        static const char *const h[] = {"IMAGE ID", "TAGS", "CREATED", "SIZE"};
        static const char *const k[] = {"id", "tags", "created", "size"};
        char path[1024];
        int r = ctl_list_path(c, "/v1/images", argc, argv, path, sizeof(path));
        if (r != CTL_OK)
                return r;
        json_object *d = NULL;
        if (c->format != CTL_TABLE)
                return list(c, path, h, k, 4);
        /* Tags are a list: one row per tag, as docker images prints them. */
        if ((r = ctl_call(c, "GET", path, NULL, &d)) != CTL_OK)
                return r;
        static const char *const h2[] = {"REPOSITORY:TAG", "IMAGE ID", "CREATED", "SIZE"};
        struct ctl_table *t = ctl_table_new(h2, 4);
        int64_t now = (int64_t)time(NULL);
        size_t n = json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(d, i), *tags = NULL, *sz = NULL;
                char id[16], age[64], size[32];
                const char *full = ctl_str(it, "id");
                snprintf(id, sizeof(id), "%.12s", full + (strncmp(full, "sha256:", 7) ? 0 : 7));
                ctl_human_age(ctl_str(it, "created"), now, age, sizeof(age));
                json_object_object_get_ex(it, "size", &sz);
                ctl_human_size((uint64_t)json_object_get_int64(sz), size, sizeof(size));
                json_object_object_get_ex(it, "tags", &tags);
                size_t nt =
                    json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
                for (size_t j = 0; j < (nt ? nt : 1); j++) {
                        json_object *tj = nt ? json_object_array_get_idx(tags, j) : NULL;
                        const char *tag = tj ? json_object_get_string(tj) : "<none>";
                        const char *row[] = {tag, id, age, size};
                        ctl_table_add(t, row);
                }
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

static int sub_ls(struct ctl *c, int argc, char **argv, const char *base, const char *const *h,
                  const char *const *k, size_t n)
{
        char path[1024];
        int r = ctl_list_path(c, base, argc, argv, path, sizeof(path));
        return r != CTL_OK ? r : list(c, path, h, k, n);
}

int cmd_network_ls(struct ctl *c, int argc, char **argv)
{
        static const char *const h[] = {"NETWORK ID", "NAME", "DRIVER", "SCOPE"};
        static const char *const k[] = {"id", "name", "driver", "scope"};
        return sub_ls(c, argc, argv, "/v1/networks", h, k, 4);
}

int cmd_volume_ls(struct ctl *c, int argc, char **argv)
{
        static const char *const h[] = {"VOLUME NAME", "DRIVER", "CREATED"};
        static const char *const k[] = {"name", "driver", "created"};
        return sub_ls(c, argc, argv, "/v1/volumes", h, k, 3);
}

int cmd_version(struct ctl *c, int argc, char **argv)
{
        json_object *d = NULL, *cm = NULL, *eng = NULL;
        int r = ctl_call(c, "GET", "/v1/system/info", NULL, &d);
        if (c->format == CTL_JSON || c->format == CTL_TEMPLATE) {
                json_object *v = json_object_new_object(), *cl = json_object_new_object();
                json_object_object_add(cl, "version", json_object_new_string(CMSCTL_VERSION));
                json_object_object_add(v, "client", cl);
                json_object_object_add(v, "server", d);
                ctl_structured(c, v);
                json_object_put(v);
                return r;
        }
        printf("Client:\n Version: %s\n", CMSCTL_VERSION);
        if (r != CTL_OK)
                return r;
        json_object_object_get_ex(d, "cmsd", &cm);
        json_object_object_get_ex(d, "engine", &eng);
        printf("Server:\n Version: %s\n Engine: %s %s (API %s)\n", ctl_safe(ctl_str(cm, "version")),
               ctl_safe(ctl_str(d, "runtime")), ctl_safe(ctl_str(eng, "version")),
               ctl_safe(ctl_str(eng, "api_version")));
        json_object_put(d);
        return CTL_OK;
}

int cmd_whoami(struct ctl *c, int argc, char **argv)
{
        json_object *d = NULL;
        int r = ctl_call(c, "GET", "/v1/auth/whoami", NULL, &d);
        if (r != CTL_OK)
                return r;
        if (!ctl_structured(c, d))
                printf("%s (%s, policy %s)\n", ctl_safe(ctl_str(d, "name")),
                       ctl_safe(ctl_str(d, "role")), ctl_safe(ctl_str(d, "policy")));
        json_object_put(d);
        return CTL_OK;
}

int cmd_engine_ls(struct ctl *c, int argc, char **argv)
{
        (void)argv;
        if (argc > 0)
                return ctl_usage("engine ls");
        json_object *d = NULL;
        int r = ctl_call(c, "GET", "/v1/engines", NULL, &d);
        if (r != CTL_OK)
                return r;
        if (ctl_structured(c, d)) {
                json_object_put(d);
                return CTL_OK;
        }
        static const char *const h[] = {"NAME",  "DEFAULT",    "RUNTIME",    "VERSION",
                                        "STATE", "CONTAINERS", "URL / ERROR"};
        struct ctl_table *t = ctl_table_new(h, 7);
        size_t n = json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(d, i), *cnt = NULL, *ctr = NULL;
                char ctrs[64] = "-";
                if (json_object_object_get_ex(it, "counts", &cnt) &&
                    json_object_object_get_ex(cnt, "containers", &ctr)) {
                        int64_t run = 0, all = 0;
                        json_object_object_foreach(ctr, k, v)
                        {
                                all += json_object_get_int64(v);
                                if (!strcmp(k, "running"))
                                        run = json_object_get_int64(v);
                        }
                        snprintf(ctrs, sizeof(ctrs), "%" PRId64 " running / %" PRId64, run, all);
                }
                bool up = !strcmp(ctl_str(it, "state"), "up");
                json_object *dflt = NULL;
                json_object_object_get_ex(it, "default", &dflt);
                const char *row[] = {ctl_str(it, "name"),
                                     json_object_get_boolean(dflt) ? "*" : "",
                                     ctl_str(it, "runtime"),
                                     ctl_str(it, "version"),
                                     ctl_str(it, "state"),
                                     ctrs,
                                     up ? ctl_str(it, "url") : ctl_str(it, "last_error")};
                const char *colours[] = {
                    NULL, NULL, NULL, NULL, c->color ? (up ? "32" : "31") : NULL, NULL, NULL};
                ctl_table_add_coloured(t, row, colours);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}
