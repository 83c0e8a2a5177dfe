/* Test helper: stands in for systemd's notify socket or journald's native socket. Binds a unix
 * datagram socket at PATH and prints every datagram as one line on stdout:
 *   "<monotonic ms> pid=<sender pid> <payload, newlines shown as '|'>"
 * so that shell tests can assert what cmsd sent (READY=1, WATCHDOG=1, journal fields), in which
 * order and from which process. Runs until killed; the socket file is removed on SIGTERM/SIGINT.
 * Built by tests/integration/test_systemd.sh with the system C compiler (no extra package). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: %s SOCKET-PATH\n", argv[0]);
                return 2;
        }
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "path too long\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        unlink(argv[1]);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("dgram_recv: bind");
                return 1;
        }
        struct sigaction act = {.sa_handler = on_signal}; /* no SA_RESTART: recvmsg returns */
        sigaction(SIGTERM, &act, NULL);
        sigaction(SIGINT, &act, NULL);
        static char buf[256 * 1024], line[2 * 256 * 1024];
        while (!stop) {
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(sizeof(struct ucred))];
                } ctl;
                struct iovec iov = {buf, sizeof(buf)};
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
                                    .msg_controllen = sizeof(ctl)};
                ssize_t n = recvmsg(fd, &mh, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("dgram_recv: recvmsg");
                        break;
                }
                long pid = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred u;
                                memcpy(&u, CMSG_DATA(c), sizeof(u));
                                pid = u.pid;
                        }
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                int k = snprintf(line, sizeof(line), "%lld pid=%ld%s ",
                                 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, pid,
                                 (mh.msg_flags & MSG_TRUNC) ? " TRUNCATED" : "");
                size_t len = (size_t)k;
                for (ssize_t i = 0; i < n && len < sizeof(line) - 2; i++)
                        line[len++] = buf[i] == '\n' ? '|' : buf[i] ? buf[i] : '?';
                line[len++] = '\n';
                if (fwrite(line, 1, len, stdout) != len || fflush(stdout) != 0)
                        break;
        }
        unlink(argv[1]);
        return 0;
}
