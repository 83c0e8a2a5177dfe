/* sd_notify for the service manager: readiness, reload and stop states, a human STATUS= line, and
 * watchdog pings that prove the main loop and the housekeeping thread both still turn. */
#include "sdnotify.h"

#include <time.h>

#include <systemd/sd-daemon.h>

void cms_watchdog_setup(struct cms_watchdog *w, uint64_t usec, int64_t now_ms)
{
        memset(w, 0, sizeof(*w));
        if (!usec)
                return;
        int64_t full_ms = (int64_t)(usec / 1000);
        w->interval_ms = full_ms / 2 > 0 ? full_ms / 2 : 1;
        w->stale_ms = full_ms > CMS_WATCHDOG_MIN_STALE_MS ? full_ms : CMS_WATCHDOG_MIN_STALE_MS;
        w->last_ping_ms = now_ms;
}

void cms_watchdog_init(struct cms_watchdog *w, int64_t now_ms)
{
        uint64_t usec = 0;
        /* Not unsetting the variables: sd_watchdog_enabled checks WATCHDOG_PID against us. */
        if (sd_watchdog_enabled(0, &usec) <= 0)
                usec = 0;
        cms_watchdog_setup(w, usec, now_ms);
}

bool cms_watchdog_due(const struct cms_watchdog *w, int64_t now_ms)
{
        return w->interval_ms > 0 && now_ms - w->last_ping_ms >= w->interval_ms;
}

bool cms_watchdog_healthy(const struct cms_watchdog *w, int64_t now_ms, int64_t hk_tick_ms)
{
        return now_ms - hk_tick_ms <= w->stale_ms;
}

int64_t cms_watchdog_sleep_ms(const struct cms_watchdog *w, int64_t now_ms, int64_t max_ms)
{
        int64_t t = max_ms;
        if (w->interval_ms > 0) {
                int64_t left = w->last_ping_ms + w->interval_ms - now_ms;
                /* Overdue but withheld: look again soon, without spinning. */
                if (left <= 0 && w->withheld)
                        left = w->interval_ms / 4 > 10 ? w->interval_ms / 4 : 10;
                if (left < t)
                        t = left;
        }
        return t < 1 ? 1 : t;
}

int cms_watchdog_tick(struct cms_watchdog *w, int64_t now_ms, int64_t hk_tick_ms)
{
        if (!cms_watchdog_due(w, now_ms))
                return 0;
        if (!cms_watchdog_healthy(w, now_ms, hk_tick_ms)) {
                w->withheld = true;
                return -EBUSY;
        }
        w->withheld = false;
        w->last_ping_ms = now_ms;
        sd_notify(0, "WATCHDOG=1");
        return 1;
}

static int send_state(const char *state, const char *status)
{
        if (!status)
                return sd_notify(0, state);
        return sd_notifyf(0, "%s\nSTATUS=%s", state, status);
}

int cms_notify_ready(const char *status)
{
        return send_state("READY=1", status);
}

int cms_notify_reloading(const char *status)
{
        /* MONOTONIC_USEC lets a newer systemd (Type=notify-reload) match the reload to the
         * request; older ones ignore it. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        char state[64];
        snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
        return send_state(state, status);
}

int cms_notify_stopping(const char *status)
{
        return send_state("STOPPING=1", status);
}

int cms_notify_status(const char *status)
{
        return status ? sd_notifyf(0, "STATUS=%s", status) : 0;
}
