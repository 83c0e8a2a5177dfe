/* A fixed-capacity ring of per-container stats samples, kept compact: the oldest sample is held
 * whole (the base) and every later one as a variable-length record of its differences from the
 * one before (zig-zag varints, only for the fields that changed, a bitmask says which). An idle
 * container costs a few bytes per sample, a busy one a few dozen, instead of the 200+ bytes of
 * the plain struct. A pure data structure: no locks, no I/O; the sampler serializes access. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of one sample. Counters are cumulative as the kernel reports them; the ring keeps
 * exact 64-bit values whatever they do (resets included). */
enum cms_field {
        CMS_F_CPU_USAGE_US,
        CMS_F_CPU_USER_US,
        CMS_F_CPU_SYSTEM_US,
        CMS_F_CPU_PERIODS,
        CMS_F_CPU_THROTTLED_PERIODS,
        CMS_F_CPU_THROTTLED_US,
        CMS_F_MEM_USAGE,
        CMS_F_MEM_WORKING_SET,
        CMS_F_MEM_RSS,
        CMS_F_MEM_CACHE,
        CMS_F_MEM_FAILCNT,
        CMS_F_MEM_OOM_KILLS,
        CMS_F_MEM_LIMIT, /* 0: unlimited */
        CMS_F_PIDS,
        CMS_F_PIDS_LIMIT, /* 0: unlimited */
        CMS_F_NET_RX_BYTES,
        CMS_F_NET_RX_PACKETS,
        CMS_F_NET_RX_ERRORS,
        CMS_F_NET_RX_DROPPED,
        CMS_F_NET_TX_BYTES,
        CMS_F_NET_TX_PACKETS,
        CMS_F_NET_TX_ERRORS,
        CMS_F_NET_TX_DROPPED,
        CMS_F_BLK_READ_BYTES,
        CMS_F_BLK_WRITE_BYTES,
        CMS_F_BLK_READS,
        CMS_F_BLK_WRITES,
        CMS_F_COUNT
};

struct cms_sample {
        int64_t t_ms; /* unix time, milliseconds */
        uint64_t v[CMS_F_COUNT];
};

/* The longest record one sample can take (every field changed by a full 64-bit amount). */
#define CMS_RING_MAX_RECORD (10 + 5 + 10 * CMS_F_COUNT)

struct cms_ring;

/* capacity: samples kept (>= 1); interval_ms: the expected spacing, which makes the time
 * delta of a record one byte when the sampler is on time. -ENOMEM, -EINVAL. */
int cms_ring_new(size_t capacity, int64_t interval_ms, struct cms_ring **out);
void cms_ring_free(struct cms_ring *r);

/* Appends s, dropping the oldest sample when full. Samples must come in time order; a sample
 * older than the newest is refused (-EINVAL). */
int cms_ring_push(struct cms_ring *r, const struct cms_sample *s);
size_t cms_ring_count(const struct cms_ring *r);
size_t cms_ring_capacity(const struct cms_ring *r);
/* The newest sample; false when empty. */
bool cms_ring_latest(const struct cms_ring *r, struct cms_sample *out);
/* Bytes of encoded records held, and bytes allocated for the ring in all. */
size_t cms_ring_data_bytes(const struct cms_ring *r);
size_t cms_ring_mem_bytes(const struct cms_ring *r);

/* A self-contained copy of a ring's contents, for readers: taken under the caller's lock with one
 * allocation and two memcpy, decoded afterwards without any lock. Also the on-disk form. */
struct cms_ring_snap {
        int64_t interval_ms;
        size_t count;           /* samples: the base plus count-1 records */
        struct cms_sample base; /* the oldest sample */
        uint8_t *data;          /* count-1 records */
        size_t len;
};
int cms_ring_snapshot(const struct cms_ring *r, struct cms_ring_snap *out);
void cms_ring_snap_free(struct cms_ring_snap *s);

/* Walks a snapshot oldest first. next: 1 with *out filled, 0 at the end, -EBADMSG when the data
 * is malformed (a snapshot read from a file is checked this way before it is trusted). */
struct cms_ring_iter {
        const struct cms_ring_snap *s;
        size_t i, off;
        struct cms_sample cur;
};
void cms_ring_iter_init(struct cms_ring_iter *it, const struct cms_ring_snap *s);
int cms_ring_iter_next(struct cms_ring_iter *it, struct cms_sample *out);

/* Checks that every record decodes and that they fill exactly s->len bytes. */
int cms_ring_snap_validate(const struct cms_ring_snap *s);
