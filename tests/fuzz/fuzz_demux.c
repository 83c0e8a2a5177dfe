/* Fuzzes the engine stream demultiplexer (logs, attach, exec output): the input is what the
 * engine sends, fed in pieces whose sizes the first byte chooses (frames split across feeds, as
 * the network splits them), in multiplexed and in raw (TTY) mode. Every payload byte handed on
 * must be a byte of the input, at most as many as were fed, on a known stream. */
#include "fuzz.h"

#include "daemon/engine/engine.h"

struct seen {
        size_t bytes;
};

static int on_frame(int stream, const char *data, size_t len, void *ud)
{
        struct seen *s = ud;
        FUZZ_CHECK(stream == CMS_STREAM_STDIN || stream == CMS_STREAM_STDOUT ||
                   stream == CMS_STREAM_STDERR);
        FUZZ_CHECK(len == 0 || data);
        s->bytes += len;
        return 0;
}

static void run(const uint8_t *data, size_t size, bool raw, size_t piece)
{
        struct cms_demux d;
        struct seen s = {0};
        cms_demux_init(&d, raw);
        int rc = 0;
        for (size_t off = 0; off < size && rc == 0;) {
                size_t n = size - off < piece ? size - off : piece;
                /* An exact-size copy per feed: a read past the piece is an ASan report. */
                char *p = malloc(n);
                memcpy(p, data + off, n);
                rc = cms_demux_feed(&d, p, n, on_frame, &s);
                free(p);
                off += n;
        }
        FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
        FUZZ_CHECK(s.bytes <= size);
        if (raw)
                FUZZ_CHECK(rc == 0 && s.bytes == size);
        cms_demux_finish(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t piece = (size_t)(data[0] % 17) + 1;
        run(data + 1, size - 1, false, piece);
        run(data + 1, size - 1, false, size);
        run(data + 1, size - 1, true, piece);
        return 0;
}
