/* The images a compose project needs: pulled per the pull option and each service's
 * pull_policy, or built from the service's build section (the context directory on this host
 * streamed to the engine as a tar). Each image is handled once even when several services use
 * it. */
#include "internal.h"
#include "../images/tar_dir.h"

/* The context directory: absolute, or relative to the project's working_dir. */
int cms_project_context_dir(const struct cms_compose_project *p,
                            const struct cms_compose_service *s, char **out, struct cms_error *err)
{
        const char *c = s->build->context;
        if (strstr(c, "://") || cms_str_has_prefix(c, "git@"))
                return cms_err(err, 400,
                               "services.%s.build.context: remote contexts ('%.100s') "
                               "are not supported; give a directory",
                               s->name, c);
        if (*c == '/')
                *out = strdup(c);
        else if (!p->working_dir)
                return cms_err(err, 400,
                               "services.%s.build.context: the relative path '%.100s' "
                               "needs the project's working_dir",
                               s->name, c);
        else
                *out = cms_strdup_printf("%s/%s", p->working_dir, c);
        return *out ? 0 : cms_err(err, 500, "out of memory");
}

static int build_one(struct cms_manager *m, const struct cms_up_opts *o,
                     const struct cms_compose_project *p, const struct cms_compose_service *s,
                     struct cms_error *err)
{
        const struct cms_caller *who = o->who;
        _cleanup_free_ char *dir = NULL;
        char field[200];
        snprintf(field, sizeof(field), "services.%s.build.context", s->name);
        struct cms_policy_req q = {.kind = CMS_PQ_READ, .field = field};
        int r = cms_project_context_dir(p, s, &dir, err);
        q.path = dir;
        if (r < 0 || (r = cms_policy_enforce(m, who, &q, err)) < 0)
                return r;
        const struct cms_compose_build *b = s->build;
        size_t n = b->args.n;
        char **args = calloc(n + 1, sizeof(char *));
        const char *tags[] = {s->image, NULL};
        if (!args)
                return cms_err(err, 500, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (b->args.v[i].value) /* without a value: unset, as the engine would do */
                        args[k++] =
                            cms_strdup_printf("%s=%s", b->args.v[i].key, b->args.v[i].value);
        size_t nl = b->labels.n;
        char **labels = calloc(nl + 1, sizeof(char *));
        for (size_t i = 0; labels && i < nl; i++)
                if (!(labels[i] =
                          cms_strdup_printf("%s=%s", b->labels.v[i].key, b->labels.v[i].value))) {
                        cms_strv_free(labels);
                        labels = NULL;
                }
        if (!labels) {
                cms_strv_free(args);
                return cms_err(err, 500, "out of memory");
        }
        struct cms_build_opts bo = {
            .tags = tags,
            .labels = (const char *const *)labels,
            .dockerfile = b->dockerfile,
            .buildargs = (const char *const *)args,
            .target = b->target,
            .nocache = o->no_cache || b->no_cache,
        };
        struct cms_tar_dir *t = NULL;
        r = cms_images_build_check(&bo, err);
        if (r == 0)
                r = cms_tar_dir_new(dir, b->dockerfile, &t, err);
        if (r == 0) {
                _cleanup_json_ json_object *out = NULL;
                r = cms_images_build(m, &bo, cms_tar_dir_read, t, NULL, NULL, NULL, &out, err);
                const struct cms_error *te = cms_tar_dir_error(t);
                if (r < 0 && te && te->status && err)
                        *err = *te;
        }
        if (r < 0) {
                _cleanup_free_ char *what = cms_strdup_printf("services.%s", s->name);
                cms_project_prefix_error(err, what ? what : "services", ".build");
        }
        cms_tar_dir_free(t);
        for (size_t i = 0; i < k; i++)
                free(args[i]);
        free(args);
        cms_strv_free(labels);
        return r;
}

static void add_image(json_object *images, const char *svc, const char *image, const char *action)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "service", json_object_new_string(svc));
        json_object_object_add(o, "image", json_object_new_string(image));
        json_object_object_add(o, "action", json_object_new_string(action));
        json_object_array_add(images, o);
}

/* What to do for an image-only service: "always", "never" or "missing". The request's pull
 * option wins over the service's pull_policy unless it is the default, "missing". */
static const char *pull_mode(const struct cms_compose_service *s, const struct cms_up_opts *o)
{
        if (o->pull == CMS_PULL_ALWAYS)
                return "always";
        if (o->pull == CMS_PULL_NEVER)
                return "never";
        const char *pp = s->pull_policy;
        if (pp && !strcmp(pp, "always"))
                return "always";
        if (pp && !strcmp(pp, "never"))
                return "never";
        return "missing";
}

static int one_service(struct cms_manager *m, const struct cms_compose_project *p,
                       const struct cms_compose_service *s, const struct cms_up_opts *o,
                       json_object *images, struct cms_error *err)
{
        int present = cms_image_present(m, s->image, err);
        if (present < 0)
                return present;
        if (s->build) {
                bool build =
                    o->build || !present || (s->pull_policy && !strcmp(s->pull_policy, "build"));
                if (!build) {
                        add_image(images, s->name, s->image, "present");
                        return 0;
                }
                cms_up_note(o, &(struct cms_up_event){
                                   .service = s->name, .image = s->image, .status = "building"});
                int r = build_one(m, o, p, s, err);
                if (r == 0) {
                        add_image(images, s->name, s->image, "built");
                        cms_up_note(o, &(struct cms_up_event){.service = s->name,
                                                              .image = s->image,
                                                              .status = "built"});
                }
                return r;
        }
        const char *mode = pull_mode(s, o);
        if (!strcmp(mode, "never") || (!strcmp(mode, "missing") && present)) {
                if (!present)
                        return cms_err(err, 404,
                                       "service %s: image %s is not present and pull "
                                       "is never",
                                       s->name, s->image);
                add_image(images, s->name, s->image, "present");
                return 0;
        }
        cms_up_note(
            o, &(struct cms_up_event){.service = s->name, .image = s->image, .status = "pulling"});
        int r = cms_images_pull_ref(m, s->image, err);
        if (r == 0) {
                add_image(images, s->name, s->image, "pulled");
                cms_up_note(o, &(struct cms_up_event){
                                   .service = s->name, .image = s->image, .status = "pulled"});
        }
        return r;
}

int cms_project_images(struct cms_manager *m, const struct cms_compose_project *p,
                       const struct cms_up_opts *o, json_object *images, struct cms_error *err)
{
        _cleanup_json_ json_object *done = json_object_new_object();
        for (size_t i = 0; i < p->n_services; i++) {
                const struct cms_compose_service *s = &p->services[i];
                if ((o->only && !json_object_object_get_ex(o->only, s->name, NULL)) ||
                    (o->images == 1 && !s->build) || (o->images == 2 && s->build))
                        continue;
                json_object *prev = NULL;
                /* One image, one pull or build; later services share the outcome. */
                if (json_object_object_get_ex(done, s->image, &prev)) {
                        add_image(images, s->name, s->image, json_object_get_string(prev));
                        continue;
                }
                int r = one_service(m, p, s, o, images, err);
                if (r < 0)
                        return r;
                size_t n = cms_jlen(images);
                json_object *last = json_object_array_get_idx(images, n - 1);
                json_object_object_add(done, s->image,
                                       json_object_get(cms_json_get(last, "action")));
        }
        return 0;
}
