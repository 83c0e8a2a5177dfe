/* A request body streamed to its consumer while it arrives (the build context): a bounded ring
 * between libmicrohttpd's access handler, which feeds it, and the thread that sends it on to the
 * engine, which drains it. When the ring is full the connection is suspended, so the client is
 * slowed to the engine's pace and memory stays at the ring's size whatever the body's size.
 * Once nobody consumes any more (the build ended or failed early) the rest of the body is read
 * and dropped, so the reply can still be sent. */
#include <pthread.h>
#include <time.h>

#include "api.h"

#define RING (1024 * 1024)

struct cms_upload {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct MHD_Connection *conn;
        atomic_bool *draining;
        char *ring;
        size_t head, len;   /* ring[head .. head+len) modulo RING holds unread bytes */
        int64_t total, max; /* bytes received; the cap */
        int refs, consumers;
        bool eof, gone, too_large, discard, suspended, handler_done;
        int64_t dropped; /* bytes discarded (over the cap, or nobody left to read them) */
};

int cms_upload_new(struct MHD_Connection *conn, atomic_bool *draining, int64_t max,
                   struct cms_upload **out)
{
        struct cms_upload *u = calloc(1, sizeof(*u));
        if (!u || !(u->ring = malloc(RING))) {
                free(u);
                return -ENOMEM;
        }
        pthread_mutex_init(&u->lock, NULL);
        pthread_cond_init(&u->cond, NULL);
        u->conn = conn;
        u->draining = draining;
        u->max = max;
        u->refs = 1;
        *out = u;
        return 0;
}

static void unref_locked_release(struct cms_upload *u)
{
        int left = --u->refs;
        pthread_mutex_unlock(&u->lock);
        if (left)
                return;
        pthread_cond_destroy(&u->cond);
        pthread_mutex_destroy(&u->lock);
        free(u->ring);
        free(u);
}

void cms_upload_unref(struct cms_upload *u)
{
        if (!u)
                return;
        pthread_mutex_lock(&u->lock);
        unref_locked_release(u);
}

/* Called with the lock held: lets libmicrohttpd go on reading the body. */
static void resume(struct cms_upload *u)
{
        if (u->suspended && !u->gone) {
                u->suspended = false;
                MHD_resume_connection(u->conn);
        }
}

size_t cms_upload_feed(struct cms_upload *u, const char *data, size_t n)
{
        pthread_mutex_lock(&u->lock);
        if (!u->too_large && u->total + (int64_t)n > u->max) {
                u->too_large = u->discard = true;
                pthread_cond_broadcast(&u->cond);
        }
        if (u->discard) {
                u->total += (int64_t)n;
                u->dropped += (int64_t)n;
                pthread_mutex_unlock(&u->lock);
                return n;
        }
        size_t take = RING - u->len < n ? RING - u->len : n;
        for (size_t done = 0; done < take;) {
                size_t at = (u->head + u->len) % RING;
                size_t run = RING - at < take - done ? RING - at : take - done;
                memcpy(u->ring + at, data + done, run);
                u->len += run;
                done += run;
        }
        u->total += (int64_t)take;
        if (take)
                pthread_cond_broadcast(&u->cond);
        if (take < n) {
                /* Full: wait for the consumer, which resumes us when there is room. */
                u->suspended = true;
                MHD_suspend_connection(u->conn);
        }
        pthread_mutex_unlock(&u->lock);
        return take;
}

bool cms_upload_finish(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        u->eof = true;
        pthread_cond_broadcast(&u->cond);
        bool ready = u->handler_done;
        if (!ready) {
                u->suspended = true;
                MHD_suspend_connection(u->conn);
        }
        pthread_mutex_unlock(&u->lock);
        return ready;
}

bool cms_upload_too_large(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        bool t = u->too_large;
        pthread_mutex_unlock(&u->lock);
        return t;
}

bool cms_upload_overrun(struct cms_upload *u, int64_t slack)
{
        pthread_mutex_lock(&u->lock);
        bool o = u->dropped > slack;
        pthread_mutex_unlock(&u->lock);
        return o;
}

int64_t cms_upload_max(struct cms_upload *u)
{
        return u->max;
}

void cms_upload_client_gone(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        u->gone = true;
        u->suspended = false;
        pthread_cond_broadcast(&u->cond);
        /* The handler reads the request (query, headers) until it returns: wait for that before
         * the request goes. The consumer sees "gone" and aborts, so this is short. */
        while (!u->handler_done)
                pthread_cond_wait(&u->cond, &u->lock);
        pthread_mutex_unlock(&u->lock);
}

void cms_upload_handler_done(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        u->handler_done = true;
        if (!u->consumers)
                u->discard = true;
        if (u->discard)
                u->head = u->len = 0;
        pthread_cond_broadcast(&u->cond);
        resume(u);
        pthread_mutex_unlock(&u->lock);
}

void cms_upload_claim(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        u->refs++;
        u->consumers++;
        pthread_mutex_unlock(&u->lock);
}

void cms_upload_release(struct cms_upload *u)
{
        pthread_mutex_lock(&u->lock);
        if (--u->consumers == 0) {
                u->discard = true;
                u->head = u->len = 0;
                resume(u);
        }
        unref_locked_release(u);
}

ssize_t cms_upload_read(char *buf, size_t max, void *userdata)
{
        struct cms_upload *u = userdata;
        pthread_mutex_lock(&u->lock);
        for (;;) {
                if (u->gone || u->too_large || atomic_load(u->draining)) {
                        pthread_mutex_unlock(&u->lock);
                        return -1;
                }
                if (u->len) {
                        size_t n = u->len < max ? u->len : max;
                        size_t run = RING - u->head < n ? RING - u->head : n;
                        memcpy(buf, u->ring + u->head, run);
                        memcpy(buf + run, u->ring, n - run);
                        u->head = (u->head + n) % RING;
                        u->len -= n;
                        if (u->len <= RING / 2 && !u->eof)
                                resume(u);
                        pthread_mutex_unlock(&u->lock);
                        return (ssize_t)n;
                }
                if (u->eof) {
                        pthread_mutex_unlock(&u->lock);
                        return 0;
                }
                cms_cond_wait_ms(&u->cond, &u->lock, 200);
        }
}
