/* The threads that run blocking handlers. A fixed set of workers takes jobs from a queue, so
 * an ordinary request costs no thread creation; when every worker is busy (a few slow stops or
 * deploys waiting for health), a job gets a thread of its own instead of waiting behind them,
 * so slow requests never starve quick ones; those extra threads are capped, and past the cap a
 * job is refused (the caller answers 503 with Retry-After) rather than the process growing
 * threads without bound. */
#include <pthread.h>

#include "api.h"

struct job {
        void (*fn)(void *);
        void *arg;
        struct job *next;
};

struct cms_workers {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct job *head, *tail;
        unsigned idle, queued, n;
        unsigned extra, max_extra; /* threads of their own running now, and the cap */
        bool stop;
        pthread_t *threads;
};

static void *worker_main(void *arg)
{
        struct cms_workers *w = arg;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->head && !w->stop) {
                        w->idle++;
                        pthread_cond_wait(&w->cond, &w->lock);
                        w->idle--;
                }
                if (!w->head && w->stop)
                        break;
                struct job *j = w->head;
                w->head = j->next;
                if (!w->head)
                        w->tail = NULL;
                w->queued--;
                pthread_mutex_unlock(&w->lock);
                j->fn(j->arg);
                free(j);
                pthread_mutex_lock(&w->lock);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int cms_workers_new(unsigned n, unsigned max_extra, struct cms_workers **out)
{
        struct cms_workers *w = calloc(1, sizeof(*w));
        if (!w || !(w->threads = calloc(n, sizeof(*w->threads)))) {
                free(w);
                return -ENOMEM;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->max_extra = max_extra;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 512 * 1024);
        for (; w->n < n; w->n++)
                if (pthread_create(&w->threads[w->n], &attr, worker_main, w) != 0)
                        break;
        pthread_attr_destroy(&attr);
        *out = w;
        return 0;
}

struct solo {
        void (*fn)(void *);
        void *arg;
        struct cms_workers *w;
};

static void *solo_main(void *arg)
{
        struct solo s = *(struct solo *)arg;
        free(arg);
        s.fn(s.arg);
        pthread_mutex_lock(&s.w->lock);
        s.w->extra--;
        pthread_cond_broadcast(&s.w->cond);
        pthread_mutex_unlock(&s.w->lock);
        return NULL;
}

int cms_workers_submit(struct cms_workers *w, void (*fn)(void *), void *arg)
{
        pthread_mutex_lock(&w->lock);
        if (w->idle > w->queued) {
                struct job *j = malloc(sizeof(*j));
                if (j) {
                        *j = (struct job){fn, arg, NULL};
                        if (w->tail)
                                w->tail->next = j;
                        else
                                w->head = j;
                        w->tail = j;
                        w->queued++;
                        pthread_cond_signal(&w->cond);
                        pthread_mutex_unlock(&w->lock);
                        return 0;
                }
        }
        if (w->extra >= w->max_extra) {
                pthread_mutex_unlock(&w->lock);
                return -EBUSY;
        }
        w->extra++;
        pthread_mutex_unlock(&w->lock);
        struct solo *s = malloc(sizeof(*s));
        if (!s) {
                pthread_mutex_lock(&w->lock);
                w->extra--;
                pthread_mutex_unlock(&w->lock);
                return -ENOMEM;
        }
        *s = (struct solo){fn, arg, w};
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 512 * 1024);
        int r = pthread_create(&t, &attr, solo_main, s);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(s);
                pthread_mutex_lock(&w->lock);
                w->extra--;
                pthread_mutex_unlock(&w->lock);
                return -r;
        }
        return 0;
}

void cms_workers_free(struct cms_workers *w)
{
        if (!w)
                return;
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        while (w->extra) /* threads of their own still touch w on their way out */
                pthread_cond_wait(&w->cond, &w->lock);
        pthread_mutex_unlock(&w->lock);
        for (unsigned i = 0; i < w->n; i++)
                pthread_join(w->threads[i], NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w->threads);
        free(w);
}
