/* A cgroup's processes and threads as /proc shows them (see tasks.c). */
#pragma once

#include "cgroup.h"

#define CMS_TASKS_MAX 4096

/* The container init's /proc entries, kept open by the caller (-1: not open): its stat file and
 * its fd directory, re-read instead of looked up again (most containers are that one process). */
struct cms_proc_init {
        long pid;
        int stat_fd, fd_dir;
};

/* procs: the cgroup.procs text (one pid a line), tasks: the tasks / cgroup.threads text. Fills
 * x's processes, fds, sockets and tasks[] and sets has_proc; ids that vanished meanwhile are
 * skipped. init may be NULL. */
void cms_proc_scan(const char *proc_root, const char *procs, const char *tasks,
                   const struct cms_proc_init *init, struct cms_ctr_extra *x);
/* The state of a /proc/<tid>/stat line as a cms_task_state; -1 for zombies and bad lines. */
int cms_task_state_of(const char *stat);
