/* The caller's policy against what a domain manager is about to send to the engine (see
 * policy.h for the folder). Called by containers/ (every create), images/ (volume and network
 * creates) and projects/ (a whole compose project before anything is made, build contexts and
 * env_file before they are read). */
#pragma once

#include "../manager.h"
#include "policy.h"

enum cms_policy_kind {
        CMS_PQ_CREATE,  /* body: an engine create body; own: containers a container: may join */
        CMS_PQ_VOLUME,  /* body: cmsd's volume body */
        CMS_PQ_NETWORK, /* body: cmsd's network body */
        CMS_PQ_READ,    /* path: a host path cmsd itself will read (build context, env_file) */
        CMS_PQ_IMAGE,   /* path: an image reference to be run */
};

struct cms_policy_req {
        enum cms_policy_kind kind;
        json_object *body;
        const char *path;
        const char *prefix; /* of every field path: "" or "services.web." */
        const char *field;  /* CMS_PQ_READ and CMS_PQ_IMAGE: the field path of path */
        const char *const *own;
};

/* <state_dir>/compose-files/<project>[/<service>]: where projects/ materializes a service's
 * secrets and configs, which a read-only bind of that service may mount without bind_paths.
 * NULL on OOM. */
char *cms_policy_compose_files_dir(struct cms_manager *m, const char *project, const char *service);
/* Appends the caller's denials ({rule, field, message}) to denials and returns how many, or a
 * negative errno with err: no caller (500: a code path that forgot to say who asks never
 * reaches the engine), or a policy that is gone (a reload removed it: 403). */
int cms_policy_collect(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_policy_req *q, json_object *denials, struct cms_error *err);
/* The same, as a gate: 0 when allowed, else 403 policy_denied naming the first denial. */
int cms_policy_enforce(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_policy_req *q, struct cms_error *err);
/* The gate over collected denials: n itself when n <= 0 (allowed, or an error already in err),
 * else 403 policy_denied naming the first of them. */
int cms_policy_verdict(int n, json_object *denials, const char *policy, struct cms_error *err);
