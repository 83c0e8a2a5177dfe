/* The engine's multiplexed stdout/stderr format (attach, logs, exec without a TTY): an 8-byte
 * header {stream, 0, 0, 0, size32be} before each payload. Incremental, because frames arrive split
 * at arbitrary byte boundaries across transport chunks. */
#include "engine.h"

void cms_demux_init(struct cms_demux *d, bool raw)
{
        memset(d, 0, sizeof(*d));
        d->raw = raw;
}

int cms_demux_feed(struct cms_demux *d, const char *data, size_t len, cms_demux_cb cb, void *ud)
{
        if (d->raw)
                return len ? cb(CMS_STREAM_STDOUT, data, len, ud) : 0;
        while (len) {
                if (d->remaining) {
                        size_t n = len < d->remaining ? len : d->remaining;
                        d->remaining -= n;
                        int r = cb(d->stream, data, n, ud);
                        data += n;
                        len -= n;
                        if (r)
                                return r;
                        continue;
                }
                size_t n = sizeof(d->hdr) - d->hdr_len;
                if (n > len)
                        n = len;
                memcpy(d->hdr + d->hdr_len, data, n);
                d->hdr_len += n;
                data += n;
                len -= n;
                if (d->hdr_len < sizeof(d->hdr))
                        break;
                if (d->hdr[0] > CMS_STREAM_STDERR)
                        return -EBADMSG;
                d->stream = d->hdr[0];
                d->remaining = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 |
                               (size_t)d->hdr[6] << 8 | (size_t)d->hdr[7];
                d->hdr_len = 0;
        }
        return 0;
}

int cms_demux_finish(const struct cms_demux *d)
{
        if (d->raw)
                return 0;
        return d->hdr_len || d->remaining ? -EBADMSG : 0;
}
