/* ContainerConfig -> engine create body, the host-facing parts: network (ports, static IP,
 * aliases, DNS, extra hosts) and volumes (HostConfig.Mounts). Resources and the health check
 * are in model_limits.c. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
/* ---- network ---- */

/* "80", "80/tcp", "53/UDP" -> "80/tcp" in key (lowercase protocol). */
static int port_key(struct cms_cm *c, const char *spec, char *key, size_t n)
{
        char num[8] = "";
        const char *slash = strchr(spec, '/');
        const char *proto = slash ? slash + 1 : "tcp";
        size_t nl = slash ? (size_t)(slash - spec) : strlen(spec);
        int64_t port;
        if (nl == 0 || nl >= sizeof(num))
                return cms_cm_bad(c, "network.ports", "'%.32s' is not a port (1-65535)", spec);
        memcpy(num, spec, nl);
        num[nl] = 0;
        if (cms_parse_int(num, 1, 65535, &port) < 0)
                return cms_cm_bad(c, "network.ports", "'%.32s' is not a port (1-65535)", spec);
        if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
                return cms_cm_bad(c, "network.ports", "'%.32s': protocol must be tcp, udp or sctp",
                                  spec);
        snprintf(key, n, "%" PRId64 "/%s", port, proto);
        for (char *p = key; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return 0;
}

/* One host side: 8080 | "8080" | "ip:8080" | "[v6]:8080" | "ip:" | "" -> {HostIp, HostPort}. */
static int port_binding(struct cms_cm *c, const char *path, json_object *v, json_object *out)
{
        char ip[64] = "", port[16] = "", shown[80];
        if (json_object_is_type(v, json_type_int)) {
                int64_t n;
                int r = cms_cm_int(c, v, path, 1, 65535, &n);
                if (r < 0)
                        return r;
                snprintf(port, sizeof(port), "%" PRId64, n);
        } else if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v), *p = s;
                if (s[0] == '[') {
                        const char *close = strchr(s, ']');
                        if (!close || close[1] != ':' || (size_t)(close - s) >= sizeof(ip))
                                return cms_cm_bad(c, path, "not [ipv6]:port: '%.64s'", s);
                        memcpy(ip, s + 1, (size_t)(close - s - 1));
                        ip[close - s - 1] = 0;
                        p = close + 2;
                } else if (strchr(s, ':')) {
                        const char *colon = strrchr(s, ':');
                        if ((size_t)(colon - s) >= sizeof(ip) ||
                            memchr(s, ':', (size_t)(colon - s)))
                                return cms_cm_bad(
                                    c, path, "not ip:port: '%.64s' (write IPv6 as [addr]:port)", s);
                        memcpy(ip, s, (size_t)(colon - s));
                        ip[colon - s] = 0;
                        p = colon + 1;
                }
                int64_t n;
                if (*p && cms_parse_int(p, 1, 65535, &n) < 0)
                        return cms_cm_bad(c, path, "'%.64s' is not a host port (1-65535)", s);
                if (*ip && !cms_cm_ip_valid(ip, NULL))
                        return cms_cm_bad(c, path, "'%.64s' is not an IP address", ip);
                snprintf(port, sizeof(port), "%s", p);
        } else {
                return cms_cm_bad(c, path, "must be a host port or \"ip:port\", not %s",
                                  cms_cm_show(v, shown, sizeof(shown)));
        }
        json_object *b = json_object_new_object();
        json_object_object_add(b, "HostIp", json_object_new_string(ip));
        json_object_object_add(b, "HostPort", json_object_new_string(port));
        json_object_array_add(out, b);
        return 0;
}

/* ports: {"80": "8080", "53/udp": ["127.0.0.1:53", "[::1]:53"], "9000": null (expose only)}. */
static int net_ports(struct cms_cm *c, json_object *v)
{
        int r = cms_cm_object(c, v, "network.ports");
        if (r < 0)
                return r;
        json_object *exposed = json_object_new_object();
        json_object *bindings = json_object_new_object();
        json_object_object_add(c->body, "ExposedPorts", exposed);
        json_object_object_add(c->hc, "PortBindings", bindings);
        json_object_object_foreach(v, spec, val)
        {
                char key[32], path[96];
                if ((r = port_key(c, spec, key, sizeof(key))) < 0)
                        return r;
                snprintf(path, sizeof(path), "network.ports.%.32s", spec);
                if (!json_object_object_get_ex(exposed, key, NULL))
                        json_object_object_add(exposed, key, json_object_new_object());
                if (!val)
                        continue;
                json_object *list = json_object_object_get(bindings, key);
                if (!list) {
                        list = json_object_new_array();
                        json_object_object_add(bindings, key, list);
                }
                if (!json_object_is_type(val, json_type_array)) {
                        if ((r = port_binding(c, path, val, list)) < 0)
                                return r;
                        continue;
                }
                for (size_t i = 0; i < json_object_array_length(val); i++)
                        if ((r = port_binding(c, path, json_object_array_get_idx(val, i), list)) <
                            0)
                                return r;
        }
        c->has_ports = json_object_object_length(v) > 0;
        return 0;
}

static int net_ip_list(struct cms_cm *c, json_object *v, const char *path, const char *engine)
{
        json_object *list = NULL;
        int r = cms_cm_string_array(c, v, path, &list);
        if (r < 0)
                return r;
        json_object_object_add(c->hc, engine, list);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                const char *ip = json_object_get_string(json_object_array_get_idx(list, i));
                if (!cms_cm_ip_valid(ip, NULL))
                        return cms_cm_bad(c, path, "'%.64s' is not an IP address", ip);
        }
        return 0;
}

static int net_extra_hosts(struct cms_cm *c, json_object *v)
{
        int r = cms_cm_object(c, v, "network.extra_hosts");
        if (r < 0)
                return r;
        json_object *list = json_object_new_array();
        json_object_object_add(c->hc, "ExtraHosts", list);
        json_object_object_foreach(v, host, val)
        {
                char path[96], entry[160];
                const char *ip;
                snprintf(path, sizeof(path), "network.extra_hosts.%.64s", host);
                if (!*host || strlen(host) > 253 || strpbrk(host, ": \t\n"))
                        return cms_cm_bad(c, "network.extra_hosts", "invalid host name '%.64s'",
                                          host);
                if ((r = cms_cm_string(c, val, path, &ip)) < 0)
                        return r;
                /* "host-gateway" is Docker's name for the host's address on the bridge. */
                if (strcmp(ip, "host-gateway") && !cms_cm_ip_valid(ip, NULL))
                        return cms_cm_bad(c, path, "'%.64s' is not an IP address", ip);
                snprintf(entry, sizeof(entry), "%s:%s", host, ip);
                json_object_array_add(list, json_object_new_string(entry));
        }
        return 0;
}

static int net_field(struct cms_cm *c, const char *key, json_object *v)
{
        char path[64];
        const char *s;
        int r;
        snprintf(path, sizeof(path), "network.%s", key);
        if (!strcmp(key, "ports"))
                return net_ports(c, v);
        if (!strcmp(key, "dns"))
                return net_ip_list(c, v, path, "Dns");
        if (!strcmp(key, "extra_hosts"))
                return net_extra_hosts(c, v);
        if (!strcmp(key, "aliases")) {
                json_object_put(c->aliases);
                c->aliases = NULL;
                if ((r = cms_cm_string_array(c, v, path, &c->aliases)) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(c->aliases); i++) {
                        s = json_object_get_string(json_object_array_get_idx(c->aliases, i));
                        if (!*s || strlen(s) > 253 || strpbrk(s, " \t\n/:"))
                                return cms_cm_bad(c, path, "invalid alias '%.64s'", s);
                }
                return 0;
        }
        if ((r = cms_cm_string(c, v, path, &s)) < 0)
                return r;
        if (!strcmp(key, "network")) {
                bool special = !strcmp(s, "host") || !strcmp(s, "none") ||
                               (cms_str_has_prefix(s, "container:") && s[10]);
                if (!special && !cms_object_name_valid(s))
                        return cms_cm_bad(c, path, "invalid network name '%.64s'", s);
                c->network = s;
        } else if (!strcmp(key, "ip_address")) {
                if (!cms_cm_ip_valid(s, NULL))
                        return cms_cm_bad(c, path, "'%.64s' is not an IP address", s);
                c->ip_address = s;
        } else {
                if (!cms_cm_hostname_valid(s))
                        return cms_cm_bad(c, path, "not a valid hostname: '%.64s'", s);
                c->net_hostname = s;
        }
        return 0;
}

int cms_cm_network(struct cms_cm *c, json_object *v)
{
        static const char *const keys[] = {"network", "ports", "ip_address",  "hostname",
                                           "aliases", "dns",   "extra_hosts", NULL};
        int r = cms_cm_object_keys(c, v, "network", keys);
        if (r < 0)
                return r;
        json_object_object_foreach(v, key, val)
        {
                if (r < 0)
                        break;
                if (val)
                        r = net_field(c, key, val);
        }
        return r;
}

/* NetworkMode + EndpointsConfig, once ports/ip/aliases/network are all known. */
int cms_cm_network_finish(struct cms_cm *c)
{
        const char *net = c->network;
        bool shared = net && (!strcmp(net, "host") || !strcmp(net, "none") ||
                              cms_str_has_prefix(net, "container:"));
        if (shared && c->has_ports)
                return cms_cm_bad(c, "network.ports",
                                  "ports cannot be published with network mode '%.64s'", net);
        if ((c->ip_address || c->aliases) && (!net || shared))
                return cms_cm_bad(c, c->ip_address ? "network.ip_address" : "network.aliases",
                                  "needs network.network set to a user-defined network");
        if (!net)
                return 0;
        json_object_object_add(c->hc, "NetworkMode", json_object_new_string(net));
        if (shared)
                return 0;
        json_object *ep = json_object_new_object();
        if (c->ip_address) {
                int fam = AF_INET;
                cms_cm_ip_valid(c->ip_address, &fam);
                json_object *ipam = json_object_new_object();
                json_object_object_add(ipam, fam == AF_INET ? "IPv4Address" : "IPv6Address",
                                       json_object_new_string(c->ip_address));
                json_object_object_add(ep, "IPAMConfig", ipam);
        }
        if (c->aliases)
                json_object_object_add(ep, "Aliases", TAKE_PTR(c->aliases));
        json_object *eps = json_object_new_object();
        json_object_object_add(eps, net, ep);
        json_object *nc = json_object_new_object();
        json_object_object_add(nc, "EndpointsConfig", eps);
        json_object_object_add(c->body, "NetworkingConfig", nc);
        return 0;
}

/* ---- volumes ---- */

/* tmpfs: {"size": "64m", "mode": "1777"}; mode is octal digits, as a string or a number. */
static int volume_tmpfs(struct cms_cm *c, json_object *v, const char *path, json_object *mount)
{
        static const char *const keys[] = {"size", "mode", NULL};
        char sub[128], shown[80];
        json_object *val;
        int r = cms_cm_object_keys(c, v, path, keys);
        if (r < 0)
                return r;
        json_object *opts = json_object_new_object();
        json_object_object_add(mount, "TmpfsOptions", opts);
        if (json_object_object_get_ex(v, "size", &val) && val) {
                int64_t size;
                snprintf(sub, sizeof(sub), "%s.size", path);
                if (cms_json_size(val, &size) < 0 || size == 0)
                        return cms_cm_bad(c, sub, "not a size: %s",
                                          cms_cm_show(val, shown, sizeof(shown)));
                json_object_object_add(opts, "SizeBytes", json_object_new_int64(size));
        }
        if (json_object_object_get_ex(v, "mode", &val) && val) {
                const char *digits = json_object_get_string(val);
                char *end;
                snprintf(sub, sizeof(sub), "%s.mode", path);
                if (!json_object_is_type(val, json_type_string) &&
                    !json_object_is_type(val, json_type_int))
                        return cms_cm_bad(c, sub, "must be octal digits, e.g. \"1777\"");
                long mode = isdigit((unsigned char)*digits) ? strtol(digits, &end, 8) : -1;
                if (mode < 0 || *end || mode > 07777)
                        return cms_cm_bad(c, sub, "not an octal mode: %s",
                                          cms_cm_show(val, shown, sizeof(shown)));
                json_object_object_add(opts, "Mode", json_object_new_int((int)mode));
        }
        return 0;
}

static int volume_source(struct cms_cm *c, const char *type, json_object *src, const char *path,
                         json_object *mount)
{
        const char *s = NULL;
        int r = src ? cms_cm_string(c, src, path, &s) : 0;
        if (r < 0)
                return r;
        if (!strcmp(type, "tmpfs")) {
                if (s)
                        return cms_cm_bad(c, path, "a tmpfs mount has no source");
                return 0;
        }
        if (!strcmp(type, "bind")) {
                if (!s || s[0] != '/')
                        return cms_cm_bad(c, path, "a bind mount needs an absolute host path");
        } else if (s && !cms_object_name_valid(s)) {
                return cms_cm_bad(c, path, "invalid volume name '%.64s'%s", s,
                                  s[0] == '/' ? " (a host path needs type bind)" : "");
        }
        if (s) /* a volume without source is an anonymous volume */
                json_object_object_add(mount, "Source", json_object_new_string(s));
        return 0;
}

static int volume_entry(struct cms_cm *c, json_object *v, size_t idx, json_object *mounts)
{
        static const char *const keys[] = {"source", "target", "type", "read_only", "tmpfs", NULL};
        char path[64], sub[96];
        const char *type = NULL, *target;
        json_object *val;
        snprintf(path, sizeof(path), "volumes[%zu]", idx);
        int r = cms_cm_object_keys(c, v, path, keys);
        if (r < 0)
                return r;
        json_object *src = json_object_object_get(v, "source");
        snprintf(sub, sizeof(sub), "%s.type", path);
        if ((val = json_object_object_get(v, "type"))) {
                if ((r = cms_cm_string(c, val, sub, &type)) < 0)
                        return r;
                if (strcmp(type, "volume") && strcmp(type, "bind") && strcmp(type, "tmpfs"))
                        return cms_cm_bad(c, sub, "'%.32s' is not volume, bind or tmpfs", type);
        } else {
                /* Without a type, an absolute source is a bind mount, like docker -v. */
                const char *s = json_object_get_string(src);
                type = src && json_object_is_type(src, json_type_string) && s[0] == '/' ? "bind"
                                                                                        : "volume";
        }
        json_object *mount = json_object_new_object();
        json_object_array_add(mounts, mount);
        json_object_object_add(mount, "Type", json_object_new_string(type));
        snprintf(sub, sizeof(sub), "%s.source", path);
        if ((r = volume_source(c, type, src, sub, mount)) < 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.target", path);
        if (!(val = json_object_object_get(v, "target")))
                return cms_cm_bad(c, sub, "required");
        if ((r = cms_cm_string(c, val, sub, &target)) < 0)
                return r;
        if (target[0] != '/' || !strcmp(target, "/"))
                return cms_cm_bad(c, sub, "must be an absolute path other than /: '%.64s'", target);
        for (size_t i = 0; i + 1 < json_object_array_length(mounts); i++) {
                json_object *t =
                    json_object_object_get(json_object_array_get_idx(mounts, i), "Target");
                if (t && !strcmp(json_object_get_string(t), target))
                        return cms_cm_bad(c, sub, "duplicate mount point '%.64s'", target);
        }
        json_object_object_add(mount, "Target", json_object_new_string(target));
        if ((val = json_object_object_get(v, "read_only"))) {
                bool ro;
                snprintf(sub, sizeof(sub), "%s.read_only", path);
                if ((r = cms_cm_bool(c, val, sub, &ro)) < 0)
                        return r;
                json_object_object_add(mount, "ReadOnly", json_object_new_boolean(ro));
        }
        if ((val = json_object_object_get(v, "tmpfs"))) {
                snprintf(sub, sizeof(sub), "%s.tmpfs", path);
                if (strcmp(type, "tmpfs"))
                        return cms_cm_bad(c, sub, "only for type tmpfs");
                return volume_tmpfs(c, val, sub, mount);
        }
        return 0;
}

int cms_cm_volumes(struct cms_cm *c, json_object *v)
{
        if (!json_object_is_type(v, json_type_array))
                return cms_cm_bad(c, "volumes", "must be an array of objects");
        json_object *mounts = json_object_new_array();
        json_object_object_add(c->hc, "Mounts", mounts);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                int r = volume_entry(c, json_object_array_get_idx(v, i), i, mounts);
                if (r < 0)
                        return r;
        }
        return 0;
}
