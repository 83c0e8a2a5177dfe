/* Request bodies -> engine documents and engine documents -> normalized summaries for networks,
 * volumes and images. Validation happens here, before any engine call, so a bad body never
 * leaves anything half-made. */
#include <ctype.h>
#include <sys/socket.h>

#include "model.h"

#define get cms_json_get

/* A resource name: [a-zA-Z0-9][a-zA-Z0-9_.-]*, up to max characters. */
static bool name_valid(const char *s, size_t min, size_t max)
{
        size_t n = strlen(s);
        if (n < min || n > max || !isalnum((unsigned char)s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

/* An object of string values -> a copy (NULL when absent). */
static int string_map(json_object *body, const char *key, json_object **out, struct cms_error *err)
{
        json_object *v = get(body, key);
        *out = NULL;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return cms_err(err, 400, "body.%s: expected an object of strings", key);
        if (json_object_object_length(v) > 256)
                return cms_err(err, 400, "body.%s: more than 256 entries", key);
        json_object *copy = json_object_new_object();
        json_object_object_foreach(v, k, val)
        {
                if (!*k || !json_object_is_type(val, json_type_string)) {
                        json_object_put(copy);
                        return cms_err(err, 400, "body.%s.%s: expected a string value", key,
                                       *k ? k : "\"\"");
                }
                json_object_object_add(copy, k, json_object_new_string(json_object_get_string(val)));
        }
        *out = copy;
        return 0;
}

static int get_str(json_object *body, const char *key, const char **out, struct cms_error *err)
{
        int r = cms_json_get_string(body, "body", key, out, err);
        if (r == 0 && *out && strlen(*out) > 1024)
                return cms_err(err, 400, "body.%s: longer than 1024 characters", key);
        return r;
}

static int parse_subnet(const char *key, const char *s, struct cms_cidr *c, struct cms_error *err)
{
        int r = cms_cidr_parse(s, c);
        if (r == -EDOM)
                return cms_err(err, 400, "body.%s: '%.64s' has host bits set (give the network "
                               "address, e.g. 10.1.0.0/24)", key, s);
        if (r < 0)
                return cms_err(err, 400, "body.%s: '%.64s' is not CIDR notation (e.g. 10.1.0.0/24)",
                               key, s);
        return 0;
}

/* subnet, gateway, ip_range -> the IPAM document (NULL when no subnet); checks they agree. */
static int network_ipam(json_object *body, json_object **ipam, bool *v6, struct cms_error *err)
{
        const char *subnet, *gw, *range;
        int r;
        *ipam = NULL;
        if ((r = get_str(body, "subnet", &subnet, err)) < 0 || (r = get_str(body, "gateway", &gw, err)) < 0 ||
            (r = get_str(body, "ip_range", &range, err)) < 0)
                return r;
        if (!subnet) {
                if (gw || range)
                        return cms_err(err, 400, "body.%s: needs body.subnet", gw ? "gateway" : "ip_range");
                return 0;
        }
        struct cms_cidr net, rc;
        if ((r = parse_subnet("subnet", subnet, &net, err)) < 0)
                return r;
        if (gw) {
                int fam;
                unsigned char a[16];
                if (cms_ip_parse(gw, &fam, a) < 0)
                        return cms_err(err, 400, "body.gateway: '%.64s' is not an IP address", gw);
                if (!cms_cidr_contains(&net, fam, a))
                        return cms_err(err, 400, "body.gateway: %.64s is outside the subnet %.64s", gw,
                                       subnet);
        }
        if (range) {
                if ((r = parse_subnet("ip_range", range, &rc, err)) < 0)
                        return r;
                if (!cms_cidr_within(&net, &rc))
                        return cms_err(err, 400, "body.ip_range: %.64s is not inside the subnet %.64s",
                                       range, subnet);
        }
        json_object *cfg = json_object_new_object();
        json_object_object_add(cfg, "Subnet", json_object_new_string(subnet));
        if (gw)
                json_object_object_add(cfg, "Gateway", json_object_new_string(gw));
        if (range)
                json_object_object_add(cfg, "IPRange", json_object_new_string(range));
        json_object *arr = json_object_new_array();
        json_object_array_add(arr, cfg);
        *ipam = json_object_new_object();
        json_object_object_add(*ipam, "Driver", json_object_new_string("default"));
        json_object_object_add(*ipam, "Config", arr);
        *v6 = net.family == AF_INET6;
        return 0;
}

int cms_network_create_body(json_object *body, json_object **out, struct cms_error *err)
{
        static const char *const keys[] = {"name", "driver", "subnet", "gateway", "ip_range",
                                           "internal", "labels", "options", NULL};
        const char *name, *driver;
        bool internal, v6 = false;
        int r;
        *out = NULL;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 || (r = get_str(body, "name", &name, err)) < 0 ||
            (r = get_str(body, "driver", &driver, err)) < 0 ||
            (r = cms_json_get_bool(body, "body", "internal", false, &internal, err)) < 0)
                return r;
        if (!name)
                return cms_err(err, 400, "body.name: required");
        if (!name_valid(name, 1, 128))
                return cms_err(err, 400, "body.name: invalid network name '%.64s' (allowed: "
                               "[a-zA-Z0-9][a-zA-Z0-9_.-]*, up to 128)", name);
        if (driver && (!*driver || strlen(driver) > 64 || strspn(driver, "abcdefghijklmnopqrstuvwxyz0123456789_.-/:") != strlen(driver)))
                return cms_err(err, 400, "body.driver: invalid driver name '%.64s'", driver);
        _cleanup_json_ json_object *labels = NULL, *opts = NULL, *ipam = NULL;
        if ((r = string_map(body, "labels", &labels, err)) < 0 || (r = string_map(body, "options", &opts, err)) < 0 ||
            (r = network_ipam(body, &ipam, &v6, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "Name", json_object_new_string(name));
        json_object_object_add(o, "CheckDuplicate", json_object_new_boolean(1));
        json_object_object_add(o, "Driver", json_object_new_string(driver ? driver : "bridge"));
        json_object_object_add(o, "Internal", json_object_new_boolean(internal));
        json_object_object_add(o, "EnableIPv6", json_object_new_boolean(v6));
        json_object_object_add(o, "Labels", labels ? TAKE_PTR(labels) : json_object_new_object());
        json_object_object_add(o, "Options", opts ? TAKE_PTR(opts) : json_object_new_object());
        if (ipam)
                json_object_object_add(o, "IPAM", TAKE_PTR(ipam));
        *out = o;
        return 0;
}

/* Checks ip against the network's subnets; 400 when it has none or none holds the address. */
static int ip_in_network(const char *ip, int fam, const unsigned char *a, json_object *net_raw,
                         struct cms_error *err)
{
        const char *name = json_object_get_string(get(net_raw, "Name"));
        json_object *cfgs = get(get(net_raw, "IPAM"), "Config");
        size_t n = json_object_is_type(cfgs, json_type_array) ? json_object_array_length(cfgs) : 0;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_object_get_string(get(json_object_array_get_idx(cfgs, i), "Subnet"));
                struct cms_cidr c;
                if (!s || cms_cidr_parse(s, &c) < 0)
                        continue;
                any = true;
                if (cms_cidr_contains(&c, fam, a))
                        return 0;
        }
        if (!any)
                return cms_err(err, 400, "body.ip_address: network %.64s has no subnet; a static IP "
                               "needs a network created with a subnet", name ? name : "");
        return cms_err(err, 400, "body.ip_address: %.64s is outside the subnets of network %.64s",
                       ip, name ? name : "");
}

int cms_network_connect_body(json_object *body, json_object *net_raw, json_object **out,
                             struct cms_error *err)
{
        static const char *const keys[] = {"container", "ip_address", "aliases", NULL};
        const char *ctr, *ip;
        int r;
        *out = NULL;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = get_str(body, "container", &ctr, err)) < 0 || (r = get_str(body, "ip_address", &ip, err)) < 0)
                return r;
        if (!ctr || !cms_object_name_valid(ctr))
                return cms_err(err, 400, "body.container: %s", ctr ? "not a valid container id or name" : "required");
        _cleanup_json_ json_object *ep = json_object_new_object();
        if (ip) {
                int fam;
                unsigned char a[16];
                if (cms_ip_parse(ip, &fam, a) < 0)
                        return cms_err(err, 400, "body.ip_address: '%.64s' is not an IP address", ip);
                if ((r = ip_in_network(ip, fam, a, net_raw, err)) < 0)
                        return r;
                json_object *ipam = json_object_new_object();
                json_object_object_add(ipam, fam == AF_INET ? "IPv4Address" : "IPv6Address",
                                       json_object_new_string(ip));
                json_object_object_add(ep, "IPAMConfig", ipam);
        }
        json_object *al = get(body, "aliases");
        if (al) {
                size_t n = json_object_is_type(al, json_type_array) ? json_object_array_length(al) : 0;
                if (!json_object_is_type(al, json_type_array) || n > 32)
                        return cms_err(err, 400, "body.aliases: expected an array of up to 32 names");
                json_object *copy = json_object_new_array();
                json_object_object_add(ep, "Aliases", copy);
                for (size_t i = 0; i < n; i++) {
                        json_object *it = json_object_array_get_idx(al, i);
                        const char *s = json_object_get_string(it);
                        if (!json_object_is_type(it, json_type_string) || !name_valid(s, 1, 253))
                                return cms_err(err, 400, "body.aliases[%zu]: expected a host name", i);
                        json_object_array_add(copy, json_object_new_string(s));
                }
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "Container", json_object_new_string(ctr));
        json_object_object_add(o, "EndpointConfig", TAKE_PTR(ep));
        *out = o;
        return 0;
}

static json_object *str_or_empty(json_object *v)
{
        const char *s = json_object_get_string(v);
        return json_object_new_string(json_object_is_type(v, json_type_string) && s ? s : "");
}

static json_object *map_copy(json_object *v)
{
        return json_object_is_type(v, json_type_object) ? json_object_get(v) : json_object_new_object();
}

/* "10.1.0.5/24" -> "10.1.0.5" */
static json_object *addr_only(json_object *v)
{
        const char *s = json_object_get_string(v);
        if (!json_object_is_type(v, json_type_string) || !s)
                return json_object_new_string("");
        const char *slash = strchr(s, '/');
        return json_object_new_string_len(s, slash ? (int)(slash - s) : (int)strlen(s));
}

static json_object *network_containers(json_object *raw)
{
        json_object *arr = json_object_new_array();
        json_object *cs = get(raw, "Containers");
        if (!json_object_is_type(cs, json_type_object))
                return arr;
        json_object_object_foreach(cs, id, c)
        {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "name", str_or_empty(get(c, "Name")));
                json_object_object_add(o, "ipv4_address", addr_only(get(c, "IPv4Address")));
                json_object_object_add(o, "ipv6_address", addr_only(get(c, "IPv6Address")));
                json_object_object_add(o, "mac_address", str_or_empty(get(c, "MacAddress")));
                json_object_array_add(arr, o);
        }
        return arr;
}

json_object *cms_network_summary(json_object *raw, bool with_containers)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", str_or_empty(get(raw, "Id")));
        json_object_object_add(o, "name", str_or_empty(get(raw, "Name")));
        json_object_object_add(o, "driver", str_or_empty(get(raw, "Driver")));
        json_object_object_add(o, "scope", str_or_empty(get(raw, "Scope")));
        json_object_object_add(o, "internal", json_object_new_boolean(json_object_get_boolean(get(raw, "Internal"))));
        json_object_object_add(o, "ipv6", json_object_new_boolean(json_object_get_boolean(get(raw, "EnableIPv6"))));
        json_object *subnets = json_object_new_array();
        json_object *cfgs = get(get(raw, "IPAM"), "Config");
        size_t n = json_object_is_type(cfgs, json_type_array) ? json_object_array_length(cfgs) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(cfgs, i), *s = json_object_new_object();
                json_object_object_add(s, "subnet", str_or_empty(get(c, "Subnet")));
                json_object_object_add(s, "gateway", str_or_empty(get(c, "Gateway")));
                json_object_object_add(s, "ip_range", str_or_empty(get(c, "IPRange")));
                json_object_array_add(subnets, s);
        }
        json_object_object_add(o, "subnets", subnets);
        json_object_object_add(o, "labels", map_copy(get(raw, "Labels")));
        json_object_object_add(o, "options", map_copy(get(raw, "Options")));
        json_object_object_add(o, "created", str_or_empty(get(raw, "Created")));
        if (with_containers)
                json_object_object_add(o, "containers", network_containers(raw));
        return o;
}

int cms_volume_create_body(json_object *body, json_object **out, struct cms_error *err)
{
        static const char *const keys[] = {"name", "driver", "options", "labels", NULL};
        const char *name, *driver;
        int r;
        *out = NULL;
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 || (r = get_str(body, "name", &name, err)) < 0 ||
            (r = get_str(body, "driver", &driver, err)) < 0)
                return r;
        if (name && !name_valid(name, 2, 255))
                return cms_err(err, 400, "body.name: invalid volume name '%.64s' (allowed: "
                               "[a-zA-Z0-9][a-zA-Z0-9_.-]+)", name);
        if (driver && (!*driver || strlen(driver) > 64 || strchr(driver, '/')))
                return cms_err(err, 400, "body.driver: invalid driver name '%.64s'", driver);
        _cleanup_json_ json_object *labels = NULL, *opts = NULL;
        if ((r = string_map(body, "labels", &labels, err)) < 0 || (r = string_map(body, "options", &opts, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        if (name)
                json_object_object_add(o, "Name", json_object_new_string(name));
        json_object_object_add(o, "Driver", json_object_new_string(driver ? driver : "local"));
        json_object_object_add(o, "DriverOpts", opts ? TAKE_PTR(opts) : json_object_new_object());
        json_object_object_add(o, "Labels", labels ? TAKE_PTR(labels) : json_object_new_object());
        *out = o;
        return 0;
}

json_object *cms_volume_summary(json_object *raw)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", str_or_empty(get(raw, "Name")));
        json_object_object_add(o, "driver", str_or_empty(get(raw, "Driver")));
        json_object_object_add(o, "mountpoint", str_or_empty(get(raw, "Mountpoint")));
        json_object_object_add(o, "labels", map_copy(get(raw, "Labels")));
        json_object_object_add(o, "options", map_copy(get(raw, "Options")));
        json_object_object_add(o, "scope", str_or_empty(get(raw, "Scope")));
        json_object_object_add(o, "created", str_or_empty(get(raw, "CreatedAt")));
        return o;
}

/* Strings of an array, without Docker's "<none>:<none>" / "<none>@<none>" placeholders. */
static json_object *real_names(json_object *v)
{
        json_object *arr = json_object_new_array();
        size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(v, i));
                if (s && *s && !cms_str_has_prefix(s, "<none>"))
                        json_object_array_add(arr, json_object_new_string(s));
        }
        return arr;
}

static json_object *time_of(json_object *v)
{
        if (json_object_is_type(v, json_type_int)) {
                char buf[40];
                cms_rfc3339(json_object_get_int64(v), buf, sizeof(buf));
                return json_object_new_string(buf);
        }
        return str_or_empty(v);
}

static json_object *image_base(json_object *raw)
{
        json_object *o = json_object_new_object();
        json_object *tags = real_names(get(raw, "RepoTags"));
        bool dangling = json_object_array_length(tags) == 0;
        json_object_object_add(o, "id", str_or_empty(get(raw, "Id")));
        json_object_object_add(o, "tags", tags);
        json_object_object_add(o, "digests", real_names(get(raw, "RepoDigests")));
        json_object_object_add(o, "size", json_object_new_int64(json_object_get_int64(get(raw, "Size"))));
        json_object_object_add(o, "created", time_of(get(raw, "Created")));
        json_object_object_add(o, "dangling", json_object_new_boolean(dangling));
        return o;
}

json_object *cms_image_list_item(json_object *raw)
{
        json_object *o = image_base(raw);
        json_object_object_add(o, "labels", map_copy(get(raw, "Labels")));
        return o;
}

json_object *cms_image_inspect_summary(json_object *raw)
{
        json_object *o = image_base(raw);
        json_object *cfg = get(raw, "Config");
        json_object_object_add(o, "labels", map_copy(get(cfg, "Labels")));
        json_object_object_add(o, "architecture", str_or_empty(get(raw, "Architecture")));
        json_object_object_add(o, "os", str_or_empty(get(raw, "Os")));
        json_object_object_add(o, "author", str_or_empty(get(raw, "Author")));
        json_object *c = json_object_new_object();
        json_object *cmd = get(cfg, "Cmd"), *ep = get(cfg, "Entrypoint"), *env = get(cfg, "Env");
        json_object_object_add(c, "command", cmd ? json_object_get(cmd) : NULL);
        json_object_object_add(c, "entrypoint", ep ? json_object_get(ep) : NULL);
        json_object_object_add(c, "env", env ? json_object_get(env) : json_object_new_array());
        json_object_object_add(c, "workdir", str_or_empty(get(cfg, "WorkingDir")));
        json_object_object_add(c, "user", str_or_empty(get(cfg, "User")));
        json_object *ports = json_object_new_array(), *ep_ = get(cfg, "ExposedPorts");
        if (json_object_is_type(ep_, json_type_object)) {
                json_object_object_foreach(ep_, k, v)
                {
                        (void)v;
                        json_object_array_add(ports, json_object_new_string(k));
                }
        }
        json_object_object_add(c, "exposed_ports", ports);
        json_object_object_add(o, "config", c);
        return o;
}

json_object *cms_image_history_item(json_object *raw)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", str_or_empty(get(raw, "Id")));
        json_object_object_add(o, "created", time_of(get(raw, "Created")));
        json_object_object_add(o, "created_by", str_or_empty(get(raw, "CreatedBy")));
        json_object_object_add(o, "size", json_object_new_int64(json_object_get_int64(get(raw, "Size"))));
        json_object_object_add(o, "tags", real_names(get(raw, "Tags")));
        json_object_object_add(o, "comment", str_or_empty(get(raw, "Comment")));
        return o;
}
