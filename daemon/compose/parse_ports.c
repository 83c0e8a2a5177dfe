/* Ports (short "[[ip:]host:]container[/proto]" with ranges, and the long mapping), expose,
 * volumes (short "src:dst[:mode]" and the long mapping) and tmpfs of a service. Both syntaxes
 * of a key normalize to the same structures, so they hash alike. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>

/* "80" or "8000-8010" -> [lo, hi]; false when not ports in 1..65535, ascending. */
static bool port_range(const char *s, int *lo, int *hi)
{
        char a[8] = "", b[8] = "";
        const char *dash = strchr(s, '-');
        size_t al = dash ? (size_t)(dash - s) : strlen(s);
        int64_t x, y;
        if (al == 0 || al >= sizeof(a) || (dash && (!dash[1] || strlen(dash + 1) >= sizeof(b))))
                return false;
        memcpy(a, s, al);
        snprintf(b, sizeof(b), "%s", dash ? dash + 1 : a);
        if (cms_parse_int(a, 1, 65535, &x) < 0 || cms_parse_int(b, 1, 65535, &y) < 0 || y < x)
                return false;
        *lo = (int)x;
        *hi = (int)y;
        return true;
}

static bool ip_valid(const char *s)
{
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int add_port(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                    struct cms_compose_service *s, const struct cms_compose_port *p)
{
        if (s->n_ports >= CMS_COMPOSE_MAX_PORTS)
                return cms_cp_fail(c, n, path, "more than %d ports", CMS_COMPOSE_MAX_PORTS);
        int r = cms_cp_count_ports(c, n, path, 1);
        if (r < 0)
                return r;
        /* grown by doubling (capacity 4, 8, 16, ...: full exactly when n_ports is one of them),
         * not by one: a 4096-port range cost 370 ms of copies under ASan */
        size_t k = s->n_ports;
        if (k == 0 || (k >= 4 && (k & (k - 1)) == 0)) {
                struct cms_compose_port *np = realloc(s->ports, (k ? 2 * k : 4) * sizeof(*np));
                if (!np)
                        return cms_cp_oom(c);
                s->ports = np;
        }
        struct cms_compose_port *d = &s->ports[s->n_ports];
        memset(d, 0, sizeof(*d));
        d->target = p->target;
        d->published = p->published ? strdup(p->published) : NULL;
        d->host_ip = p->host_ip ? strdup(p->host_ip) : NULL;
        d->protocol = strdup(p->protocol ? p->protocol : "tcp");
        d->mode = strdup(p->mode ? p->mode : "ingress");
        d->name = p->name ? strdup(p->name) : NULL;
        d->app_protocol = p->app_protocol ? strdup(p->app_protocol) : NULL;
        s->n_ports++;
        if ((p->published && !d->published) || (p->host_ip && !d->host_ip) || !d->protocol ||
            !d->mode || (p->name && !d->name) || (p->app_protocol && !d->app_protocol))
                return cms_cp_oom(c);
        return 0;
}

static int protocol_ok(struct cms_cp *c, const struct cms_ynode *n, const char *path, char *proto)
{
        for (char *q = proto; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
                return cms_cp_fail(c, n, path, "protocol '%.16s' is not tcp, udp or sctp", proto);
        return 0;
}

/* The host side "[ip:]port", "ip:", "[v6]:port" -> ip (or "") and port text (or ""). */
static bool split_host(char *host, char **ip, char **port)
{
        *ip = "";
        *port = host;
        if (host[0] == '[') {
                char *close = strchr(host, ']');
                if (!close || (close[1] && close[1] != ':'))
                        return false;
                *close = 0;
                *ip = host + 1;
                *port = close[1] ? close + 2 : close + 1;
                return true;
        }
        char *colon = strrchr(host, ':');
        if (colon) {
                *colon = 0;
                *ip = host;
                *port = colon + 1;
        }
        return true;
}

static int port_short(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                      struct cms_compose_service *s)
{
        _cleanup_free_ char *spec = strdup(n->value);
        if (!spec)
                return cms_cp_oom(c);
        struct cms_compose_port p = {0};
        char *slash = strrchr(spec, '/'), *ip, *hport;
        if (slash) {
                *slash = 0;
                int r = protocol_ok(c, n, path, slash + 1);
                if (r < 0)
                        return r;
                p.protocol = slash + 1;
        }
        char *colon = strrchr(spec, ':'), *cport = colon ? colon + 1 : spec;
        if (colon)
                *colon = 0;
        int clo, chi, hlo = 0, hhi = 0;
        if (!port_range(cport, &clo, &chi) || (colon && !split_host(spec, &ip, &hport)))
                return cms_cp_fail(c, n, path, "invalid port '%.64s'", n->value);
        if (!colon)
                ip = hport = "";
        if (*hport && !port_range(hport, &hlo, &hhi))
                return cms_cp_fail(c, n, path, "invalid host port in '%.64s'", n->value);
        if (*ip && !ip_valid(ip))
                return cms_cp_fail(c, n, path, "invalid host IP in '%.64s'", n->value);
        if (*hport && chi > clo && hhi - hlo != chi - clo)
                return cms_cp_fail(c, n, path,
                                   "host and container port ranges differ in size "
                                   "in '%.64s'",
                                   n->value);
        p.host_ip = *ip ? ip : NULL;
        for (int t = clo; t <= chi; t++) {
                char pub[16];
                p.target = t;
                p.published = NULL;
                if (*hport && chi > clo)
                        snprintf(pub, sizeof(pub), "%d", hlo + (t - clo));
                else if (*hport)
                        snprintf(pub, sizeof(pub), "%s", hport);
                if (*hport)
                        p.published = pub;
                int r = add_port(c, n, path, s, &p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int port_long(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                     struct cms_compose_service *s)
{
        static const char *const keys[] = {"target", "published", "host_ip",      "protocol",
                                           "mode",   "name",      "app_protocol", NULL};
        struct cms_compose_port p = {0};
        char sub[320];
        int64_t target = 0;
        int lo, hi, r;
        cms_cp_check_keys(c, n, path, keys, NULL);
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        const struct cms_ynode *t = cms_ymap_get(n, "target");
        SUB("target");
        if (!t || t->null)
                return cms_cp_fail(c, n, sub, "required");
        if ((r = cms_cp_int(c, t, sub, 1, 65535, &target)) < 0)
                return r;
        p.target = (int)target;
        _cleanup_free_ char *pub = NULL, *ip = NULL, *proto = NULL, *mode = NULL, *name = NULL,
                            *app = NULL;
        const struct cms_ynode *x = cms_ymap_get(n, "published");
        if ((r = cms_cp_str(c, x, SUB("published"), &pub)) < 0)
                return r;
        if (pub && *pub && !port_range(pub, &lo, &hi))
                return cms_cp_fail(c, x, sub, "invalid port '%.64s'", pub);
        x = cms_ymap_get(n, "host_ip");
        if ((r = cms_cp_str(c, x, SUB("host_ip"), &ip)) < 0)
                return r;
        if (ip && *ip && !ip_valid(ip))
                return cms_cp_fail(c, x, sub, "'%.64s' is not an IP address", ip);
        x = cms_ymap_get(n, "protocol");
        if ((r = cms_cp_str(c, x, SUB("protocol"), &proto)) < 0 ||
            (proto && (r = protocol_ok(c, x, sub, proto)) < 0))
                return r;
        x = cms_ymap_get(n, "mode");
        if ((r = cms_cp_str(c, x, SUB("mode"), &mode)) < 0)
                return r;
        if (mode && strcmp(mode, "host") && strcmp(mode, "ingress"))
                return cms_cp_fail(c, x, sub, "'%.32s' is not host or ingress", mode);
        if ((r = cms_cp_str(c, cms_ymap_get(n, "name"), SUB("name"), &name)) < 0 ||
            (r = cms_cp_str(c, cms_ymap_get(n, "app_protocol"), SUB("app_protocol"), &app)) < 0)
                return r;
#undef SUB
        p.published = pub && *pub ? pub : NULL;
        p.host_ip = ip && *ip ? ip : NULL;
        p.protocol = proto;
        p.mode = mode;
        p.name = name;
        p.app_protocol = app;
        return add_port(c, n, path, s, &p);
}

int cms_cp_ports(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        return cms_cp_short_or_long(c, v, path, s, port_short, port_long);
}

int cms_cp_expose(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                  struct cms_compose_service *s)
{
        struct cms_compose_strv raw = {0};
        int r = cms_cp_strv(c, v, path, false, &raw);
        for (size_t i = 0; r == 0 && i < raw.n; i++) {
                char *slash = strchr(raw.v[i], '/'), proto[8] = "tcp";
                int lo, hi;
                if (slash) {
                        *slash = 0;
                        snprintf(proto, sizeof(proto), "%.7s", slash + 1);
                        if ((r = protocol_ok(c, v->kids[i], path, proto)) < 0)
                                break;
                }
                if (!port_range(raw.v[i], &lo, &hi) ||
                    s->expose.n + (size_t)(hi - lo) >= CMS_COMPOSE_MAX_PORTS) {
                        r = cms_cp_fail(c, v->kids[i], path, "invalid port '%.64s'",
                                        v->kids[i]->value);
                        break;
                }
                r = cms_cp_count_ports(c, v->kids[i], path, (size_t)(hi - lo) + 1);
                for (int p = lo; r == 0 && p <= hi; p++)
                        if (cms_compose_strv_take(&s->expose,
                                                  cms_strdup_printf("%d/%s", p, proto)) < 0)
                                r = cms_cp_oom(c);
        }
        cms_compose_strv_done(&raw);
        return r;
}
