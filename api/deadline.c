/* The header deadline. libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends its headers a byte at a time keeps a connection (and its slot) for ever. Here every
 * connection is tracked from its start, and again from the end of each request it served; one
 * whose request's headers (TLS handshake included) are not in within limits.header_deadline is
 * shut down by a reaper thread. A kept-alive connection waiting for its next request gets
 * limits.request_timeout instead (clients reuse them between polls). The socket is only shut down, never closed here:
 * libmicrohttpd sees the read fail and closes it as its own. */
#include <pthread.h>
#include <sys/socket.h>

#include "api.h"

struct track {
        struct track *prev, *next;
        int fd;
        atomic_int_fast64_t waiting_since; /* ms; 0 while a request is being served */
        atomic_bool served;                /* it answered a request before: kept alive */
        bool cut;
};

struct cms_deadlines {
        struct cms_manager *m;
        pthread_mutex_t mu; /* the list, and the cut flags */
        pthread_cond_t cv;
        struct track *list;
        bool stop;
        pthread_t thread;
};

static void *reaper_main(void *arg)
{
        struct cms_deadlines *d = arg;
        pthread_mutex_lock(&d->mu);
        while (!d->stop) {
                const struct cms_config *c = cms_manager_config_rdlock(d->m);
                int64_t deadline = c->header_deadline_ms;
                int64_t kept = c->request_timeout_ms > deadline ? c->request_timeout_ms : deadline;
                cms_manager_config_unlock(d->m);
                int64_t now = cms_now_ms();
                for (struct track *t = d->list; t; t = t->next) {
                        int64_t since = atomic_load(&t->waiting_since);
                        int64_t limit = atomic_load(&t->served) ? kept : deadline;
                        if (!t->cut && since && now - since > limit) {
                                t->cut = true;
                                shutdown(t->fd, SHUT_RDWR);
                        }
                }
                struct timespec ts = cms_deadline(CLOCK_REALTIME, 250);
                pthread_cond_timedwait(&d->cv, &d->mu, &ts);
        }
        pthread_mutex_unlock(&d->mu);
        return NULL;
}

int cms_deadlines_new(struct cms_manager *m, struct cms_deadlines **out)
{
        struct cms_deadlines *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->m = m;
        pthread_mutex_init(&d->mu, NULL);
        pthread_cond_init(&d->cv, NULL);
        if (pthread_create(&d->thread, NULL, reaper_main, d) != 0) {
                pthread_cond_destroy(&d->cv);
                pthread_mutex_destroy(&d->mu);
                free(d);
                return -EAGAIN;
        }
        *out = d;
        return 0;
}

void cms_deadlines_free(struct cms_deadlines *d)
{
        if (!d)
                return;
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
        while (d->list) {
                struct track *t = d->list;
                d->list = t->next;
                free(t);
        }
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
}

void cms_deadlines_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        struct cms_deadlines *d = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                struct track *t = ci ? calloc(1, sizeof(*t)) : NULL;
                if (!t)
                        return;
                t->fd = ci->connect_fd;
                atomic_store(&t->waiting_since, cms_now_ms());
                pthread_mutex_lock(&d->mu);
                t->next = d->list;
                if (d->list)
                        d->list->prev = t;
                d->list = t;
                pthread_mutex_unlock(&d->mu);
                *socket_context = t;
                return;
        }
        struct track *t = *socket_context;
        if (code != MHD_CONNECTION_NOTIFY_CLOSED || !t)
                return;
        /* Before libmicrohttpd closes the socket: the reaper never touches a reused fd. */
        pthread_mutex_lock(&d->mu);
        if (t->prev)
                t->prev->next = t->next;
        else
                d->list = t->next;
        if (t->next)
                t->next->prev = t->prev;
        pthread_mutex_unlock(&d->mu);
        free(t);
        *socket_context = NULL;
}

static struct track *track_of(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

void cms_deadlines_headers_in(struct MHD_Connection *c)
{
        struct track *t = track_of(c);
        if (t)
                atomic_store(&t->waiting_since, 0);
}

void cms_deadlines_request_done(struct MHD_Connection *c)
{
        struct track *t = track_of(c);
        if (!t)
                return;
        atomic_store(&t->served, true);
        atomic_store(&t->waiting_since, cms_now_ms());
}
