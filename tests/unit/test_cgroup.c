/* Unit tests for the cgroup readers (daemon/monitor/cgroup.c) on fixture trees under
 * tests/unit/fixtures/cgroup: a cgroup v1 host (Docker, cpu and cpuacct mounted together, files
 * as a real 6.x kernel writes them) and a cgroup v2 host (systemd scope), plus /proc/<pid>/cgroup
 * and /proc/<pid>/net/dev; the cases that make the sampler fall back or skip; and the fallback
 * itself: the engine's stats documents (tests/unit/fixtures/stats, saved from Docker 20.10 and
 * Podman 4.3; block I/O entries added to Docker's) read into the same sample fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/monitor/cgroup.h"
#include "daemon/monitor/labels.h"
#include "daemon/monitor/sampler_internal.h"
#include "daemon/monitor/tasks.h"

static char root[512];

static const char *fx(const char *rel, char *buf, size_t n)
{
        snprintf(buf, n, "%s/%s", root, rel);
        return buf;
}

static void v1_docker(void **state)
{
        char sys[600], proc[600];
        struct cms_cgroup *cg = NULL;
        assert_int_equal(cms_cgroup_open(fx("v1/sys", sys, sizeof(sys)),
                                         fx("v1/proc", proc, sizeof(proc)), 31137, &cg),
                         0);
        assert_int_equal(cms_cgroup_version(cg), 1);
        assert_string_equal(
            cms_cgroup_path(cg),
            "/docker/60a2b97072c732df6da3ed1dc8f673cc6fedb5a5e91ad80346137425ef396956");
        struct cms_sample s;
        memset(&s, 0, sizeof(s));
        assert_int_equal(cms_cgroup_read(cg, &s), 0);
        assert_true(s.v[CMS_F_CPU_USAGE_US] == 3500123);
        long hz = sysconf(_SC_CLK_TCK);
        assert_true(s.v[CMS_F_CPU_USER_US] == 250 * 1000000 / (uint64_t)hz);
        assert_true(s.v[CMS_F_CPU_SYSTEM_US] == 75 * 1000000 / (uint64_t)hz);
        assert_true(s.v[CMS_F_CPU_PERIODS] == 1200);
        assert_true(s.v[CMS_F_CPU_THROTTLED_PERIODS] == 34);
        assert_true(s.v[CMS_F_CPU_THROTTLED_US] == 5600000);
        assert_true(s.v[CMS_F_MEM_USAGE] == 52428800);
        /* Working set = usage - total_inactive_file (the hierarchical values win). */
        assert_true(s.v[CMS_F_MEM_WORKING_SET] == 52428800 - 8388608);
        assert_true(s.v[CMS_F_MEM_RSS] == 41943040);
        assert_true(s.v[CMS_F_MEM_CACHE] == 10485760);
        assert_true(s.v[CMS_F_MEM_FAILCNT] == 3);
        assert_true(s.v[CMS_F_MEM_OOM_KILLS] == 1);
        assert_true(s.v[CMS_F_BLK_READ_BYTES] == 1048576 + 4096);
        assert_true(s.v[CMS_F_BLK_WRITE_BYTES] == 41943040 + 8192);
        assert_true(s.v[CMS_F_BLK_READS] == 16);
        assert_true(s.v[CMS_F_BLK_WRITES] == 320);
        assert_true(s.v[CMS_F_PIDS] == 2);

        struct cms_netdev ifs[CMS_NET_MAX_IFACES];
        size_t n = 0;
        assert_int_equal(cms_cgroup_read_net(cg, ifs, CMS_NET_MAX_IFACES, &n, &s), 0);
        assert_int_equal(n, 2); /* lo is left out */
        assert_string_equal(ifs[0].name, "eth0");
        assert_true(ifs[0].v[0] == 123456 && ifs[0].v[1] == 101 && ifs[0].v[2] == 1 &&
                    ifs[0].v[3] == 2);
        assert_true(ifs[0].v[4] == 65432 && ifs[0].v[5] == 99 && ifs[0].v[6] == 3 &&
                    ifs[0].v[7] == 4);
        assert_string_equal(ifs[1].name, "eth1"); /* "eth1:1000" with no space after the colon */
        assert_true(s.v[CMS_F_NET_RX_BYTES] == 123456 + 1000);
        assert_true(s.v[CMS_F_NET_TX_BYTES] == 65432 + 2000);
        assert_true(s.v[CMS_F_NET_TX_PACKETS] == 99 + 20);

        struct cms_cgroup_spec spec;
        assert_int_equal(cms_cgroup_read_spec(cg, &spec), 0);
        assert_int_equal(spec.cpu_quota_us, 50000);
        assert_int_equal(spec.cpu_period_us, 100000);
        assert_int_equal(spec.cpu_shares, 512);
        assert_true(spec.mem_limit == 268435456);
        assert_true(spec.pids_limit == 100);
        assert_true(spec.mem_swap_limit == 209715200);
        assert_true(spec.mem_reservation == 33554432);

        /* The extras: memory details (hierarchical values where the kernel gives them), swap
         * as memory+swap minus memory, the processes' open files and sockets (from their fd
         * links), threads from pids.current, task states from each task's stat line. */
        struct cms_ctr_extra x = {.has_fs = true, .fs_usage = 5};
        assert_int_equal(cms_cgroup_read_extra(cg, proc, &x), 0);
        assert_true(x.has_mem && x.has_swap && x.has_max_usage && x.has_proc);
        assert_true(x.mem_mapped_file == 8192);
        assert_true(x.mem_swap == 53477376 - 52428800);
        assert_true(x.mem_max_usage == 61440000);
        assert_true(x.pgfault == 1030 && x.total_pgfault == 2060);
        assert_true(x.pgmajfault == 3 && x.total_pgmajfault == 6);
        assert_true(x.processes == 2 && x.threads == 2);
        assert_true(x.fds == 4 && x.sockets == 2);
        assert_true(x.tasks[CMS_TASK_SLEEPING] == 1 && x.tasks[CMS_TASK_RUNNING] == 1);
        assert_true(x.tasks[CMS_TASK_UNINTERRUPTIBLE] == 1 && x.tasks[CMS_TASK_STOPPED] == 0);
        assert_true(x.has_fs && x.fs_usage == 5); /* the syncer's, left alone */
        cms_cgroup_close(cg);
}

static void v2_scope(void **state)
{
        char sys[600], proc[600];
        struct cms_cgroup *cg = NULL;
        assert_int_equal(cms_cgroup_open(fx("v2/sys", sys, sizeof(sys)),
                                         fx("v2/proc", proc, sizeof(proc)), 4242, &cg),
                         0);
        assert_int_equal(cms_cgroup_version(cg), 2);
        assert_string_equal(cms_cgroup_path(cg), "/system.slice/docker-abc123.scope");
        struct cms_sample s;
        memset(&s, 0, sizeof(s));
        assert_int_equal(cms_cgroup_read(cg, &s), 0);
        assert_true(s.v[CMS_F_CPU_USAGE_US] == 7250000);
        assert_true(s.v[CMS_F_CPU_USER_US] == 5000000);
        assert_true(s.v[CMS_F_CPU_SYSTEM_US] == 2250000);
        assert_true(s.v[CMS_F_CPU_PERIODS] == 600);
        assert_true(s.v[CMS_F_CPU_THROTTLED_PERIODS] == 25);
        assert_true(s.v[CMS_F_CPU_THROTTLED_US] == 1500000);
        assert_true(s.v[CMS_F_MEM_USAGE] == 104857600);
        assert_true(s.v[CMS_F_MEM_WORKING_SET] == 104857600 - 4194304);
        assert_true(s.v[CMS_F_MEM_RSS] == 73400320);
        assert_true(s.v[CMS_F_MEM_CACHE] == 20971520);
        assert_true(s.v[CMS_F_MEM_FAILCNT] == 7);
        assert_true(s.v[CMS_F_MEM_OOM_KILLS] == 1);
        assert_true(s.v[CMS_F_BLK_READ_BYTES] == 1048576 + 4096);
        assert_true(s.v[CMS_F_BLK_WRITE_BYTES] == 2097152);
        assert_true(s.v[CMS_F_BLK_READS] == 11);
        assert_true(s.v[CMS_F_BLK_WRITES] == 20);
        assert_true(s.v[CMS_F_PIDS] == 5);
        /* Re-reading the open files gives the same numbers (pread from offset 0). */
        struct cms_sample again;
        memset(&again, 0, sizeof(again));
        assert_int_equal(cms_cgroup_read(cg, &again), 0);
        assert_memory_equal(&s, &again, sizeof(s));

        struct cms_cgroup_spec spec;
        assert_int_equal(cms_cgroup_read_spec(cg, &spec), 0);
        assert_int_equal(spec.cpu_quota_us, 150000);
        assert_int_equal(spec.cpu_period_us, 100000);
        assert_int_equal(spec.cpu_shares, 2597); /* weight 100 (systemd default), runc inverted */
        assert_true(spec.mem_limit == 536870912);
        assert_true(spec.pids_limit == 0);                         /* "max" */
        assert_true(spec.mem_swap_limit == 536870912 + 104857600); /* memory + swap */
        assert_true(spec.mem_reservation == 16777216);

        struct cms_ctr_extra x = {0};
        assert_int_equal(cms_cgroup_read_extra(cg, proc, &x), 0);
        assert_true(x.mem_mapped_file == 12288 && x.mem_swap == 1048576);
        assert_true(x.mem_max_usage == 99999999);
        assert_true(x.pgfault == 777 && x.total_pgfault == 777 && x.pgmajfault == 7);
        assert_true(x.processes == 1 && x.threads == 5 && x.fds == 2 && x.sockets == 1);
        assert_true(x.tasks[CMS_TASK_SLEEPING] == 1 && x.tasks[CMS_TASK_STOPPED] == 1);
        cms_cgroup_close(cg);
}

static void task_states_and_labels(void **state)
{
        assert_int_equal(cms_task_state_of("1 (a) R 0"), CMS_TASK_RUNNING);
        assert_int_equal(cms_task_state_of("1 (a b) c) D 0"), CMS_TASK_UNINTERRUPTIBLE);
        assert_int_equal(cms_task_state_of("1 (kworker) I 2"), CMS_TASK_SLEEPING);
        assert_int_equal(cms_task_state_of("1 (a) t 0"), CMS_TASK_STOPPED);
        assert_int_equal(cms_task_state_of("1 (a) Z 0"), -1);
        assert_int_equal(cms_task_state_of("garbage"), -1);
        assert_int_equal(cms_task_state_of("1 (a)"), -1);

        char name[64];
        cms_prom_label_name("com.docker.compose.service", name, sizeof(name));
        assert_string_equal(name, "container_label_com_docker_compose_service");
        cms_prom_label_name("ü-x/9", name, sizeof(name));
        assert_string_equal(name, "container_label___x_9");
        cms_prom_label_name("averyveryverylongkey", name, 20);
        assert_string_equal(name, "container_label_ave");
        /* Byte order; a key that sanitizes to a taken name is left out; values escaped; the
         * cap counts the labels kept; non-string values ignored. */
        json_object *l = json_tokener_parse(
            "{\"b.x\":\"2\",\"a\":\"q\\\"\\\\\\nz\",\"b_x\":\"dup\",\"n\":5,\"c\":\"3\"}");
        char *got = cms_prom_container_labels(l, 32);
        assert_string_equal(got, ",container_label_a=\"q\\\"\\\\\\nz\",container_label_b_x=\"2\","
                                 "container_label_c=\"3\"");
        free(got);
        got = cms_prom_container_labels(l, 2);
        assert_string_equal(got, ",container_label_a=\"q\\\"\\\\\\nz\",container_label_b_x=\"2\"");
        free(got);
        assert_null(cms_prom_container_labels(l, 0));
        json_object_put(l);
        l = json_tokener_parse("{}");
        assert_null(cms_prom_container_labels(l, 8));
        assert_null(cms_prom_container_labels(NULL, 8));
        json_object_put(l);
}

static void missing_and_foreign(void **state)
{
        char sys[600], proc[600];
        struct cms_cgroup *cg = NULL;
        fx("v2/sys", sys, sizeof(sys));
        fx("v2/proc", proc, sizeof(proc));
        assert_int_equal(cms_cgroup_open(sys, proc, 1234567, &cg), -ENOENT); /* no such process */
        assert_int_equal(cms_cgroup_open(sys, proc, 7777, &cg), -ENOENT);    /* cgroup gone */
        assert_int_equal(cms_cgroup_open(sys, proc, 9999, &cg), -ENOTSUP);   /* no known layout */
        assert_int_equal(cms_cgroup_open(sys, proc, 0, &cg), -ENOENT);
        assert_null(cg);
}

static void netdev_text(void **state)
{
        struct cms_netdev ifs[1];
        struct cms_sample s;
        size_t n = 0;
        memset(&s, 0, sizeof(s));
        const char *t = "Inter-| x\n face |y\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                        "  eth1: 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n  bad: 1 2 3\n";
        assert_int_equal(cms_netdev_parse(t, ifs, 1, &n, &s), 0);
        assert_int_equal(n, 1); /* capped at max; the sum still counts every interface */
        assert_true(ifs[0].v[0] == 1 && ifs[0].v[3] == 4 && ifs[0].v[4] == 9 && ifs[0].v[7] == 12);
        assert_true(s.v[CMS_F_NET_RX_BYTES] == 2 && s.v[CMS_F_NET_TX_DROPPED] == 13);
}

static json_object *load_json(const char *rel)
{
        char p[700];
        snprintf(p, sizeof(p), "%s/../stats/%s", root, rel);
        json_object *o = json_object_from_file(p);
        assert_non_null(o);
        return o;
}

static void engine_stats(void **state)
{
        struct cms_sample s;
        struct cms_netdev ifs[CMS_NET_MAX_IFACES];
        size_t n = 0;
        json_object *d = load_json("docker_stats.json");
        memset(&s, 0, sizeof(s));
        cms_stats_from_engine(d, &s, ifs, CMS_NET_MAX_IFACES, &n);
        assert_true(s.v[CMS_F_CPU_USAGE_US] == 21353);
        assert_true(s.v[CMS_F_CPU_USER_US] == 20000 && s.v[CMS_F_CPU_SYSTEM_US] == 0);
        assert_true(s.v[CMS_F_MEM_USAGE] == 323584);
        assert_true(s.v[CMS_F_MEM_WORKING_SET] == 323584 - 4096); /* total_inactive_file */
        assert_true(s.v[CMS_F_MEM_RSS] == 49152 && s.v[CMS_F_MEM_CACHE] == 8192);
        assert_true(s.v[CMS_F_BLK_READ_BYTES] == 1048576 && s.v[CMS_F_BLK_WRITE_BYTES] == 41943040);
        assert_true(s.v[CMS_F_BLK_READS] == 16 && s.v[CMS_F_BLK_WRITES] == 320);
        assert_true(s.v[CMS_F_PIDS] == 1);
        assert_int_equal(n, 1);
        assert_string_equal(ifs[0].name, "eth0");
        assert_true(s.v[CMS_F_NET_RX_BYTES] == 796 && s.v[CMS_F_NET_RX_PACKETS] == 10);
        json_object_put(d);

        /* Podman: no memory.stats, null block I/O lists, its own interface name. */
        d = load_json("podman_stats.json");
        memset(&s, 0, sizeof(s));
        cms_stats_from_engine(d, &s, ifs, CMS_NET_MAX_IFACES, &n);
        assert_true(s.v[CMS_F_CPU_USAGE_US] == 28470);
        assert_true(s.v[CMS_F_CPU_SYSTEM_US] == 12000);
        assert_true(s.v[CMS_F_MEM_USAGE] == 282624 && s.v[CMS_F_MEM_WORKING_SET] == 282624);
        assert_true(s.v[CMS_F_BLK_READ_BYTES] == 0);
        assert_int_equal(n, 1);
        assert_string_equal(ifs[0].name, "network");
        assert_true(s.v[CMS_F_NET_TX_BYTES] == 8050);
        json_object_put(d);

        /* No "networks" (network none, or a container that just started), or not an object:
         * no interfaces, and no crash (it was a NULL dereference in the sampler's engine mode). */
        const char *odd[] = {"{\"cpu_stats\": {}}", "{\"networks\": null}", "{\"networks\": []}",
                             "{\"networks\": {\"eth0\": 5}}", "{}"};
        for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
                d = json_tokener_parse(odd[i]);
                memset(&s, 0, sizeof(s));
                n = 7;
                cms_stats_from_engine(d, &s, ifs, CMS_NET_MAX_IFACES, &n);
                assert_int_equal(n, 0);
                assert_true(s.v[CMS_F_NET_RX_BYTES] == 0 && s.v[CMS_F_CPU_USAGE_US] == 0);
                json_object_put(d);
        }
}

int main(void)
{
        const char *slash = strrchr(__FILE__, '/');
        snprintf(root, sizeof(root), "%.*s/fixtures/cgroup", slash ? (int)(slash - __FILE__) : 1,
                 slash ? __FILE__ : ".");
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(v1_docker),           cmocka_unit_test(v2_scope),
            cmocka_unit_test(missing_and_foreign), cmocka_unit_test(netdev_text),
            cmocka_unit_test(engine_stats),        cmocka_unit_test(task_states_and_labels),
        };
        return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
