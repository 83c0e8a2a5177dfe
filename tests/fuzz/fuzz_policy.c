/* Fuzzes the policy evaluator on what reaches it from outside: the input as JSON is judged as an
 * engine create body, a volume body and a network body, and under "HostConfig" key by key as the
 * compose runtime keys are, by the restricted built-in and by a policy with binds, capabilities,
 * images and build paths allowed; the input as a string is judged as an image, a host path to
 * read, a capability name and a path to normalize. Each check returns the denials it added. */
#include "fuzz.h"

#include "daemon/security/policy.h"

/* A policy that allows some of everything, so that the allowed paths are walked too. */
static const struct cms_policy *custom(void)
{
        static char *caps[] = {"CAP_NET_ADMIN", "CAP_SYS_TIME"};
        static char *binds[] = {"/srv", "/var/lib/app", "/run/docker.sock"};
        static char *images[] = {"docker.io/library/*", "registry.local/*:v*"};
        static char *build[] = {"/home/build"};
        static const struct cms_policy p = {.name = "fuzz",
                                            .driver_options = true,
                                            .cap_add = caps,
                                            .n_cap_add = 2,
                                            .bind_paths = binds,
                                            .n_bind_paths = 3,
                                            .images = images,
                                            .n_images = 2,
                                            .build_paths = build,
                                            .n_build_paths = 1};
        return &p;
}

static char *resolve(const char *path)
{
        /* A symlink that leads elsewhere: /srv/link -> /etc. */
        if (!strncmp(path, "/srv/link", 9))
                return strdup("/etc");
        return strdup(path);
}

static void count(int n, json_object *d)
{
        FUZZ_CHECK(n == -1 || (n >= 0 && (size_t)n <= json_object_array_length(d)));
}

static void judge(const struct cms_policy *p, json_object *doc, const char *s)
{
        const char *own[] = {"web", "db", NULL};
        const char *sockets[] = {"/run/user/1000/podman/podman.sock", NULL};
        struct cms_policy_env env = {.sockets = sockets, .own_containers = own, .resolve = resolve};
        json_object *d = json_object_new_array();
        /* Bodies reach the evaluator as objects: the container model builds the create body and
         * the volume and network routes check theirs first. */
        if (doc && json_object_is_type(doc, json_type_object)) {
                count(cms_policy_check_create(p, &env, doc, "", d), d);
                count(cms_policy_check_volume(p, &env, doc, "volumes.v.", d), d);
                count(cms_policy_check_network(p, &env, doc, "networks.n.", d), d);
                json_object *hc = NULL;
                if (json_object_object_get_ex(doc, "HostConfig", &hc) &&
                    json_object_is_type(hc, json_type_object)) {
                        json_object_object_foreach(hc, k, v)
                        {
                                int n = cms_policy_check_host_key(p, &env, hc, k, v,
                                                                  "services.web.", d);
                                FUZZ_CHECK(n >= -1);
                        }
                }
        }
        size_t before = json_object_array_length(d);
        int n = cms_policy_check_image(p, s, "image", d);
        FUZZ_CHECK(n >= 0 && json_object_array_length(d) == before + (size_t)n);
        before = json_object_array_length(d);
        n = cms_policy_check_host_read(p, &env, s, "build.context", d);
        FUZZ_CHECK(n >= 0 && json_object_array_length(d) == before + (size_t)n);
        json_object_put(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        json_object *doc = fuzz_json(s, size);
        judge(cms_policy_restricted(), doc, s);
        judge(custom(), doc, s);
        judge(cms_policy_unrestricted(), doc, s);
        char buf[64], norm[4096];
        if (cms_cap_canonical(s, buf, sizeof(buf)))
                FUZZ_CHECK(!strncmp(buf, "CAP_", 4) || !strcmp(buf, "ALL"));
        if (cms_path_normalize(s, norm, sizeof(norm))) {
                FUZZ_CHECK(norm[0] == '/' && !strstr(norm, "//") && !strstr(norm, "/../"));
                char again[4096];
                FUZZ_CHECK(cms_path_normalize(norm, again, sizeof(again)) && !strcmp(norm, again));
        }
        json_object_put(doc);
        free(s);
        return 0;
}
