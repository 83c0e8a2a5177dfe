/* Unit tests for cmsctl's run/create/deploy options (client/run_opts.c) made into the API's
 * ContainerConfig, and for --format templates (client/template.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The config for a command line (words split at spaces), as compact JSON; NULL on usage. */
static char *config_of(const char *line, struct ctl_run_flags *f)
{
        char *copy = strdup(line), *argv[64], *save = NULL;
        int argc = 0;
        for (char *t = strtok_r(copy, " ", &save); t && argc < 64; t = strtok_r(NULL, " ", &save))
                argv[argc++] = t;
        json_object *cfg = NULL;
        FILE *saved = stderr;
        stderr = fopen("/dev/null", "w");
        int r = ctl_run_config(argc, argv, f, &cfg);
        fclose(stderr);
        stderr = saved;
        char *out = r == CTL_OK ? strdup(json_object_to_json_string_ext(
                                      cfg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
                                : NULL;
        json_object_put(cfg);
        free(copy);
        return out;
}

static void expect(const char *line, const char *json)
{
        struct ctl_run_flags f = {0};
        char *got = config_of(line, &f);
        if (!got || strcmp(got, json))
                fail_msg("%s\n  got  %s\n  want %s", line, got ? got : "(usage error)", json);
        free(got);
}

static void expect_usage(const char *line)
{
        struct ctl_run_flags f = {0};
        char *got = config_of(line, &f);
        if (got)
                fail_msg("%s: accepted as %s", line, got);
}

static void test_plain_options(void **state)
{
        expect("busybox", "{\"image\":\"busybox\"}");
        expect(
            "--name web -u 1000:1000 -w /srv busybox sleep 9",
            "{\"name\":\"web\",\"user\":\"1000:1000\",\"workdir\":\"/srv\",\"image\":\"busybox\","
            "\"command\":[\"sleep\",\"9\"]}");
        expect(
            "--name=web --memory=64m --cpus 1.5 --cpu-shares 512 --pids-limit 50 img",
            "{\"name\":\"web\",\"resources\":{\"memory\":\"64m\",\"cpus\":1.5,\"cpu_shares\":512,"
            "\"pids_limit\":50},\"image\":\"img\"}");
        expect("--restart on-failure:3 --privileged --read-only --pull never img",
               "{\"restart_policy\":\"on-failure:3\",\"privileged\":true,\"read_only\":true,"
               "\"pull\":\"never\",\"image\":\"img\"}");
        expect("--dns 1.1.1.1 --dns 9.9.9.9 --network n --ip 10.0.0.5 --network-alias db img",
               "{\"network\":{\"dns\":[\"1.1.1.1\",\"9.9.9.9\"],\"network\":\"n\","
               "\"ip_address\":\"10.0.0.5\",\"aliases\":[\"db\"]},\"image\":\"img\"}");
        /* options end at IMAGE: what follows is the command, flags included */
        expect("img ls -la --name x",
               "{\"image\":\"img\",\"command\":[\"ls\",\"-la\",\"--name\",\"x\"]}");
        expect("-- img", "{\"image\":\"img\"}");
        expect("--entrypoint /bin/sh img", "{\"entrypoint\":[\"/bin/sh\"],\"image\":\"img\"}");
}

static void test_ports(void **state)
{
        expect("-p 8080:80 -p 127.0.0.1:5353:53/udp -p 9000 -p [::1]:8443:443/tcp img",
               "{\"network\":{\"ports\":{\"80\":\"8080\",\"53/udp\":\"127.0.0.1:5353\","
               "\"9000\":\"\",\"443\":\"[::1]:8443\"}},\"image\":\"img\"}");
        expect("-p 8080:80 -p 8081:80 img",
               "{\"network\":{\"ports\":{\"80\":[\"8080\",\"8081\"]}},\"image\":\"img\"}");
        expect("-p 127.0.0.1::80 img",
               "{\"network\":{\"ports\":{\"80\":\"127.0.0.1:\"}},\"image\":\"img\"}");
        expect_usage("-p 8000-8010:80 img");
        expect_usage("-p http img");
        expect_usage("-p 80/xyz img");
        expect_usage("-p [::1:80 img");
        expect_usage("-p 1:2:3:4 img");
}

static void test_mounts_env_labels(void **state)
{
        char cwd[4096], want[8192];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        expect("-v data:/data -v /srv:/srv:ro -v /cache img",
               "{\"volumes\":[{\"type\":\"volume\",\"source\":\"data\",\"target\":\"/data\"},"
               "{\"type\":\"bind\",\"source\":\"/srv\",\"target\":\"/srv\",\"read_only\":true},"
               "{\"type\":\"volume\",\"target\":\"/cache\"}],\"image\":\"img\"}");
        snprintf(want, sizeof(want),
                 "{\"volumes\":[{\"type\":\"bind\",\"source\":\"%s/./conf\",\"target\":\"/c\"}],"
                 "\"image\":\"img\"}",
                 cwd);
        expect("-v ./conf:/c img", want);
        expect("--tmpfs /run --tmpfs /scratch:size=8m,mode=1777 img",
               "{\"volumes\":[{\"type\":\"tmpfs\",\"target\":\"/run\"},{\"type\":\"tmpfs\","
               "\"target\":\"/scratch\",\"tmpfs\":{\"size\":\"8m\",\"mode\":\"1777\"}}],"
               "\"image\":\"img\"}");
        expect_usage("-v a:b:c:d img");
        expect_usage("-v a:/b:rx img");
        expect_usage("--tmpfs /x:uid=0 img");
        setenv("CTL_TEST_FROM_ENV", "v1", 1);
        unsetenv("CTL_TEST_UNSET");
        expect("-e A=1 -e B= -e CTL_TEST_FROM_ENV -e CTL_TEST_UNSET -l app=web -l flag img",
               "{\"environment\":{\"A\":\"1\",\"B\":\"\",\"CTL_TEST_FROM_ENV\":\"v1\"},"
               "\"labels\":{\"app\":\"web\",\"flag\":\"\"},\"image\":\"img\"}");
        expect_usage("-e =x img");
        char path[] = "/tmp/ctl-envfile-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        dprintf(fd, "# comment\n\nK1=v 1\n  K2=two\r\nCTL_TEST_FROM_ENV\n");
        close(fd);
        char line[256];
        snprintf(line, sizeof(line), "--env-file %s img", path);
        expect(line,
               "{\"environment\":{\"K1\":\"v 1\",\"K2\":\"two\",\"CTL_TEST_FROM_ENV\":\"v1\"},"
               "\"image\":\"img\"}");
        unlink(path);
        expect_usage(line); /* the file is gone */
        expect("--add-host db:10.0.0.2 --add-host v6:fe80::1 img",
               "{\"network\":{\"extra_hosts\":{\"db\":\"10.0.0.2\",\"v6\":\"fe80::1\"}},"
               "\"image\":\"img\"}");
        expect_usage("--add-host nohost img");
}

static void test_health_flags_and_errors(void **state)
{
        expect("--health-cmd true --health-interval 5s --health-retries 3 --health-start-period 0s "
               "img",
               "{\"health_check\":{\"test\":[\"CMD-SHELL\",\"true\"],\"interval\":\"5s\","
               "\"retries\":3,\"start_period\":\"0s\"},\"image\":\"img\"}");
        expect("--no-healthcheck img",
               "{\"health_check\":{\"test\":[\"NONE\"]},\"image\":\"img\"}");
        struct ctl_run_flags f = {0};
        char *got = config_of("-d --rm img", &f);
        assert_string_equal(got, "{\"image\":\"img\"}");
        assert_true(f.detach && f.rm);
        free(got);
        expect_usage("--replace img"); /* deploy's */
        expect_usage("--wait-healthy 30s img");
        struct ctl_run_flags d = {.deploy = true};
        got = config_of("--replace --wait-healthy 30s img", &d);
        assert_string_equal(got, "{\"replace\":true,\"wait_healthy\":\"30s\",\"image\":\"img\"}");
        free(got);
        expect_usage("");
        expect_usage("--name");
        expect_usage("--bogus img");
        expect_usage("--rm=yes img");
        expect_usage("--cpus lots img");
        expect_usage("--pids-limit 5x img");
}

static char *tmpl(const char *t, const char *json)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        json_object *d = json_tokener_parse(json);
        int r = ctl_template_print(t, d, f);
        fclose(f);
        json_object_put(d);
        if (r < 0) {
                free(out);
                return NULL;
        }
        return out;
}

static void expect_tmpl(const char *t, const char *json, const char *want)
{
        char *got = tmpl(t, json);
        if (!got || strcmp(got, want))
                fail_msg("%s on %s\n  got  [%s]\n  want [%s]", t, json, got ? got : "(error)",
                         want);
        free(got);
}

static void test_templates(void **state)
{
        const char *list =
            "[{\"name\":\"a\",\"state\":\"running\",\"labels\":{\"x\":\"1\"},"
            "\"host\":{\"memory\":42},\"n\":null},{\"name\":\"b\",\"state\":\"exited\"}]";
        expect_tmpl("{{.name}}", list, "a\nb\n");
        expect_tmpl("{{ .Name }}\\t{{.STATE}}", list, "a\trunning\nb\texited\n");
        expect_tmpl("{{json .labels}}", list, "{\"x\":\"1\"}\nnull\n");
        expect_tmpl("{{.labels}} {{.host.memory}}", list,
                    "{\"x\":\"1\"} 42\n<no value> <no value>\n");
        expect_tmpl("{{.n}}|{{json .n}}", list, "<nil>|null\n<no value>|null\n");
        expect_tmpl("{{.}}", "{\"a\":1}", "{\"a\":1}\n");
        expect_tmpl("id={{.id}}", "{\"id\":\"x\"}", "id=x\n");
        expect_tmpl("plain", "[1,2]", "plain\nplain\n");
        /* exact key first, then any case */
        expect_tmpl("{{.Id}}", "{\"id\":\"low\",\"Id\":\"exact\"}", "exact\n");
        assert_int_equal(ctl_template_check("{{.name"), -1);
        assert_int_equal(ctl_template_check("{{name}}"), -1);
        assert_int_equal(ctl_template_check("{{.a..b}}"), -1);
        assert_int_equal(ctl_template_check("{{.a.}}"), -1);
        assert_int_equal(ctl_template_check("{{range .x}}"), -1);
        assert_int_equal(ctl_template_check("{{}}"), -1);
        assert_int_equal(ctl_template_check("{{json .a.b}} {{.c}}"), 0);
}

static void test_progress_bar(void **state)
{
        char b[96];
        ctl_meter_bar(0, 100, b, sizeof(b));
        assert_string_equal(b, "[>                             ] 0B/100B");
        ctl_meter_bar(50, 100, b, sizeof(b));
        assert_string_equal(b, "[===============>              ] 50B/100B");
        ctl_meter_bar(200, 100, b, sizeof(b)); /* over: shown full */
        assert_string_equal(b, "[==============================] 100B/100B");
        ctl_meter_bar(5, -1, b, sizeof(b));
        assert_string_equal(b, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain_options),
            cmocka_unit_test(test_ports),
            cmocka_unit_test(test_mounts_env_labels),
            cmocka_unit_test(test_health_flags_and_errors),
            cmocka_unit_test(test_templates),
            cmocka_unit_test(test_progress_bar),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
