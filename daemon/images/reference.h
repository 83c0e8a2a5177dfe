/* The grammars of the names cmsd hands to an engine: image references (one grammar for
 * containers, images, compose, the scanner and the policy) and the names of containers, networks
 * and volumes. Pure: no I/O, no engine, only util.h below it. */
#pragma once

#include "../util.h"

/* "127.0.0.1:5000/team/app:1.2", "[::1]:5000/app", "busybox", "app@sha256:<64 hex>". */
struct cms_image_ref {
        char domain[256]; /* "" when the reference names none */
        char path[256];   /* "team/app" */
        char tag[129];    /* "" when none */
        char digest[168]; /* "" when none; "<algorithm up to 32>:<hex up to 128>" */
};
/* Parses and validates a reference by the distribution grammar, as Docker reads it, except that
 * upper case is refused everywhere but in the tag (Podman refuses it in registry hosts too):
 * - the first of several '/'-separated components is a registry when it has a '.' or a ':', is
 *   "localhost" or is an [IPv6] literal; a registry is host[:port] (port 1..65535), the host
 *   dot-separated labels of [a-z0-9-] or a bracketed IPv6 address;
 * - the path's components are lower-case: [a-z0-9]+ joined by '.', '_', '__' or runs of '-';
 * - a tag (after the last ':' behind the last '/') is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
 * - a digest (after '@') is algorithm:hex, the algorithm up to 32 of [a-z0-9+._-], the hex 32
 *   to 128 lower-case digits.
 * The whole is at most 1024 characters, the name (registry and path) at most 255.
 * 400 naming the part that is wrong. out may be NULL. */
int cms_image_ref_parse(const char *s, struct cms_image_ref *out, struct cms_error *err);
/* "domain/path" (or "path"): the repository, without tag or digest. */
void cms_image_ref_repo(const struct cms_image_ref *r, char *buf, size_t n);
/* An image id as the engines accept it: "sha256:<64 hex>" or 12..64 lower-case hex. */
bool cms_image_id_like(const char *s);
/* What a container's "image" or an image route's path may name: an id or a reference; 400
 * otherwise. */
int cms_image_path_ref_check(const char *s, struct cms_error *err);

/* A container, network or volume name as the engines allow it: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at
 * most 255 characters. Also accepts an id or id prefix, which has the same shape. */
bool cms_object_name_valid(const char *name);
