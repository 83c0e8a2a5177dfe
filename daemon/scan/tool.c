/* Running an external scanner (tool.h). posix_spawn rather than fork: cmsd is multithreaded and
 * the child must do nothing between the fork and the exec but the file actions; every
 * descriptor past stderr is closed in the child, signals are reset (cmsd ignores SIGPIPE, which
 * an exec would otherwise pass on), and the child leads its own process group so that a kill
 * at the deadline also takes the helpers it started. */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int cms_tool_find(const char *name, const char *path, char *out, size_t cap)
{
        if (!name || !*name || strchr(name, '/'))
                return -ENOENT;
        path = path ? path : getenv("PATH");
        for (const char *p = path ? path : ""; *p;) {
                size_t n = strcspn(p, ":");
                struct stat st;
                if (n > 0 && (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, name) < cap &&
                    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                        return 0;
                p += n + (p[n] == ':');
        }
        if (cap)
                out[0] = 0;
        return -ENOENT;
}

void cms_tool_result_done(struct cms_tool_result *res)
{
        if (res) {
                free(res->out);
                res->out = NULL;
        }
}

/* environ with env's assignments added (each replacing a same-named one). */
static char **child_env(const char *const *env)
{
        size_t n = 0, k = 0;
        while (environ[n])
                n++;
        while (env && env[k])
                k++;
        char **e = calloc(n + k + 1, sizeof(*e));
        if (!e)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                bool replaced = false;
                for (size_t j = 0; j < k && !replaced; j++) {
                        size_t len = strcspn(env[j], "=");
                        replaced = !strncmp(environ[i], env[j], len) && environ[i][len] == '=';
                }
                if (!replaced)
                        e[o++] = environ[i];
        }
        for (size_t j = 0; j < k; j++)
                e[o++] = (char *)env[j];
        return e;
}

static int spawn(const char *const *argv, const char *const *env, int out_fd, int err_fd,
                 pid_t *pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        char **envp = child_env(env);
        if (!envp)
                return ENOMEM;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&at, 0);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
        int r = posix_spawn(pid, argv[0], &fa, &at, (char *const *)argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        free(envp);
        return r;
}

/* Keeps the last cap-1 bytes seen of a stream, NUL-terminated. */
static void tail_keep(char *tail, size_t cap, const char *data, size_t n)
{
        size_t have = strlen(tail);
        if (n >= cap - 1) {
                memcpy(tail, data + n - (cap - 1), cap - 1);
                tail[cap - 1] = 0;
                return;
        }
        if (have + n > cap - 1) {
                size_t drop = have + n - (cap - 1);
                memmove(tail, tail + drop, have - drop);
                have -= drop;
        }
        memcpy(tail + have, data, n);
        tail[have + n] = 0;
}

/* Reads both pipes until they close, the deadline passes or stdout passes its cap. */
static void collect(pid_t pid, int fds[2], int64_t deadline, struct cms_buf *out,
                    struct cms_tool_result *res)
{
        char chunk[65536];
        bool killed = false;
        while (fds[0] >= 0 || fds[1] >= 0) {
                struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
                                      {.fd = fds[1], .events = POLLIN}};
                int64_t left = deadline - cms_now_ms();
                if (left <= 0 && !killed) {
                        res->timed_out = true;
                        kill(-pid, SIGKILL);
                        killed = true;
                }
                int n = poll(p, 2, killed ? 1000 : (int)(left > 1000 ? 1000 : left));
                if (n < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < 2 && n > 0; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
                        if (got < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (got <= 0) {
                                close(fds[i]);
                                fds[i] = -1;
                        } else if (i == 1) {
                                tail_keep(res->err, sizeof(res->err), chunk, (size_t)got);
                        } else if (!res->out_too_big &&
                                   cms_buf_append(out, chunk, (size_t)got) < 0) {
                                res->out_too_big = true;
                                kill(-pid, SIGKILL);
                                killed = true;
                        }
                }
                if (killed && n == 0) /* a grandchild outside the group holds a pipe */
                        break;
        }
}

int cms_tool_run(const char *const *argv, const char *const *env, int64_t timeout_ms,
                 size_t max_out, struct cms_tool_result *res, struct cms_error *err)
{
        int po[2], pe[2];
        *res = (struct cms_tool_result){.exit_status = -1};
        if (pipe2(po, O_CLOEXEC) < 0)
                return cms_err(err, 500, "pipe: %s", strerror(errno));
        if (pipe2(pe, O_CLOEXEC) < 0) {
                close(po[0]);
                close(po[1]);
                return cms_err(err, 500, "pipe: %s", strerror(errno));
        }
        pid_t pid;
        int r = spawn(argv, env, po[1], pe[1], &pid);
        close(po[1]);
        close(pe[1]);
        if (r != 0) {
                close(po[0]);
                close(pe[0]);
                return cms_err(err, 500, "cannot start %s: %s", argv[0], strerror(r));
        }
        struct cms_buf out;
        cms_buf_init(&out, max_out);
        int fds[2] = {po[0], pe[0]};
        collect(pid, fds, cms_now_ms() + timeout_ms, &out, res);
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0) {
                        kill(-pid, SIGKILL);
                        close(fds[i]);
                }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        res->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        res->out_len = out.len;
        res->out = cms_buf_take(&out);
        if (!res->out)
                return cms_err(err, 500, "out of memory");
        return 0;
}
