/* A cgroup's processes and threads as /proc shows them (see tasks.c). */
#pragma once

#include "cgroup.h"

#define CMS_TASKS_MAX 4096

/* procs: the cgroup.procs text (one pid a line), tasks: the tasks / cgroup.threads text. Fills
 * x's processes, fds, sockets and tasks[] and sets has_proc; ids that vanished meanwhile are
 * skipped. */
void cms_proc_scan(const char *proc_root, const char *procs, const char *tasks,
                   struct cms_ctr_extra *x);
/* The state of a /proc/<tid>/stat line as a cms_task_state; -1 for zombies and bad lines. */
int cms_task_state_of(const char *stat);
