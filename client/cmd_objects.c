/* cmsctl's image, network and volume management: tag, rmi, history; network and volume create,
 * inspect, rm (the list commands are in cmd_system.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

/* An image reference for a path: '/', ':' and '@' stay (the route takes the rest of the path),
 * anything outside the reference alphabet is %-escaped. malloc'd. */
char *ctl_ref_path(const char *ref)
{
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 "._-/:@";
        char *out = malloc(strlen(ref) * 3 + 1), *o = out;
        for (const unsigned char *p = (const unsigned char *)ref; out && *p; p++) {
                if (strchr(ok, *p))
                        *o++ = (char)*p;
                else
                        o += sprintf(o, "%%%02X", *p);
        }
        if (out)
                *o = 0;
        return out;
}

int cmd_tag(struct ctl *c, int argc, char **argv)
{
        if (argc != 2)
                return ctl_usage("tag SOURCE_IMAGE TARGET_IMAGE[:TAG]");
        char *ref = ctl_ref_path(argv[0]), path[2048];
        snprintf(path, sizeof(path), "/v1/images/%s/tag", ref ? ref : "");
        free(ref);
        json_object *body = json_object_new_object();
        json_object_object_add(body, "target", json_object_new_string(argv[1]));
        int r = ctl_call(c, "POST", path, body, NULL);
        json_object_put(body);
        return r;
}

int cmd_rmi(struct ctl *c, int argc, char **argv)
{
        bool force = false;
        int i = 0, worst = CTL_OK;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "-f") && strcmp(argv[i], "--force"))
                        return ctl_usage("rmi [-f] IMAGE...");
                force = true;
        }
        if (i == argc)
                return ctl_usage("rmi [-f] IMAGE...");
        for (; i < argc; i++) {
                char *ref = ctl_ref_path(argv[i]), path[2048];
                json_object *d = NULL, *del = NULL;
                snprintf(path, sizeof(path), "/v1/images/%s?force=%s", ref ? ref : "",
                         force ? "true" : "false");
                free(ref);
                int r = ctl_call(c, "DELETE", path, NULL, &d);
                if (r != CTL_OK)
                        worst = r;
                else if (json_object_object_get_ex(d, "deleted", &del) &&
                         json_object_is_type(del, json_type_array))
                        for (size_t k = 0; k < json_object_array_length(del); k++)
                                printf("Deleted: %s\n", ctl_safe(json_object_get_string(
                                                            json_object_array_get_idx(del, k))));
                json_object_put(d);
        }
        return worst;
}

int cmd_history(struct ctl *c, int argc, char **argv)
{
        if (argc != 1)
                return ctl_usage("history IMAGE");
        char *ref = ctl_ref_path(argv[0]), path[2048];
        json_object *d = NULL;
        snprintf(path, sizeof(path), "/v1/images/%s/history", ref ? ref : "");
        free(ref);
        int r = ctl_call(c, "GET", path, NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"IMAGE", "CREATED", "CREATED BY", "SIZE"};
        struct ctl_table *t = ctl_table_new(h, 4);
        int64_t now = (int64_t)time(NULL);
        size_t n = json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(d, i), *sz = NULL;
                const char *id = ctl_str(it, "id");
                char sid[16], age[64], size[32];
                snprintf(sid, sizeof(sid), "%.12s",
                         *id ? id + (strncmp(id, "sha256:", 7) ? 0 : 7) : "<missing>");
                ctl_human_age(ctl_str(it, "created"), now, age, sizeof(age));
                json_object_object_get_ex(it, "size", &sz);
                ctl_human_size((uint64_t)json_object_get_int64(sz), size, sizeof(size));
                const char *row[] = {sid, age, ctl_str(it, "created_by"), size};
                ctl_table_add(t, row);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

/* "/v1/networks" or "/v1/volumes" for the group running. */
static const char *group_base(const struct ctl *c)
{
        return !strcmp(c->group, "network") ? "/v1/networks" : "/v1/volumes";
}

/* K=V into obj[K] = V; false when there is no '='. */
static bool put_kv(json_object *obj, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return false;
        char *k = strndup(kv, (size_t)(eq - kv));
        json_object_object_add(obj, k, json_object_new_string(eq + 1));
        free(k);
        return true;
}

/* One option of create: true when argv[*i] (and its value) was taken. */
static bool create_opt(json_object *body, bool net, int argc, char **argv, int *i)
{
        static const char *const strs[][2] = {{"--driver", "driver"},     {"-d", "driver"},
                                              {"--subnet", "subnet"},     {"--gateway", "gateway"},
                                              {"--ip-range", "ip_range"}, {NULL, NULL}};
        const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
        for (int k = 0; strs[k][0]; k++)
                if (!strcmp(o, strs[k][0]) && v && (net || !strcmp(strs[k][1], "driver"))) {
                        json_object_object_add(body, strs[k][1], json_object_new_string(v));
                        ++*i;
                        return true;
                }
        if (net && !strcmp(o, "--internal")) {
                json_object_object_add(body, "internal", json_object_new_boolean(1));
                return true;
        }
        const char *key = !strcmp(o, "-l") || !strcmp(o, "--label") ? "labels"
                          : !strcmp(o, "-o") || !strcmp(o, "--opt") || !strcmp(o, "--option")
                              ? "options"
                              : NULL;
        json_object *m = NULL;
        if (!key || !v)
                return false;
        if (!json_object_object_get_ex(body, key, &m)) {
                m = json_object_new_object();
                json_object_object_add(body, key, m);
        }
        ++*i;
        return put_kv(m, v);
}

int cmd_obj_create(struct ctl *c, int argc, char **argv)
{
        bool net = !strcmp(c->group, "network");
        json_object *body = json_object_new_object();
        const char *name = NULL;
        int r = CTL_OK;
        for (int i = 0; i < argc && r == CTL_OK; i++) {
                if (argv[i][0] != '-' && !name)
                        name = argv[i];
                else if (argv[i][0] == '-' && create_opt(body, net, argc, argv, &i))
                        continue;
                else
                        r = CTL_USAGE;
        }
        if (r == CTL_OK && name) {
                json_object_object_add(body, "name", json_object_new_string(name));
                if ((r = ctl_call(c, "POST", group_base(c), body, NULL)) == CTL_OK)
                        puts(name);
        } else {
                r = ctl_usage("%s create %s NAME", c->group,
                              net ? "[--driver D] [--subnet CIDR] [--gateway IP] [--ip-range CIDR] "
                                    "[--internal] [-o K=V]... [--label K=V]..."
                                  : "[--driver D] [-o K=V]... [--label K=V]...");
        }
        json_object_put(body);
        return r;
}

/* inspect NAME... (a JSON array) or rm [-f] NAME... (names printed) on the group's route. */
int cmd_obj_each(struct ctl *c, int argc, char **argv)
{
        bool rm = !strcmp(c->cmd, "rm"), force = false;
        int i = 0;
        if (rm && argc > 0 && (!strcmp(argv[0], "-f") || !strcmp(argv[0], "--force")) &&
            strcmp(c->group, "network"))
                force = true, i++;
        if (i >= argc)
                return ctl_usage("%s %s%s NAME...", c->group, c->cmd,
                                 rm && strcmp(c->group, "network") ? " [-f]" : "");
        json_object *all = json_object_new_array();
        int worst = CTL_OK;
        for (; i < argc; i++) {
                char *id = ctl_escape(argv[i]), path[1024];
                json_object *d = NULL;
                snprintf(path, sizeof(path), "%s/%s%s", group_base(c), id ? id : "",
                         force ? "?force=true" : "");
                free(id);
                int r = ctl_call(c, rm ? "DELETE" : "GET", path, NULL, rm ? NULL : &d);
                if (r != CTL_OK)
                        worst = r;
                else if (rm)
                        puts(argv[i]);
                else
                        json_object_array_add(all, d);
        }
        if (!rm)
                if (!ctl_structured(c, all))
                        ctl_print_json(all);
        json_object_put(all);
        return worst;
}
