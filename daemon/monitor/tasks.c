/* The processes and threads of a cgroup as /proc shows them: open file descriptors and sockets
 * per process, scheduler state per thread (what cAdvisor exports as container_file_descriptors,
 * container_sockets and container_tasks_state). Plain directory and file reads under proc_root,
 * bounded: at most CMS_TASKS_MAX ids are looked at per call. */
#include "tasks.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The next decimal id of a newline-separated list; 0 at its end. */
static long next_id(const char **p)
{
        while (**p && (**p < '0' || **p > '9'))
                (*p)++;
        if (!**p)
                return 0;
        char *end;
        long v = strtol(*p, &end, 10);
        *p = end;
        return v > 0 ? v : 0;
}

static void count_fds(const char *proc_root, long pid, struct cms_ctr_extra *x)
{
        char path[512], link[32];
        snprintf(path, sizeof(path), "%s/%ld/fd", proc_root, pid);
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return; /* gone meanwhile, or not ours to read */
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                x->fds++;
                ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (n >= 7 && !memcmp(link, "socket:", 7))
                        x->sockets++;
        }
        closedir(d);
}

int cms_task_state_of(const char *stat)
{
        const char *p = strrchr(stat, ')'); /* the command may hold spaces and parentheses */
        if (!p || p[1] != ' ')
                return -1;
        switch (p[2]) {
        case 'R':
                return CMS_TASK_RUNNING;
        case 'S':
        case 'I': /* an idle kernel thread: asleep */
                return CMS_TASK_SLEEPING;
        case 'D':
                return CMS_TASK_UNINTERRUPTIBLE;
        case 'T':
        case 't':
                return CMS_TASK_STOPPED;
        default: /* zombies and the dead are no task state cAdvisor counts */
                return -1;
        }
}

static void task_state(const char *proc_root, long tid, struct cms_ctr_extra *x)
{
        char path[512], buf[1024];
        snprintf(path, sizeof(path), "%s/%ld/stat", proc_root, tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = 0;
        int st = cms_task_state_of(buf);
        if (st >= 0)
                x->tasks[st]++;
}

void cms_proc_scan(const char *proc_root, const char *procs, const char *tasks,
                   struct cms_ctr_extra *x)
{
        size_t seen = 0;
        long id;
        x->processes = x->fds = x->sockets = 0;
        memset(x->tasks, 0, sizeof(x->tasks));
        for (const char *p = procs; p && (id = next_id(&p)) > 0 && seen < CMS_TASKS_MAX; seen++) {
                x->processes++;
                count_fds(proc_root, id, x);
        }
        for (const char *p = tasks; p && (id = next_id(&p)) > 0 && seen < CMS_TASKS_MAX; seen++)
                task_state(proc_root, id, x);
        x->has_proc = true;
}
