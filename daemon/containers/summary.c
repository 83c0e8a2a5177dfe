/* Engine documents -> cmsd's normalized container views: the inspect summary, the list item and
 * the health document. Docker and Podman (compat API) inspect documents differ in small ways
 * (Name with/without "/", State.Health vs State.Healthcheck, absent or null HostConfig fields,
 * "localhost/" image prefixes, Entrypoint [] vs null), so every lookup is defensive: a missing key
 * gives null, 0 or "" and never a crash. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"
#include "list_text.h"

#include <time.h>

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (json_object_is_type(o, json_type_object))
                json_object_object_get_ex(o, key, &v);
        return v;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static int64_t num(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
                return json_object_get_int64(v);
        return 0;
}

static bool flag(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A string array copied (null or absent -> []; a lone string -> [it]). */
static json_object *strings(json_object *v)
{
        json_object *a = json_object_new_array();
        if (json_object_is_type(v, json_type_string)) {
                json_object_array_add(a, json_object_new_string(json_object_get_string(v)));
        } else if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        if (json_object_is_type(e, json_type_string))
                                json_object_array_add(
                                    a, json_object_new_string(json_object_get_string(e)));
                }
        }
        return a;
}

static json_object *string_map(json_object *v)
{
        json_object *m = json_object_new_object();
        if (!json_object_is_type(v, json_type_object))
                return m;
        json_object_object_foreach(v, key, val)
        {
                if (json_object_is_type(val, json_type_string))
                        json_object_object_add(m, key,
                                               json_object_new_string(json_object_get_string(val)));
        }
        return m;
}

/* The Go zero time ("0001-01-01T00:00:00Z") and empty strings mean "never" -> null. */
static bool time_set(const char *s)
{
        return s && *s && !cms_str_has_prefix(s, "0001-01-01");
}

static json_object *time_or_null(const char *s)
{
        return time_set(s) ? json_object_new_string(s) : NULL;
}

/* RFC 3339 -> unix seconds (fraction ignored), -1 when unparsable. */
int64_t cms_rfc3339_unix(const char *s)
{
        struct tm tm = {0};
        int off_h = 0, off_m = 0;
        char sign = 0;
        if (!s ||
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec) != 6 ||
            strlen(s) < 19)
                return -1;
        const char *p = s + 19;
        if (*p == '.')
                p += 1 + strspn(p + 1, "0123456789");
        if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &off_h, &off_m) == 2)
                sign = *p;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        int64_t t = (int64_t)timegm(&tm);
        int64_t off = (int64_t)off_h * 3600 + off_m * 60;
        return sign == '+' ? t - off : sign == '-' ? t + off : t;
}

bool cms_unix_rfc3339(int64_t t, char *buf, size_t n)
{
        struct tm tm;
        time_t tt = (time_t)t;
        if (t <= 0 || !gmtime_r(&tt, &tm))
                return false;
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return true;
}

static json_object *unix_to_rfc3339(int64_t t)
{
        char buf[40];
        return cms_unix_rfc3339(t, buf, sizeof(buf)) ? json_object_new_string(buf) : NULL;
}

/* Docker's wording for a duration ("Up 5 minutes"), so inspect and list read alike. */
static void human_duration(int64_t secs, char *buf, size_t n)
{
        int64_t h = secs / 3600;
        if (secs < 1)
                snprintf(buf, n, "Less than a second");
        else if (secs == 1)
                snprintf(buf, n, "1 second");
        else if (secs < 60)
                snprintf(buf, n, "%" PRId64 " seconds", secs);
        else if (secs / 60 == 1)
                snprintf(buf, n, "About a minute");
        else if (secs < 3600)
                snprintf(buf, n, "%" PRId64 " minutes", secs / 60);
        else if (h == 1)
                snprintf(buf, n, "About an hour");
        else if (h < 48)
                snprintf(buf, n, "%" PRId64 " hours", h);
        else if (h < 24 * 7 * 2)
                snprintf(buf, n, "%" PRId64 " days", h / 24);
        else if (h < 24 * 30 * 2)
                snprintf(buf, n, "%" PRId64 " weeks", h / 24 / 7);
        else if (h < 24 * 365 * 2)
                snprintf(buf, n, "%" PRId64 " months", h / 24 / 30);
        else
                snprintf(buf, n, "%" PRId64 " years", h / 24 / 365);
}

static const char *ago(const char *when, char *buf, size_t n)
{
        int64_t t = cms_rfc3339_unix(when), now = (int64_t)time(NULL);
        human_duration(t < 0 || now < t ? 0 : now - t, buf, n);
        return buf;
}

/* Engine state words -> the contract's six (Podman's libpod words included, just in case). */
const char *cms_container_state_name(const char *s)
{
        static const struct {
                const char *from, *to;
        } map[] = {{"created", "created"}, {"configured", "created"}, {"initialized", "created"},
                   {"running", "running"}, {"paused", "paused"},      {"restarting", "restarting"},
                   {"exited", "exited"},   {"stopped", "exited"},     {"stopping", "running"},
                   {"removing", "exited"}, {"dead", "dead"}};
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (!strcasecmp(s, map[i].from))
                        return map[i].to;
        return *s ? "dead" : "created";
}

static json_object *health_state(json_object *state)
{
        json_object *h = get(state, "Health");
        if (!h)
                h = get(state, "Healthcheck");
        return h;
}

static const char *health_name(json_object *state)
{
        const char *s = str(health_state(state), "Status");
        if (!strcmp(s, "healthy") || !strcmp(s, "unhealthy") || !strcmp(s, "starting"))
                return s;
        return "none";
}

/* The status text of `docker ps` rebuilt from inspect's State. */
static json_object *status_text(json_object *state, const char *health)
{
        char buf[128], d[48];
        const char *st = cms_container_state_name(str(state, "Status"));
        int64_t code = num(state, "ExitCode");
        const char *hs = !strcmp(health, "healthy")     ? " (healthy)"
                         : !strcmp(health, "unhealthy") ? " (unhealthy)"
                         : !strcmp(health, "starting")  ? " (health: starting)"
                                                        : "";
        if (!strcmp(st, "running"))
                snprintf(buf, sizeof(buf), "Up %s%s", ago(str(state, "StartedAt"), d, sizeof(d)),
                         hs);
        else if (!strcmp(st, "paused"))
                snprintf(buf, sizeof(buf), "Up %s (Paused)",
                         ago(str(state, "StartedAt"), d, sizeof(d)));
        else if (!strcmp(st, "restarting"))
                snprintf(buf, sizeof(buf), "Restarting (%" PRId64 ") %s ago", code,
                         ago(str(state, "FinishedAt"), d, sizeof(d)));
        else if (!strcmp(st, "exited") && time_set(str(state, "FinishedAt")))
                snprintf(buf, sizeof(buf), "Exited (%" PRId64 ") %s ago", code,
                         ago(str(state, "FinishedAt"), d, sizeof(d)));
        else if (!strcmp(st, "exited"))
                snprintf(buf, sizeof(buf), "Exited (%" PRId64 ")", code);
        else if (!strcmp(st, "dead"))
                snprintf(buf, sizeof(buf), "Dead");
        else
                snprintf(buf, sizeof(buf), "Created");
        return json_object_new_string(buf);
}

/* host_ip and host_port are null for an exposed port without a binding. An empty or absent
 * host IP on a binding (Podman's way) means every address: "0.0.0.0" as Docker writes it. */
static json_object *port_item(int64_t cport, const char *proto, const char *ip, int64_t hport)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "container_port", json_object_new_int64(cport));
        json_object_object_add(p, "protocol", json_object_new_string(proto));
        json_object_object_add(
            p, "host_ip", hport > 0 ? json_object_new_string(ip && *ip ? ip : "0.0.0.0") : NULL);
        json_object_object_add(p, "host_port", hport > 0 ? json_object_new_int64(hport) : NULL);
        return p;
}

static int port_cmp(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        int64_t cx = num(x, "container_port"), cy = num(y, "container_port");
        if (cx != cy) /* compared, not subtracted: any int64 may come */
                return cx < cy ? -1 : 1;
        int c = strcmp(str(x, "protocol"), str(y, "protocol"));
        if (c)
                return c;
        c = strcmp(str(x, "host_ip"), str(y, "host_ip"));
        int64_t hx = num(x, "host_port"), hy = num(y, "host_port");
        return c ? c : (hx > hy) - (hx < hy);
}

/* NetworkSettings.Ports {"80/tcp": [{"HostIp","HostPort"}] | null} -> port items, sorted.
 * An exposed port without a binding has host_ip and host_port null. */
static json_object *ports_from_map(json_object *map)
{
        json_object *out = json_object_new_array();
        if (!json_object_is_type(map, json_type_object))
                return out;
        json_object_object_foreach(map, key, val)
        {
                char proto[16] = "tcp";
                int64_t cport = strtoll(key, NULL, 10);
                const char *slash = strchr(key, '/');
                if (slash)
                        snprintf(proto, sizeof(proto), "%s", slash + 1);
                size_t n =
                    json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 0;
                if (n == 0)
                        json_object_array_add(out, port_item(cport, proto, NULL, 0));
                for (size_t i = 0; i < n; i++) {
                        json_object *b = json_object_array_get_idx(val, i);
                        json_object_array_add(out,
                                              port_item(cport, proto, str(b, "HostIp"),
                                                        strtoll(str(b, "HostPort"), NULL, 10)));
                }
        }
        json_object_array_sort(out, port_cmp);
        return out;
}

/* List items carry [{"IP","PrivatePort","PublicPort","Type"}]. */
static json_object *ports_from_list(json_object *list)
{
        json_object *out = json_object_new_array();
        for (size_t i = 0;
             json_object_is_type(list, json_type_array) && i < json_object_array_length(list);
             i++) {
                json_object *p = json_object_array_get_idx(list, i);
                const char *type = str(p, "Type");
                json_object_array_add(out, port_item(num(p, "PrivatePort"), *type ? type : "tcp",
                                                     str(p, "IP"), num(p, "PublicPort")));
        }
        json_object_array_sort(out, port_cmp);
        return out;
}

static json_object *image_name(const char *image)
{
        /* Podman names local images "localhost/x"; users (and Docker) call them "x". */
        if (cms_str_has_prefix(image, "localhost/") && image[10])
                image += 10;
        return json_object_new_string(image);
}

static json_object *networks(json_object *nets)
{
        json_object *out = json_object_new_object();
        if (!json_object_is_type(nets, json_type_object))
                return out;
        json_object_object_foreach(nets, name, ep)
        {
                json_object *n = json_object_new_object();
                json_object_object_add(n, "ip_address",
                                       json_object_new_string(str(ep, "IPAddress")));
                json_object_object_add(n, "gateway", json_object_new_string(str(ep, "Gateway")));
                json_object_object_add(n, "aliases", strings(get(ep, "Aliases")));
                json_object_object_add(out, name, n);
        }
        return out;
}

/* Inspect's Mounts (MountPoint) -> {"type","source","target","read_only"}; a volume's source is
 * its name, as in the config, not its path under /var/lib. */
static json_object *mounts(json_object *list)
{
        json_object *out = json_object_new_array();
        for (size_t i = 0;
             json_object_is_type(list, json_type_array) && i < json_object_array_length(list);
             i++) {
                json_object *m = json_object_array_get_idx(list, i), *o = json_object_new_object();
                const char *type = str(m, "Type");
                const char *src =
                    !strcmp(type, "volume") && *str(m, "Name") ? str(m, "Name") : str(m, "Source");
                json_object_object_add(o, "type", json_object_new_string(type));
                json_object_object_add(o, "source", json_object_new_string(src));
                json_object_object_add(o, "target", json_object_new_string(str(m, "Destination")));
                json_object_object_add(o, "read_only",
                                       json_object_new_boolean(get(m, "RW") && !flag(m, "RW")));
                json_object_array_add(out, o);
        }
        return out;
}

static json_object *resources(json_object *hc)
{
        static const struct {
                const char *key, *engine;
        } nums[] = {{"memory", "Memory"},        {"memory_swap", "MemorySwap"},
                    {"cpu_shares", "CpuShares"}, {"cpu_quota", "CpuQuota"},
                    {"cpu_period", "CpuPeriod"}, {"nano_cpus", "NanoCpus"}};
        json_object *r = json_object_new_object();
        for (size_t i = 0; i < ELEMENTSOF(nums); i++)
                json_object_object_add(r, nums[i].key,
                                       json_object_new_int64(num(hc, nums[i].engine)));
        json_object_object_add(r, "cpuset_cpus", json_object_new_string(str(hc, "CpusetCpus")));
        json_object_object_add(r, "pids_limit", json_object_new_int64(num(hc, "PidsLimit")));
        return r;
}

static json_object *restart_policy(json_object *rp)
{
        const char *name = str(rp, "Name");
        int64_t max = num(rp, "MaximumRetryCount");
        if (!*name)
                name = "no";
        if (!strcmp(name, "on-failure") && max > 0) {
                char buf[48];
                snprintf(buf, sizeof(buf), "on-failure:%" PRId64, max);
                return json_object_new_string(buf);
        }
        return json_object_new_string(name);
}

/* Docker keeps "CAP_NET_ADMIN" as sent, Podman says "NET_ADMIN": the summary uses the latter. */
static json_object *capabilities(json_object *list)
{
        json_object *out = strings(list);
        for (size_t i = 0; i < json_object_array_length(out); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(out, i));
                if (!strncasecmp(s, "CAP_", 4))
                        json_object_array_put_idx(out, i, json_object_new_string(s + 4));
        }
        return out;
}

/* Config.Env ["K=V", ...] -> {K: V}. */
static json_object *environment(json_object *env)
{
        json_object *out = json_object_new_object();
        for (size_t i = 0;
             json_object_is_type(env, json_type_array) && i < json_object_array_length(env); i++) {
                json_object *e = json_object_array_get_idx(env, i);
                const char *kv =
                    json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
                const char *eq = strchr(kv, '=');
                if (!*kv || eq == kv)
                        continue;
                char *key = eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);
                if (!key)
                        continue;
                json_object_object_add(out, key, json_object_new_string(eq ? eq + 1 : ""));
                free(key);
        }
        return out;
}

/* The nine keys shared by the list item and the summary. */
/* Config.Healthcheck -> health_check as in a ContainerConfig, as the engine holds it: durations
 * as Go-style text, "0s" where the engine keeps 0 or leaves the field out (its default); null
 * for a container without one. */
static json_object *health_config(json_object *h)
{
        static const struct {
                const char *key, *engine;
        } durations[] = {
            {"interval", "Interval"}, {"timeout", "Timeout"}, {"start_period", "StartPeriod"}};
        if (!json_object_is_type(h, json_type_object))
                return NULL;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "test", strings(get(h, "Test")));
        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                char buf[48];
                int64_t ns = num(h, durations[i].engine);
                cms_format_duration(ns > 0 ? ns / 1000000 : 0, buf, sizeof(buf));
                json_object_object_add(o, durations[i].key, json_object_new_string(buf));
        }
        int64_t retries = num(h, "Retries");
        json_object_object_add(o, "retries", json_object_new_int64(retries > 0 ? retries : 0));
        return o;
}

static void common_keys(json_object *o, json_object *state, json_object *cfg, const char *id,
                        const char *name)
{
        const char *health = health_name(state);
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "name", json_object_new_string(name[0] == '/' ? name + 1 : name));
        json_object_object_add(o, "image", image_name(str(cfg, "Image")));
        json_object_object_add(
            o, "state", json_object_new_string(cms_container_state_name(str(state, "Status"))));
        json_object_object_add(o, "status", status_text(state, health));
}

json_object *cms_container_summary(json_object *inspect)
{
        json_object *state = get(inspect, "State"), *cfg = get(inspect, "Config");
        json_object *hc = get(inspect, "HostConfig"), *ns = get(inspect, "NetworkSettings");
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        common_keys(o, state, cfg, str(inspect, "Id"), str(inspect, "Name"));
        json_object_object_add(o, "created", time_or_null(str(inspect, "Created")));
        json_object_object_add(o, "ports", ports_from_map(get(ns, "Ports")));
        json_object_object_add(o, "labels", string_map(get(cfg, "Labels")));
        json_object_object_add(o, "health", json_object_new_string(health_name(state)));
        json_object_object_add(o, "health_check", health_config(get(cfg, "Healthcheck")));
        json_object_object_add(o, "image_id", json_object_new_string(str(inspect, "Image")));
        json_object_object_add(o, "started_at", time_or_null(str(state, "StartedAt")));
        json_object_object_add(o, "finished_at", time_or_null(str(state, "FinishedAt")));
        json_object_object_add(o, "exit_code", json_object_new_int64(num(state, "ExitCode")));
        json_object_object_add(o, "pid", json_object_new_int64(num(state, "Pid")));
        json_object_object_add(o, "restart_count",
                               json_object_new_int64(num(inspect, "RestartCount")));
        json_object_object_add(o, "restart_policy", restart_policy(get(hc, "RestartPolicy")));
        json_object_object_add(o, "command", strings(get(cfg, "Cmd")));
        json_object *ep = get(cfg, "Entrypoint");
        /* Podman reports "no entrypoint" as [], Docker as null: both are null here. */
        bool no_ep =
            !ep || (json_object_is_type(ep, json_type_array) && json_object_array_length(ep) == 0);
        json_object_object_add(o, "entrypoint", no_ep ? NULL : strings(ep));
        json_object_object_add(o, "environment", environment(get(cfg, "Env")));
        json_object_object_add(o, "user", json_object_new_string(str(cfg, "User")));
        json_object_object_add(o, "workdir", json_object_new_string(str(cfg, "WorkingDir")));
        json_object_object_add(o, "hostname", json_object_new_string(str(cfg, "Hostname")));
        json_object_object_add(o, "networks", networks(get(ns, "Networks")));
        json_object_object_add(o, "mounts", mounts(get(inspect, "Mounts")));
        json_object_object_add(o, "resources", resources(hc));
        json_object_object_add(o, "dns", strings(get(hc, "Dns")));
        json_object_object_add(o, "extra_hosts", strings(get(hc, "ExtraHosts")));
        json_object_object_add(o, "privileged", json_object_new_boolean(flag(hc, "Privileged")));
        json_object_object_add(o, "read_only", json_object_new_boolean(flag(hc, "ReadonlyRootfs")));
        json_object_object_add(o, "auto_remove", json_object_new_boolean(flag(hc, "AutoRemove")));
        json_object *caps = json_object_new_object();
        json_object_object_add(caps, "add", capabilities(get(hc, "CapAdd")));
        json_object_object_add(caps, "drop", capabilities(get(hc, "CapDrop")));
        json_object_object_add(o, "capabilities", caps);
        json_object_object_add(o, "raw", json_object_get(inspect));
        return o;
}

/* Docker appends the health to the list status ("Up 2 minutes (healthy)"). */
const char *cms_health_from_status(const char *status)
{
        if (strstr(status, "(healthy)"))
                return "healthy";
        if (strstr(status, "(unhealthy)"))
                return "unhealthy";
        if (strstr(status, "(health: starting)"))
                return "starting";
        return "none";
}

json_object *cms_container_list_item(json_object *item)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object *names = get(item, "Names");
        const char *name =
            json_object_is_type(names, json_type_array) && json_object_array_length(names) > 0
                ? json_object_get_string(json_object_array_get_idx(names, 0))
                : "";
        if (!name)
                name = "";
        const char *status = str(item, "Status");
        json_object_object_add(o, "id", json_object_new_string(str(item, "Id")));
        json_object_object_add(o, "name", json_object_new_string(name[0] == '/' ? name + 1 : name));
        json_object_object_add(o, "image", image_name(str(item, "Image")));
        json_object_object_add(
            o, "state", json_object_new_string(cms_container_state_name(str(item, "State"))));
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "created", unix_to_rfc3339(num(item, "Created")));
        json_object_object_add(o, "ports", ports_from_list(get(item, "Ports")));
        json_object_object_add(o, "labels", string_map(get(item, "Labels")));
        json_object_object_add(o, "health", json_object_new_string(cms_health_from_status(status)));
        return o;
}

json_object *cms_container_health(json_object *inspect)
{
        json_object *h = health_state(get(inspect, "State"));
        json_object *o = json_object_new_object(), *log = json_object_new_array();
        if (!o || !log) {
                json_object_put(o);
                json_object_put(log);
                return NULL;
        }
        json_object_object_add(o, "status",
                               json_object_new_string(health_name(get(inspect, "State"))));
        json_object_object_add(o, "failing_streak", json_object_new_int64(num(h, "FailingStreak")));
        json_object *in = get(h, "Log");
        for (size_t i = 0;
             json_object_is_type(in, json_type_array) && i < json_object_array_length(in); i++) {
                json_object *e = json_object_array_get_idx(in, i), *r = json_object_new_object();
                json_object_object_add(r, "start", time_or_null(str(e, "Start")));
                json_object_object_add(r, "end", time_or_null(str(e, "End")));
                json_object_object_add(r, "exit_code", json_object_new_int64(num(e, "ExitCode")));
                json_object_object_add(r, "output", json_object_new_string(str(e, "Output")));
                json_object_array_add(log, r);
        }
        json_object_object_add(o, "log", log);
        return o;
}

/* Podman's native list: Ports [{host_ip, container_port, host_port, range, protocol}]. */
static json_object *ports_from_libpod(json_object *list)
{
        json_object *arr = json_object_new_array();
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(list, i);
                int64_t range = num(p, "range"), hp = num(p, "host_port");
                /* ports past 65535 are not expanded: port + k could overflow int64 */
                if (range < 1 || range > 65535 || num(p, "container_port") > 65535 || hp > 65535)
                        range = 1;
                for (int64_t k = 0; k < range; k++) {
                        json_object_array_add(
                            arr, port_item(num(p, "container_port") + k,
                                           *str(p, "protocol") ? str(p, "protocol") : "tcp",
                                           str(p, "host_ip"), hp > 0 ? hp + k : 0));
                }
        }
        size_t m = json_object_array_length(arr);
        if (m > 1)
                json_object_array_sort(arr, port_cmp);
        return arr;
}

/* Docker's list status text from libpod's fields (unix times, health word in Status). */
void cms_libpod_status(char *buf, size_t n, const char *state, const char *health, int64_t started,
                       int64_t exited, int64_t exit_code)
{
        char d[48];
        int64_t now = (int64_t)time(NULL);
        const char *hs = !strcmp(health, "healthy")     ? " (healthy)"
                         : !strcmp(health, "unhealthy") ? " (unhealthy)"
                         : !strcmp(health, "starting")  ? " (health: starting)"
                                                        : "";
        human_duration(started > 0 && now > started ? now - started : 0, d, sizeof(d));
        if (!strcmp(state, "running"))
                snprintf(buf, n, "Up %s%s", d, hs);
        else if (!strcmp(state, "paused"))
                snprintf(buf, n, "Up %s (Paused)", d);
        else if (!strcmp(state, "exited") && exited > 0) {
                human_duration(now > exited ? now - exited : 0, d, sizeof(d));
                snprintf(buf, n, "Exited (%" PRId64 ") %s ago", exit_code, d);
        } else if (!strcmp(state, "exited"))
                snprintf(buf, n, "Exited (%" PRId64 ")", exit_code);
        else if (!strcmp(state, "dead"))
                snprintf(buf, n, "Dead");
        else
                snprintf(buf, n, "Created");
}

static json_object *libpod_status(json_object *item, const char *state, const char *health)
{
        char buf[128];
        cms_libpod_status(buf, sizeof(buf), state, health, num(item, "StartedAt"),
                          num(item, "ExitedAt"), num(item, "ExitCode"));
        return json_object_new_string(buf);
}

json_object *cms_container_list_item_libpod(json_object *item)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object *names = get(item, "Names");
        const char *name =
            json_object_is_type(names, json_type_array) && json_object_array_length(names)
                ? json_object_get_string(json_object_array_get_idx(names, 0))
                : NULL;
        const char *st = str(item, "Status");
        const char *health =
            !strcmp(st, "healthy") || !strcmp(st, "unhealthy") || !strcmp(st, "starting") ? st
                                                                                          : "none";
        const char *state = cms_container_state_name(str(item, "State"));
        json_object_object_add(o, "id", json_object_new_string(str(item, "Id")));
        json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
        json_object_object_add(o, "image", image_name(str(item, "Image")));
        json_object_object_add(o, "state", json_object_new_string(state));
        json_object_object_add(o, "status", libpod_status(item, state, health));
        json_object_object_add(o, "created",
                               unix_to_rfc3339(cms_rfc3339_unix(str(item, "Created"))));
        json_object_object_add(o, "ports", ports_from_libpod(get(item, "Ports")));
        json_object_object_add(o, "labels", string_map(get(item, "Labels")));
        json_object_object_add(o, "health", json_object_new_string(health));
        return o;
}
