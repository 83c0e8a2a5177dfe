/* Pure translations and checks for images, networks and volumes: the registry-auth header, CIDR
 * arithmetic, request bodies -> engine documents and engine documents -> cmsd's normalized
 * summaries. No I/O, so the unit tests exercise all of it directly. */
#pragma once

#include "reference.h"

/* ---- registry auth ---- */
/* {"username","password","serveraddress","identitytoken"?} -> "X-Registry-Auth: <b64 json>".
 * auth NULL gives the header for an empty config (Docker requires the header on push). */
int cms_registry_auth_header(json_object *auth, const char *what, char **out,
                             struct cms_error *err);

/* ---- addresses ---- */
struct cms_cidr {
        int family; /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        int prefix;
};
/* "10.1.0.0/24", "fd00::/64". host bits must be zero. -EINVAL (or -EDOM: host bits set). */
int cms_cidr_parse(const char *s, struct cms_cidr *out);
int cms_ip_parse(const char *s, int *family, unsigned char addr[16]);
bool cms_cidr_contains(const struct cms_cidr *net, int family, const unsigned char *addr);
/* inner lies wholly inside outer. */
bool cms_cidr_within(const struct cms_cidr *outer, const struct cms_cidr *inner);

/* ---- networks ---- */
/* Validates a create body {"name","driver","subnet","gateway","ip_range","internal","labels",
 * "options"} and builds the engine's /networks/create document. */
int cms_network_create_body(json_object *body, json_object **out, struct cms_error *err);
/* Validates a connect body {"container","ip_address","aliases"} against the network's engine
 * document (the static IP must lie in one of its subnets) -> the engine's connect document. */
int cms_network_connect_body(json_object *body, json_object *net_raw, json_object **out,
                             struct cms_error *err);
/* Engine network document -> {"id","name","driver","scope","internal","subnets":[{subnet,
 * gateway,ip_range}],"labels","options","created"}; with_containers adds
 * "containers":[{"id","name","ipv4_address","ipv6_address","mac_address"}]. */
json_object *cms_network_summary(json_object *raw, bool with_containers);

/* ---- volumes ---- */
/* {"name","driver","options","labels"} -> the engine's /volumes/create document. */
int cms_volume_create_body(json_object *body, json_object **out, struct cms_error *err);
/* -> {"name","driver","mountpoint","labels","options","scope","created"} */
json_object *cms_volume_summary(json_object *raw);

/* ---- images ---- */
/* An item of the engine's /images/json -> {"id","tags","digests","size","created","labels",
 * "dangling"}. */
json_object *cms_image_list_item(json_object *raw);
/* The engine's inspect document -> summary + "architecture","os","author","config"{...}. */
json_object *cms_image_inspect_summary(json_object *raw);
/* One /images/{x}/history entry -> {"id","created","created_by","size","tags","comment"}. */
json_object *cms_image_history_item(json_object *raw);

/* "K=V" strings into obj (K non-empty); what names the list in the 400. */
int cms_kv_into(const char *const *kvs, const char *what, json_object *obj, struct cms_error *err);
/* True when the engine's Labels object carries every filter ("k" or "k=v"). */
bool cms_labels_match(json_object *labels, const char *const *filters);
/* Unix seconds -> RFC 3339 UTC ("2024-05-01T10:00:00Z"). */
void cms_rfc3339(int64_t t, char *buf, size_t n);
/* A label/filter list ("k" or "k=v") -> the engine's filters JSON {"label":[...]} plus extra
 * (may be NULL), URL-escaped, or NULL on OOM; 400 for an empty or "=v" item. */
int cms_label_filters(const char *const *labels, json_object *extra, char **out,
                      struct cms_error *err);
