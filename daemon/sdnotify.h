/* systemd's service protocol (sd_notify): READY/RELOADING/STOPPING/STATUS and the watchdog. With
 * no NOTIFY_SOCKET (not run by systemd) every notification is a no-op, so cmsd behaves the same
 * under systemd, under another supervisor or in a terminal. */
#pragma once

#include "util.h"

/* The watchdog as the main loop sees it. The pure functions below take the clock as an argument
 * so that the decisions can be unit-tested without sleeping. */
struct cms_watchdog {
        int64_t interval_ms;  /* ping every this long (half of WATCHDOG_USEC); 0: no watchdog */
        int64_t stale_ms;     /* housekeeping not ticking for longer than this means it is stuck */
        int64_t last_ping_ms; /* monotonic; when the last ping went out (or setup time) */
        bool withheld;        /* the last due ping was held back (stuck thread): log once */
};

/* Whether systemd asked for a watchdog (WATCHDOG_USEC for this PID), then cms_watchdog_setup. */
void cms_watchdog_init(struct cms_watchdog *w, int64_t now_ms);
/* usec: systemd's watchdog period (0: none). Pings go out at half of it. A healthy housekeeping
 * thread can spend up to a few engine timeouts in one tick, so it counts as stuck only past
 * max(usec, CMS_WATCHDOG_MIN_STALE_MS). */
void cms_watchdog_setup(struct cms_watchdog *w, uint64_t usec, int64_t now_ms);
#define CMS_WATCHDOG_MIN_STALE_MS 20000
/* A ping is due (interval passed since the last) ... */
bool cms_watchdog_due(const struct cms_watchdog *w, int64_t now_ms);
/* ... and allowed when the housekeeping thread ticked (hk_tick_ms, monotonic) recently. */
bool cms_watchdog_healthy(const struct cms_watchdog *w, int64_t now_ms, int64_t hk_tick_ms);
/* How long the main loop may sleep before the next ping is due (or, while a ping is withheld,
 * before it looks again), at most max_ms, at least 1. */
int64_t cms_watchdog_sleep_ms(const struct cms_watchdog *w, int64_t now_ms, int64_t max_ms);
/* Sends WATCHDOG=1 when due and healthy. 1: sent; 0: not due; -EBUSY: due but withheld. */
int cms_watchdog_tick(struct cms_watchdog *w, int64_t now_ms, int64_t hk_tick_ms);

/* Each returns what sd_notify returned: > 0 sent, 0 no NOTIFY_SOCKET, < 0 error. status may be
 * NULL (no STATUS= line). */
int cms_notify_ready(const char *status);
int cms_notify_reloading(const char *status);
int cms_notify_stopping(const char *status);
int cms_notify_status(const char *status);
