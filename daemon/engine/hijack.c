/* Hijacked calls (exec/attach with stdin) over a raw socket. libcurl cannot half-close a
 * connection, and the process only sees EOF on its stdin when our write side is shut down, so this
 * one call speaks HTTP/1.1 itself: request with "Upgrade: tcp", the reply head, then a poll loop
 * that writes stdin and reads the raw stream at once (so neither side can block the other). */
#include "internal.h"

#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEAD_MAX  (64 * 1024)
#define READ_SIZE (16 * 1024)

struct head {
        long status;
        long long content_length; /* -1 when absent */
        bool chunked;
        size_t len; /* bytes of the head, including the blank line */
};

/* Milliseconds left before deadline (-1 = none) in poll()'s terms; 0 once passed. */
static int remaining_ms(int64_t deadline)
{
        if (deadline < 0)
                return -1;
        int64_t left = deadline - cms_now_ms();
        if (left <= 0)
                return 0;
        return left > 60000 ? 60000 : (int)left;
}

/* Waits for events; 0 on success, -ETIMEDOUT when the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline, short *revents)
{
        for (;;) {
                struct pollfd p = {.fd = fd, .events = events};
                int ms = remaining_ms(deadline);
                if (ms == 0)
                        return -ETIMEDOUT;
                int n = poll(&p, 1, ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n > 0) {
                        *revents = p.revents;
                        return 0;
                }
        }
}

static int finish_connect(int fd, int r, int64_t deadline)
{
        if (r == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -errno;
        short rev;
        r = wait_fd(fd, POLLOUT, deadline, &rev);
        if (r < 0)
                return r;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                return -errno;
        return -soerr;
}

static int connect_unix(const char *path, int64_t deadline)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = finish_connect(fd, connect(fd, (struct sockaddr *)&sa, sizeof(sa)), deadline);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int connect_tcp(const char *host, const char *port, int64_t deadline)
{
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
        int r = getaddrinfo(host, port, &hints, &ai);
        if (r != 0)
                return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
        r = -ECONNREFUSED;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                a->ai_protocol);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                r = finish_connect(fd, connect(fd, a->ai_addr, a->ai_addrlen), deadline);
                if (r == 0) {
                        freeaddrinfo(ai);
                        return fd;
                }
                close(fd);
        }
        freeaddrinfo(ai);
        return r;
}

static int connect_engine(struct cms_engine *e, long timeout, struct cms_error *err)
{
        if (e->tls_ca) /* the raw upgraded connection speaks no TLS */
                return cms_err(err, 501,
                               "engine %s: exec with stdin is not supported over TLS; run the "
                               "command without stdin",
                               e->url);
        long ct = CMS_ENG_CONNECT_TIMEOUT_MS;
        if (timeout > 0 && timeout < ct)
                ct = timeout;
        int64_t deadline = cms_now_ms() + ct;
        int fd = e->socket_path ? connect_unix(e->socket_path, deadline)
                                : connect_tcp(e->host, e->port, deadline);
        if (fd < 0) {
                char ebuf[128];
                cms_eng_set_up(e, false);
                return cms_eng_unavailable(err, "engine unavailable at %s: %s", e->url,
                                           strerror_r(-fd, ebuf, sizeof(ebuf)));
        }
        return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
        while (n) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (w > 0) {
                        p += w;
                        n -= (size_t)w;
                        continue;
                }
                short rev;
                int r = wait_fd(fd, POLLOUT, deadline, &rev);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads once into b (waiting up to the deadline); 0 at EOF, >0 bytes read, <0 error. */
static ssize_t read_some(int fd, struct cms_buf *b, int64_t deadline)
{
        char tmp[READ_SIZE];
        for (;;) {
                ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
                if (n > 0) {
                        int r = cms_buf_append(b, tmp, (size_t)n);
                        return r < 0 ? r : n;
                }
                if (n == 0)
                        return 0;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                short rev;
                int r = wait_fd(fd, POLLIN, deadline, &rev);
                if (r < 0)
                        return r;
        }
}

static int build_request(struct cms_engine *e, const struct cms_engine_req *req, const char *path,
                         struct cms_buf *out)
{
        bool has_body = req->body && req->body_len;
        int r = cms_buf_printf(out,
                               "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cmsd/%s\r\n"
                               "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: %zu\r\n",
                               req->method ? req->method : "GET", path,
                               e->socket_path ? "localhost" : e->base + strlen("http://"),
                               CMS_VERSION, has_body ? req->body_len : 0);
        if (r == 0 && has_body)
                r = cms_buf_printf(out, "Content-Type: %s\r\n",
                                   req->content_type ? req->content_type : "application/json");
        for (const char *const *h = req->headers; r == 0 && h && *h; h++)
                r = cms_buf_printf(out, "%s\r\n", *h);
        if (r == 0)
                r = cms_buf_append(out, "\r\n", 2);
        if (r == 0 && has_body)
                r = cms_buf_append(out, req->body, req->body_len);
        return r;
}

static int parse_head(const char *p, size_t len, struct head *h)
{
        const char *end = memmem(p, len, "\r\n\r\n", 4);
        if (!end)
                return -EAGAIN;
        h->len = (size_t)(end - p) + 4;
        h->content_length = -1;
        h->chunked = false;
        int major, minor;
        if (sscanf(p, "HTTP/%d.%d %ld", &major, &minor, &h->status) != 3 || h->status < 100 ||
            h->status > 599)
                return -EBADMSG;
        /* The head may hold a NUL: look for line ends within it only, never past it. */
        const char *first = memmem(p, h->len, "\r\n", 2);
        for (const char *l = first + 2; l < end;) {
                const char *next = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
                if (!next)
                        return -EBADMSG;
                if (!strncasecmp(l, "Content-Length:", 15)) {
                        char *e;
                        long long v = strtoll(l + 15, &e, 10);
                        if (v < 0 || (*e != '\r' && *e != ' '))
                                return -EBADMSG;
                        h->content_length = v;
                } else if (!strncasecmp(l, "Transfer-Encoding:", 18)) {
                        h->chunked = memmem(l, (size_t)(next - l), "chunked", 7) != NULL;
                }
                l = next + 2;
        }
        return 0;
}

static int read_head(int fd, struct cms_buf *in, int64_t deadline, struct head *h)
{
        for (;;) {
                int r = parse_head(in->data ? in->data : "", in->len, h);
                if (r != -EAGAIN)
                        return r;
                if (in->len > HEAD_MAX)
                        return -E2BIG;
                ssize_t n = read_some(fd, in, deadline);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0)
                        return (int)n;
        }
}

/* Incremental chunked-transfer decoder: consumes what it can from in[*pos..], appends payload
 * to out; 1 when the last chunk and trailers are complete, 0 for more input, <0 on bad input. */
struct dechunk {
        size_t left; /* payload bytes left in the current chunk */
        bool in_data, want_crlf, in_trailer;
};

static int dechunk_step(struct dechunk *d, const char *in, size_t len, size_t *pos,
                        struct cms_buf *out)
{
        while (*pos < len) {
                const char *p = in + *pos;
                size_t avail = len - *pos;
                if (d->in_data) {
                        size_t n = avail < d->left ? avail : d->left;
                        int r = cms_buf_append(out, p, n);
                        if (r < 0)
                                return r;
                        *pos += n;
                        d->left -= n;
                        d->in_data = d->left > 0;
                        d->want_crlf = !d->in_data;
                        continue;
                }
                const char *eol = memmem(p, avail, "\r\n", 2);
                if (!eol)
                        return avail > 1024 ? -EBADMSG : 0;
                size_t linelen = (size_t)(eol - p);
                *pos += linelen + 2;
                if (d->want_crlf) {
                        if (linelen)
                                return -EBADMSG;
                        d->want_crlf = false;
                } else if (d->in_trailer) {
                        if (!linelen)
                                return 1;
                } else {
                        char *end;
                        unsigned long long n = strtoull(p, &end, 16);
                        if (end == p || (end != eol && *end != ';' && *end != ' '))
                                return -EBADMSG;
                        if (n > SIZE_MAX / 2)
                                return -E2BIG;
                        d->left = (size_t)n;
                        d->in_data = n > 0;
                        d->in_trailer = n == 0;
                }
        }
        return 0;
}

/* A non-hijacked reply body (an error, or a 2xx that carried a length) framed by
 * Content-Length, chunked encoding or, failing both, the end of the connection. */
static int read_body(int fd, struct cms_buf *in, const struct head *h, int64_t deadline, size_t max,
                     struct cms_buf *out)
{
        struct dechunk d = {0};
        size_t pos = h->len;
        cms_buf_init(out, max);
        for (;;) {
                int r = 0;
                if (h->chunked) {
                        r = dechunk_step(&d, in->data, in->len, &pos, out);
                        if (r != 0)
                                return r < 0 ? r : 0;
                } else {
                        size_t avail = in->len - pos;
                        if (h->content_length >= 0 && avail > (size_t)h->content_length - out->len)
                                avail = (size_t)h->content_length - out->len;
                        r = cms_buf_append(out, in->data + pos, avail);
                        if (r < 0)
                                return r;
                        pos += avail;
                        if (h->content_length >= 0 && out->len >= (size_t)h->content_length)
                                return 0;
                }
                /* Keep the read buffer small: what has been consumed is not needed again. */
                memmove(in->data, in->data + pos, in->len - pos);
                in->len -= pos;
                pos = 0;
                ssize_t n = read_some(fd, in, deadline);
                if (n == 0)
                        return h->chunked || h->content_length >= 0 ? -ECONNRESET : 0;
                if (n < 0)
                        return (int)n;
        }
}

/* The hijacked stream: stdin out, raw bytes in, until the engine closes. */
static int pump(int fd, const char *send_data, size_t send_len, int64_t deadline,
                cms_engine_data_cb on_data, void *userdata)
{
        size_t sent = 0;
        bool wr_open = true;
        char buf[READ_SIZE];
        if (!send_len) {
                shutdown(fd, SHUT_WR);
                wr_open = false;
        }
        for (;;) {
                short rev;
                int r = wait_fd(fd, POLLIN | (wr_open ? POLLOUT : 0), deadline, &rev);
                if (r < 0)
                        return r;
                if (wr_open && (rev & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t w = send(fd, send_data + sent, send_len - sent, MSG_NOSIGNAL);
                        if (w > 0)
                                sent += (size_t)w;
                        /* EPIPE: the process stopped reading; its output still matters. */
                        if (sent == send_len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
                                shutdown(fd, SHUT_WR);
                                wr_open = false;
                        }
                }
                if (!(rev & (POLLIN | POLLERR | POLLHUP)))
                        continue;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n == 0)
                        return 0;
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                if (on_data(buf, (size_t)n, userdata) != 0)
                        return 0;
        }
}

static int io_error(struct cms_engine *e, int r, long timeout, struct cms_error *err)
{
        switch (r) {
        case -ETIMEDOUT:
                return cms_err(err, 504, "engine did not answer within %ld ms", timeout);
        case -E2BIG:
                return cms_err(err, 502, "engine reply too large");
        case -EBADMSG:
                return cms_err(err, 502, "malformed reply from the engine");
        case -ENOMEM:
                return cms_err(err, 500, "out of memory");
        default: {
                char ebuf[128];
                cms_eng_set_up(e, false);
                return cms_eng_unavailable(err, "engine connection lost: %s",
                                           strerror_r(-r, ebuf, sizeof(ebuf)));
        }
        }
}

/* After the head: the hijacked stream, a framed 2xx body, or an error to map. */
static int handle_reply(int fd, struct cms_buf *in, const struct head *h, int64_t deadline,
                        const struct cms_engine_req *req, const char *send_data, size_t send_len,
                        cms_engine_data_cb on_data, void *userdata, struct cms_error *err)
{
        size_t max = req->max_reply ? req->max_reply : CMS_ENG_MAX_REPLY;
        bool raw = h->status == 101 || (h->status >= 200 && h->status < 300 && !h->chunked &&
                                        h->content_length < 0 && h->status != 204);
        if (raw) {
                if (in->len > h->len && on_data(in->data + h->len, in->len - h->len, userdata))
                        return 0;
                return pump(fd, send_data, send_len, deadline, on_data, userdata);
        }
        _cleanup_buf_ struct cms_buf body = {0};
        if (h->status != 204 && h->status != 304) {
                int r = read_body(fd, in, h, deadline, max, &body);
                if (r < 0)
                        return r;
        }
        if (h->status >= 400)
                return cms_eng_map_status(h->status, body.data, body.len, err);
        if (h->status < 200)
                return cms_err(err, 502, "unexpected %ld reply from the engine", h->status);
        if (body.len)
                on_data(body.data, body.len, userdata);
        return 0;
}

static int discard(const char *data, size_t len, void *userdata)
{
        return 0;
}

int cms_engine_hijack(struct cms_engine *e, const struct cms_engine_req *req, const char *send_data,
                      size_t send_len, cms_engine_data_cb on_data, void *userdata,
                      struct cms_error *err)
{
        if (!on_data)
                on_data = discard;
        _cleanup_free_ char *path = NULL;
        int r = cms_eng_begin(e, req, &path, err);
        if (r < 0)
                return r;
        long timeout = cms_eng_timeout(e, req);
        int64_t deadline = timeout > 0 ? cms_now_ms() + timeout : -1;
        _cleanup_buf_ struct cms_buf out, in;
        cms_buf_init(&out, 0);
        cms_buf_init(&in, HEAD_MAX + READ_SIZE);
        if (build_request(e, req, path, &out) < 0)
                return cms_err(err, 500, "out of memory");
        int fd = connect_engine(e, timeout, err);
        if (fd < 0)
                return fd;
        struct head h = {0};
        struct cms_error herr = {0};
        r = send_all(fd, out.data, out.len, deadline);
        if (r == 0)
                r = read_head(fd, &in, deadline, &h);
        if (r == 0) {
                cms_eng_set_up(e, true);
                r = handle_reply(fd, &in, &h, deadline, req, send_data, send_len, on_data, userdata,
                                 &herr);
        }
        /* herr.status tells an engine error (already mapped) from an I/O failure (bare errno). */
        if (r < 0 && herr.status && err)
                *err = herr;
        else if (r < 0 && !herr.status)
                r = io_error(e, r, timeout, err);
        close(fd);
        return r;
}
