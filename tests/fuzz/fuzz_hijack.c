/* Fuzzes the hijacked connection's reading of the engine's reply (exec start with stdin speaks
 * HTTP/1.1 itself): the reply head parser (status line, Content-Length, Transfer-Encoding) and
 * the incremental chunked decoder, fed in pieces whose size the first byte chooses. hijack.c
 * keeps these static, so this file includes it whole; the socket code stays unused. */
#include "fuzz.h"

#include "daemon/engine/hijack.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t piece = (size_t)(data[0] % 31) + 1;
        data++;
        size--;
        /* As read_head sees it: the bytes read so far in a cms_buf. */
        struct cms_buf in;
        cms_buf_init(&in, HEAD_MAX + READ_SIZE);
        if (cms_buf_append(&in, data, size) < 0) {
                cms_buf_free(&in);
                return 0;
        }
        struct head h;
        memset(&h, 0, sizeof(h));
        int rc = parse_head(in.data ? in.data : "", in.len, &h);
        FUZZ_CHECK(rc == 0 || rc == -EAGAIN || rc == -EBADMSG);
        if (rc == 0) {
                FUZZ_CHECK(h.len <= in.len && h.status >= 100 && h.status <= 599);
                FUZZ_CHECK(h.content_length >= -1);
                struct dechunk d = {0};
                struct cms_buf out;
                cms_buf_init(&out, 1 << 20);
                size_t pos = h.len;
                int r = 0;
                /* The decoder sees more of the input at each step, as reads add to it. */
                for (size_t end = h.len; r == 0 && end < in.len;) {
                        end = in.len - end < piece ? in.len : end + piece;
                        r = dechunk_step(&d, in.data, end, &pos, &out);
                        FUZZ_CHECK(pos <= end);
                }
                FUZZ_CHECK(r <= 1);
                FUZZ_CHECK(out.len <= in.len - h.len);
                cms_buf_free(&out);
        }
        cms_buf_free(&in);
        return 0;
}
