/* cmsctl's image, network and volume management: tag, rmi, history; network and volume create,
 * inspect, rm (the list commands are in cmd_system.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

/* An image reference for a path: '/', ':' and '@' stay (the route takes the rest of the path),
 * anything outside the reference alphabet is %-escaped. malloc'd. */
static char *ref_path(const char *ref)
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
        char *ref = ref_path(argv[0]), path[2048];
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
                char *ref = ref_path(argv[i]), path[2048];
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
                                printf("Deleted: %s\n",
                                       json_object_get_string(json_object_array_get_idx(del, k)));
                json_object_put(d);
        }
        return worst;
}

int cmd_history(struct ctl *c, int argc, char **argv)
{
        if (argc != 1)
                return ctl_usage("history IMAGE");
        char *ref = ref_path(argv[0]), path[2048];
        json_object *d = NULL;
        snprintf(path, sizeof(path), "/v1/images/%s/history", ref ? ref : "");
        free(ref);
        int r = ctl_call(c, "GET", path, NULL, &d);
        if (r != CTL_OK || c->format == CTL_JSON) {
                if (r == CTL_OK)
                        ctl_print_json(d);
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

/* create [--driver D] [--label K=V]... NAME -> POST base {name, driver, labels}. */
static int create(struct ctl *c, const char *what, const char *base, int argc, char **argv)
{
        json_object *body = json_object_new_object(), *labels = json_object_new_object();
        const char *name = NULL;
        int r = CTL_OK;
        for (int i = 0; i < argc && r == CTL_OK; i++) {
                const char *v = i + 1 < argc ? argv[i + 1] : NULL, *eq = v ? strchr(v, '=') : NULL;
                if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--driver")) && v) {
                        json_object_object_add(body, "driver", json_object_new_string(v));
                        i++;
                } else if ((!strcmp(argv[i], "-l") || !strcmp(argv[i], "--label")) && eq) {
                        char *k = strndup(v, (size_t)(eq - v));
                        json_object_object_add(labels, k, json_object_new_string(eq + 1));
                        free(k);
                        i++;
                } else if (argv[i][0] != '-' && !name) {
                        name = argv[i];
                } else {
                        r = ctl_usage("%s create [--driver D] [--label K=V]... NAME", what);
                }
        }
        if (r == CTL_OK && !name)
                r = ctl_usage("%s create [--driver D] [--label K=V]... NAME", what);
        if (r == CTL_OK) {
                json_object_object_add(body, "name", json_object_new_string(name));
                json_object_object_add(body, "labels", json_object_get(labels));
                if ((r = ctl_call(c, "POST", base, body, NULL)) == CTL_OK)
                        puts(name);
        }
        json_object_put(labels);
        json_object_put(body);
        return r;
}

/* inspect NAME... (a JSON array) or rm NAME... (names printed) on base/NAME. */
static int each(struct ctl *c, const char *verb, const char *base, int argc, char **argv)
{
        bool rm = !strcmp(verb, "rm");
        json_object *all = json_object_new_array();
        int worst = CTL_OK;
        for (int i = 0; i < argc; i++) {
                char *id = ctl_escape(argv[i]), path[1024];
                json_object *d = NULL;
                snprintf(path, sizeof(path), "%s/%s", base, id ? id : "");
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
                ctl_print_json(all);
        json_object_put(all);
        return worst;
}

int ctl_objects(struct ctl *c, const char *what, const char *base, int argc, char **argv)
{
        if (argc >= 1 && !strcmp(argv[0], "create"))
                return create(c, what, base, argc - 1, argv + 1);
        if (argc >= 2 && (!strcmp(argv[0], "inspect") || !strcmp(argv[0], "rm")))
                return each(c, argv[0], base, argc - 1, argv + 1);
        return ctl_usage("%s ls|create|inspect|rm ...", what);
}
