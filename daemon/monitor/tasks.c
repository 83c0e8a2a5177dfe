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

/* Counts the entries of an open /proc/<pid>/fd directory from its start, and the sockets among
 * them (their links read "socket:[inode]"). */
static void count_fds_in(int dfd, struct cms_ctr_extra *x)
{
        char buf[4096], link[32];
        if (lseek(dfd, 0, SEEK_SET) < 0)
                return;
        ssize_t n;
        while ((n = getdents64(dfd, buf, sizeof(buf))) > 0) {
                for (ssize_t off = 0; off < n;) {
                        struct dirent64 *de = (struct dirent64 *)(buf + off);
                        off += de->d_reclen;
                        if (de->d_name[0] == '.')
                                continue;
                        x->fds++;
                        ssize_t k = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
                        if (k >= 7 && !memcmp(link, "socket:", 7))
                                x->sockets++;
                }
        }
}

static void count_fds(const char *proc_root, long pid, const struct cms_proc_init *init,
                      struct cms_ctr_extra *x)
{
        if (init && init->pid == pid && init->fd_dir >= 0) {
                count_fds_in(init->fd_dir, x);
                return;
        }
        char path[512];
        snprintf(path, sizeof(path), "%s/%ld/fd", proc_root, pid);
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return; /* gone meanwhile, or not ours to read */
        count_fds_in(dfd, x);
        close(dfd);
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

static void task_state(const char *proc_root, long tid, const struct cms_proc_init *init,
                       struct cms_ctr_extra *x)
{
        char path[512], buf[1024];
        ssize_t n;
        if (init && init->pid == tid && init->stat_fd >= 0) {
                n = pread(init->stat_fd, buf, sizeof(buf) - 1, 0);
        } else {
                snprintf(path, sizeof(path), "%s/%ld/stat", proc_root, tid);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return;
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
        }
        if (n <= 0)
                return;
        buf[n] = 0;
        int st = cms_task_state_of(buf);
        if (st >= 0)
                x->tasks[st]++;
}

void cms_proc_scan(const char *proc_root, const char *procs, const char *tasks,
                   const struct cms_proc_init *init, struct cms_ctr_extra *x)
{
        size_t seen = 0;
        long id;
        x->processes = x->fds = x->sockets = 0;
        memset(x->tasks, 0, sizeof(x->tasks));
        for (const char *p = procs; p && (id = next_id(&p)) > 0 && seen < CMS_TASKS_MAX; seen++) {
                x->processes++;
                count_fds(proc_root, id, init, x);
        }
        for (const char *p = tasks; p && (id = next_id(&p)) > 0 && seen < CMS_TASKS_MAX; seen++)
                task_state(proc_root, id, init, x);
        x->has_proc = true;
}
