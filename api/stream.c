/* Streaming replies (SSE and NDJSON). A producer thread of its own does the blocking work (an
 * engine stream) and emits events into a bounded buffer; the libmicrohttpd connection is
 * suspended while the buffer is empty and resumed when data arrives, so a long stream never pins
 * a pool worker nor busy-waits. A client that leaves is noticed through the socket (POLLRDHUP)
 * and through the response's free callback. */
#include <poll.h>
#include <pthread.h>
#include <strings.h>

#include "api.h"
#include "daemon/log.h"

#define HIGH_WATER (256 * 1024)

atomic_int cms_stream_producers;

struct cms_stream {
        struct cms_stream *next; /* in the open streams' list */
        char token[64];          /* whose stream; "" for an open route */
        int64_t deadline_ms;     /* limits.max_stream_duration */
        atomic_int ended;        /* 0, or why it was cut: END_DURATION, END_TOKEN */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct MHD_Connection *conn;
        struct cms_manager *m;
        enum cms_stream_format fmt;
        struct cms_buf buf;
        size_t off; /* bytes of buf already handed to MHD */
        bool done, gone, suspended;
        int refs, fd;
        cms_stream_producer fn;
        void *ud;
        void (*free_ud)(void *);
};

/* The open streams, for limits.max_streams and max_streams_per_token. */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cms_stream *open_list;
enum { END_DURATION = 1, END_TOKEN };

/* Registers s, or says no (with the limit that said it). */
static const char *stream_admit(struct cms_stream *s, int64_t max, int64_t per_token)
{
        int64_t all = 0, mine = 0;
        pthread_mutex_lock(&open_mu);
        for (struct cms_stream *o = open_list; o; o = o->next) {
                all++;
                mine += s->token[0] && !strcmp(o->token, s->token);
        }
        const char *no = all >= max          ? "limits.max_streams"
                         : mine >= per_token ? "limits.max_streams_per_token"
                                             : NULL;
        if (!no) {
                s->next = open_list;
                open_list = s;
        }
        pthread_mutex_unlock(&open_mu);
        return no;
}

static void stream_leave(struct cms_stream *s)
{
        pthread_mutex_lock(&open_mu);
        for (struct cms_stream **p = &open_list; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        pthread_mutex_unlock(&open_mu);
}

enum cms_stream_format cms_stream_wanted(struct cms_request *r)
{
        const char *acc = cms_header(r, MHD_HTTP_HEADER_ACCEPT);
        if (!acc)
                return CMS_STREAM_NONE;
        if (strcasestr(acc, "text/event-stream"))
                return CMS_STREAM_SSE;
        if (strcasestr(acc, "application/x-ndjson") || strcasestr(acc, "application/ndjson"))
                return CMS_STREAM_NDJSON;
        return CMS_STREAM_NONE;
}

static void stream_unref(struct cms_stream *s)
{
        pthread_mutex_lock(&s->lock);
        int left = --s->refs;
        pthread_mutex_unlock(&s->lock);
        if (left)
                return;
        stream_leave(s);
        if (s->free_ud)
                s->free_ud(s->ud);
        cms_buf_free(&s->buf);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* Called with the lock held. */
static void wake(struct cms_stream *s)
{
        if (s->suspended && !s->gone) {
                s->suspended = false;
                MHD_resume_connection(s->conn);
        }
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
        struct cms_stream *s = cls;
        pthread_mutex_lock(&s->lock);
        size_t avail = s->buf.len - s->off;
        if (avail) {
                size_t n = avail < max ? avail : max;
                memcpy(out, s->buf.data + s->off, n);
                s->off += n;
                if (s->off == s->buf.len)
                        s->buf.len = s->off = 0;
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);
                return (ssize_t)n;
        }
        if (s->done) {
                pthread_mutex_unlock(&s->lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

static void reader_free(void *cls)
{
        struct cms_stream *s = cls;
        pthread_mutex_lock(&s->lock);
        s->gone = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        stream_unref(s);
}

bool cms_stream_is_sse(struct cms_stream *s)
{
        return s->fmt == CMS_STREAM_SSE;
}

/* Cut by a limit: past its duration, or its token was removed by a reload. */
static bool expired(struct cms_stream *s)
{
        if (atomic_load(&s->ended))
                return true;
        int why = cms_now_ms() > s->deadline_ms ? END_DURATION : 0;
        if (!why && s->token[0]) {
                const struct cms_config *c = cms_manager_config_rdlock(s->m);
                why = cms_config_has_token(c, s->token) ? 0 : END_TOKEN;
                cms_manager_config_unlock(s->m);
        }
        if (why)
                atomic_store(&s->ended, why);
        return why != 0;
}

int cms_stream_should_stop(void *stream)
{
        struct cms_stream *s = stream;
        if (atomic_load(&s->m->draining) || expired(s))
                return 1;
        pthread_mutex_lock(&s->lock);
        bool gone = s->gone;
        pthread_mutex_unlock(&s->lock);
        if (gone)
                return 1;
        if (s->fd >= 0) {
                struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
                if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                        return 1;
        }
        return 0;
}

/* final: the stream's last event (error or end), written even when a limit cut the stream. */
static int emit(struct cms_stream *s, const char *event, json_object *data, bool final)
{
        const char *js = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        pthread_mutex_lock(&s->lock);
        while (!s->gone && s->buf.len - s->off > HIGH_WATER && !atomic_load(&s->m->draining)) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
        int r = s->gone || (!final && atomic_load(&s->ended)) ? 1 : 0;
        if (!r) {
                if (s->off && s->off == s->buf.len) {
                        s->buf.len = s->off = 0;
                } else if (s->off > HIGH_WATER) { /* never let sent bytes pile up in front */
                        memmove(s->buf.data, s->buf.data + s->off, s->buf.len - s->off);
                        s->buf.len -= s->off;
                        s->off = 0;
                }
                if (s->fmt == CMS_STREAM_SSE)
                        cms_buf_printf(&s->buf, "event: %s\ndata: %s\n\n", event, js);
                else
                        cms_buf_printf(&s->buf, "%s\n", js);
                wake(s);
        }
        pthread_mutex_unlock(&s->lock);
        json_object_put(data);
        return r;
}

int cms_stream_emit(struct cms_stream *s, const char *event, json_object *data)
{
        return emit(s, event, data, false);
}

void cms_stream_finish(struct cms_stream *s, int rc, const struct cms_error *err,
                       const char *reason)
{
        json_object *end = json_object_new_object();
        bool shutdown = atomic_load(&s->m->draining);
        if (rc < 0) {
                json_object_object_add(end, "reason", json_object_new_string("error"));
                json_object_object_add(end, "message", json_object_new_string(err->message));
                emit(s, "error", end, true);
        } else if ((!cms_stream_should_stop(s) || shutdown || atomic_load(&s->ended)) &&
                   cms_stream_is_sse(s)) {
                /* SSE gets an explicit end event; NDJSON readers see the stream close. */
                int ended = atomic_load(&s->ended);
                json_object_object_add(end, "reason",
                                       json_object_new_string(shutdown ? "shutdown"
                                                              : ended == END_DURATION
                                                                  ? "max_stream_duration"
                                                              : ended == END_TOKEN ? "token_removed"
                                                                                   : reason));
                emit(s, "end", end, true);
        } else {
                json_object_put(end);
        }
}

static void *producer_main(void *arg)
{
        struct cms_stream *s = arg;
        s->fn(s, s->ud);
        pthread_mutex_lock(&s->lock);
        s->done = true;
        wake(s);
        pthread_mutex_unlock(&s->lock);
        stream_unref(s);
        atomic_fetch_sub(&cms_stream_producers, 1);
        return NULL;
}

int cms_stream_start(struct cms_request *r, enum cms_stream_format fmt, cms_stream_producer fn,
                     void *userdata, void (*free_ud)(void *))
{
        struct cms_stream *s = calloc(1, sizeof(*s));
        if (!s) {
                if (free_ud)
                        free_ud(userdata);
                cms_reply_errorf(r, 500, "out of memory");
                return -ENOMEM;
        }
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        cms_buf_init(&s->buf, 0);
        s->conn = r->conn;
        s->m = r->m;
        s->fmt = fmt;
        s->fn = fn;
        s->ud = userdata;
        s->free_ud = free_ud;
        s->refs = 2; /* the response and the producer */
        snprintf(s->token, sizeof(s->token), "%s", r->token_name);
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        int64_t max = c->max_streams, per_token = c->max_streams_per_token;
        s->deadline_ms = cms_now_ms() + c->max_stream_duration_ms;
        cms_manager_config_unlock(r->m);
        const char *no = stream_admit(s, max, per_token);
        if (no) {
                s->refs = 0;
                if (free_ud)
                        free_ud(userdata);
                pthread_cond_destroy(&s->cond);
                pthread_mutex_destroy(&s->lock);
                free(s);
                cms_reply_errorf(r, 429, "too many open streams (%s); try again later", no);
                return -EBUSY;
        }
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        s->fd = ci ? ci->connect_fd : -1;
        struct MHD_Response *resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, s, reader_free);
        if (!resp) {
                s->refs = 1;
                stream_unref(s);
                cms_reply_errorf(r, 500, "cannot create a stream");
                return -ENOMEM;
        }
        MHD_add_response_header(resp, "Content-Type",
                                fmt == CMS_STREAM_SSE ? "text/event-stream"
                                                      : "application/x-ndjson");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        cms_reply_decorate(r, resp);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_t t;
        /* Queue first so the response holds its reference before the producer can finish. */
        r->stream = s;
        cms_reply_queue(r, 200, resp);
        atomic_fetch_add(&cms_stream_producers, 1);
        if (pthread_create(&t, &attr, producer_main, s) != 0) {
                atomic_fetch_sub(&cms_stream_producers, 1);
                log_error("cannot start a stream thread");
                pthread_mutex_lock(&s->lock);
                s->done = true;
                pthread_mutex_unlock(&s->lock);
                stream_unref(s);
        }
        pthread_attr_destroy(&attr);
        return 0;
}

int cms_stream_holder_should_stop(void *holder)
{
        return cms_stream_should_stop(*(struct cms_stream **)holder);
}

enum cms_stream_format cms_stream_required(struct cms_request *r, const char *what)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        if (fmt == CMS_STREAM_NONE)
                cms_reply_errorf(
                    r, 400, "%s needs Accept: text/event-stream or application/x-ndjson", what);
        return fmt;
}

enum cms_stream_format cms_follow_begin(struct cms_request *r, cms_call_id probe)
{
        enum cms_stream_format fmt = cms_stream_required(r, "follow=true");
        if (fmt == CMS_STREAM_NONE)
                return fmt;
        struct cms_error err = {0};
        json_object *found = NULL;
        if (probe(r->m, r->params[0], &found, &err) < 0) {
                cms_reply_error(r, &err);
                return CMS_STREAM_NONE;
        }
        json_object_put(found);
        return fmt;
}
