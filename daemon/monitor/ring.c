/* The sample ring: a base sample plus delta records in a circular byte buffer (see ring.h).
 * The buffer starts at 256 bytes and doubles up to capacity x the longest record, so memory
 * follows what the samples really need (an idle container's hour fits in 8 KiB) and is still
 * bounded by the capacity. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BYTES 256

struct cms_ring {
        size_t capacity, count;
        int64_t interval_ms;
        struct cms_sample base, last;
        uint8_t *buf;
        size_t cap, max_cap, head, len; /* circular: len bytes from head */
};

static uint64_t zigzag(int64_t v)
{
        return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
        return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
        size_t n = 0;
        while (v >= 0x80) {
                p[n++] = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        p[n++] = (uint8_t)v;
        return n;
}

/* A byte source that may wrap around the end of a circular buffer. */
struct src {
        const uint8_t *p;
        size_t cap, start, len, off;
};

static int get_varint(struct src *s, uint64_t *out)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 70; shift += 7) {
                if (s->off >= s->len)
                        return -EBADMSG;
                size_t at = s->start + s->off++;
                uint8_t b = s->p[at >= s->cap ? at - s->cap : at];
                if (shift == 63 && b > 1)
                        return -EBADMSG;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *out = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

/* The time delta of a record, less the interval, computed modulo 2^64: any two int64 times, however
 * far apart (a restored snapshot may hold stamps from anywhere), encode exactly and without a
 * signed overflow; decode undoes it with the same wrap. */
static uint64_t time_delta(int64_t prev, int64_t t, int64_t interval_ms)
{
        return (uint64_t)t - (uint64_t)prev - (uint64_t)interval_ms;
}

static size_t encode(uint8_t *rec, const struct cms_sample *prev, const struct cms_sample *s,
                     int64_t interval_ms)
{
        uint32_t mask = 0;
        for (int i = 0; i < CMS_F_COUNT; i++)
                if (s->v[i] != prev->v[i])
                        mask |= 1u << i;
        size_t n = put_varint(rec, zigzag((int64_t)time_delta(prev->t_ms, s->t_ms, interval_ms)));
        n += put_varint(rec + n, mask);
        for (int i = 0; i < CMS_F_COUNT; i++)
                if (mask & (1u << i))
                        n += put_varint(rec + n, zigzag((int64_t)(s->v[i] - prev->v[i])));
        return n;
}

/* Applies the record at s to *cur (the sample before it), advancing s. */
static int decode(struct src *s, struct cms_sample *cur, int64_t interval_ms)
{
        uint64_t dt, mask, d;
        if (get_varint(s, &dt) < 0 || get_varint(s, &mask) < 0 || mask >> CMS_F_COUNT)
                return -EBADMSG;
        /* Wrapping back gives the exact time; a record that would go back in time (or past the
         * end of int64) is malformed, as push never stores one. */
        int64_t t = (int64_t)((uint64_t)cur->t_ms + (uint64_t)unzigzag(dt) + (uint64_t)interval_ms);
        if (t < cur->t_ms)
                return -EBADMSG;
        cur->t_ms = t;
        for (int i = 0; i < CMS_F_COUNT; i++) {
                if (!(mask & (1u << i)))
                        continue;
                if (get_varint(s, &d) < 0)
                        return -EBADMSG;
                cur->v[i] += (uint64_t)unzigzag(d);
        }
        return 0;
}

int cms_ring_new(size_t capacity, int64_t interval_ms, struct cms_ring **out)
{
        if (capacity < 1 || capacity > SIZE_MAX / CMS_RING_MAX_RECORD || interval_ms < 0)
                return -EINVAL;
        struct cms_ring *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->capacity = capacity;
        r->interval_ms = interval_ms;
        r->max_cap = capacity * CMS_RING_MAX_RECORD;
        *out = r;
        return 0;
}

void cms_ring_free(struct cms_ring *r)
{
        if (!r)
                return;
        free(r->buf);
        free(r);
}

static void drop_oldest(struct cms_ring *r)
{
        if (r->count <= 1) {
                r->count = 0;
                r->head = r->len = 0;
                return;
        }
        struct src s = {r->buf, r->cap, r->head, r->len, 0};
        /* Records were encoded here; a failure would mean corrupted memory: start afresh. */
        if (decode(&s, &r->base, r->interval_ms) < 0) {
                r->count = 0;
                r->head = r->len = 0;
                return;
        }
        r->head = (r->head + s.off) % r->cap;
        r->len -= s.off;
        r->count--;
}

/* Copies the circular contents into dst in order. */
static void linearize(const struct cms_ring *r, uint8_t *dst)
{
        if (!r->len)
                return;
        size_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
        memcpy(dst, r->buf + r->head, first);
        memcpy(dst + first, r->buf, r->len - first);
}

static int grow(struct cms_ring *r, size_t need)
{
        size_t ncap = r->cap ? r->cap * 2 : INITIAL_BYTES;
        if (ncap < need)
                ncap = need;
        if (ncap > r->max_cap)
                ncap = r->max_cap;
        uint8_t *nb = malloc(ncap);
        if (!nb)
                return -ENOMEM;
        linearize(r, nb);
        free(r->buf);
        r->buf = nb;
        r->cap = ncap;
        r->head = 0;
        return 0;
}

int cms_ring_push(struct cms_ring *r, const struct cms_sample *s)
{
        if (r->count && s->t_ms < r->last.t_ms)
                return -EINVAL;
        if (r->count == r->capacity)
                drop_oldest(r);
        if (r->count == 0) {
                r->base = r->last = *s;
                r->count = 1;
                return 0;
        }
        uint8_t rec[CMS_RING_MAX_RECORD];
        size_t n = encode(rec, &r->last, s, r->interval_ms);
        while (r->len + n > r->cap) {
                if (r->cap < r->max_cap) {
                        int e = grow(r, r->len + n);
                        if (e < 0)
                                return e;
                } else {
                        drop_oldest(r);
                }
                if (r->count == 0) { /* only after a reset: start again from this sample */
                        r->base = r->last = *s;
                        r->count = 1;
                        return 0;
                }
        }
        size_t at = (r->head + r->len) % r->cap;
        size_t first = r->cap - at < n ? r->cap - at : n;
        memcpy(r->buf + at, rec, first);
        memcpy(r->buf, rec + first, n - first);
        r->len += n;
        r->last = *s;
        r->count++;
        return 0;
}

size_t cms_ring_count(const struct cms_ring *r)
{
        return r->count;
}

size_t cms_ring_capacity(const struct cms_ring *r)
{
        return r->capacity;
}

bool cms_ring_latest(const struct cms_ring *r, struct cms_sample *out)
{
        if (!r->count)
                return false;
        *out = r->last;
        return true;
}

size_t cms_ring_data_bytes(const struct cms_ring *r)
{
        return r->len;
}

size_t cms_ring_mem_bytes(const struct cms_ring *r)
{
        return sizeof(*r) + r->cap;
}

int cms_ring_snapshot(const struct cms_ring *r, struct cms_ring_snap *out)
{
        memset(out, 0, sizeof(*out));
        out->interval_ms = r->interval_ms;
        out->count = r->count;
        out->base = r->base;
        if (r->len) {
                out->data = malloc(r->len);
                if (!out->data)
                        return -ENOMEM;
                linearize(r, out->data);
                out->len = r->len;
        }
        return 0;
}

void cms_ring_snap_free(struct cms_ring_snap *s)
{
        if (!s)
                return;
        free(s->data);
        s->data = NULL;
        s->len = s->count = 0;
}

void cms_ring_iter_init(struct cms_ring_iter *it, const struct cms_ring_snap *s)
{
        it->s = s;
        it->i = 0;
        it->off = 0;
        it->cur = s->base;
}

int cms_ring_iter_next(struct cms_ring_iter *it, struct cms_sample *out)
{
        if (it->i >= it->s->count)
                return 0;
        if (it->i > 0) {
                struct src s = {it->s->data, it->s->len, 0, it->s->len, it->off};
                if (decode(&s, &it->cur, it->s->interval_ms) < 0)
                        return -EBADMSG;
                it->off = s.off;
        }
        it->i++;
        *out = it->cur;
        return 1;
}

int cms_ring_snap_validate(const struct cms_ring_snap *s)
{
        if (s->count == 0)
                return s->len == 0 ? 0 : -EBADMSG;
        struct cms_ring_iter it;
        struct cms_sample x;
        int r;
        cms_ring_iter_init(&it, s);
        while ((r = cms_ring_iter_next(&it, &x)) > 0)
                ;
        if (r < 0)
                return r;
        return it.off == s->len ? 0 : -EBADMSG;
}
