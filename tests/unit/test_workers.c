/* Unit tests for api/workers.c: jobs run on the workers, then on threads of their own, and past
 * max_extra of those a job is refused (-EBUSY) instead of one more thread; freeing waits for the
 * threads of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <unistd.h>

#include "api/api.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool released;
static int running, finished;

static void job(void *arg)
{
        pthread_mutex_lock(&mu);
        running++;
        pthread_cond_broadcast(&cv);
        while (!released)
                pthread_cond_wait(&cv, &mu);
        finished++;
        pthread_mutex_unlock(&mu);
}

static void wait_running(int n)
{
        pthread_mutex_lock(&mu);
        while (running < n)
                pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
}

static void test_extra_threads_capped(void **state)
{
        struct cms_workers *w;
        assert_int_equal(cms_workers_new(1, 2, &w), 0);
        usleep(100 * 1000); /* the worker reaches its wait */
        assert_int_equal(cms_workers_submit(w, job, NULL), 0); /* the worker */
        wait_running(1);
        assert_int_equal(cms_workers_submit(w, job, NULL), 0); /* a thread of its own */
        assert_int_equal(cms_workers_submit(w, job, NULL), 0); /* and another */
        wait_running(3);
        assert_int_equal(cms_workers_submit(w, job, NULL), -EBUSY);
        pthread_mutex_lock(&mu);
        released = true;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        cms_workers_free(w); /* waits for all three */
        assert_int_equal(finished, 3);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_extra_threads_capped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
