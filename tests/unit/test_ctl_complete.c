/* Unit tests for cmsctl's shell completion (client/complete.c), the static part: candidates
 * read off the commands table for the words typed so far (commands, subcommands, flags parsed
 * out of args, literal values, the kind of name a positional word or a flag's value wants), and
 * for the man page (client/man.c): every command and subcommand of the table appears in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/cmd.h"

#include <stdlib.h>
#include <string.h>

struct got {
        char *text;       /* the candidates, one a line */
        const char *kind; /* what the dynamic part is to add */
};

/* Completes a line: words separated by spaces, a trailing space meaning an empty last word. */
static struct got complete(const char *line)
{
        char *copy = strdup(line), *words[64], *save = NULL;
        int n = 0;
        for (char *w = strtok_r(copy, " ", &save); w && n < 63; w = strtok_r(NULL, " ", &save))
                words[n++] = w;
        if (!*line || line[strlen(line) - 1] == ' ')
                words[n++] = "";
        struct got g = {0};
        size_t len = 0;
        FILE *f = open_memstream(&g.text, &len);
        g.kind = ctl_complete_static(n, words, f);
        fclose(f);
        free(copy);
        return g;
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static void expect(const char *line, const char *const *want, const char *const * not )
{
        struct got g = complete(line);
        for (; want && *want; want++)
                if (!has_line(g.text, *want))
                        fail_msg("'%s': no candidate '%s' in:\n%s", line, *want, g.text);
        for (; not &&*not ; not ++)
                if (has_line(g.text, *not ))
                        fail_msg("'%s': candidate '%s' offered in:\n%s", line, *not, g.text);
        free(g.text);
}

static void expect_kind(const char *line, const char *kind)
{
        struct got g = complete(line);
        if (kind)
                assert_non_null(g.kind);
        if (kind && strcmp(g.kind, kind))
                fail_msg("'%s': kind %s, want %s", line, g.kind, kind);
        if (!kind && g.kind)
                fail_msg("'%s': kind %s, want none", line, g.kind);
        free(g.text);
}

static void test_commands(void **state)
{
        expect("st", (const char *const[]){"start", "stop", "stats", NULL},
               (const char *const[]){"ps", "restart", NULL});
        /* every visible command, no hidden one */
        struct got g = complete("");
        for (const struct ctl_command *e = ctl_commands; e->name; e++)
                assert_int_equal(has_line(g.text, e->name), e->help != NULL);
        assert_false(has_line(g.text, "__complete"));
        assert_null(g.kind);
        free(g.text);
        expect("__", NULL, (const char *const[]){"__complete", "__man", NULL});
        expect("frobnicate ", NULL, NULL);
        expect_kind("frobnicate ", NULL);
}

static void test_flags(void **state)
{
        expect("logs -", (const char *const[]){"-f", "-t", "--tail", "--since", NULL},
               (const char *const[]){"--url", NULL});
        expect("logs --t", (const char *const[]){"--tail", NULL},
               (const char *const[]){"--since", "-t", NULL});
        expect("-",
               (const char *const[]){"--url", "--context", "--token-file", "--format", "--cacert",
                                     "--cert", "--key", NULL},
               (const char *const[]){"-f", NULL});
        /* after "--", a dash starts a word, not a flag */
        expect("logs -- -", NULL, (const char *const[]){"-f", NULL});
}

static void test_groups(void **state)
{
        expect("network ", (const char *const[]){"ls", "create", "inspect", "rm", NULL},
               (const char *const[]){"ps", "volume", NULL});
        expect("network create --",
               (const char *const[]){"--driver", "--subnet", "--gateway", "--internal", "--label",
                                     NULL},
               (const char *const[]){"-f", NULL});
        expect_kind("network inspect ", "NETWORK");
        expect_kind("network inspect a b ", "NETWORK"); /* NETWORK... repeats */
        expect_kind("volume rm -f ", "VOLUME");
        expect("context ", (const char *const[]){"ls", "use", "add", "rm", "show", NULL}, NULL);
        expect_kind("context use ", "CONTEXT");
        expect("context add x --",
               (const char *const[]){"--url", "--token-file", "--token-stdin", "--cacert", "--cert",
                                     "--key", NULL},
               NULL);
        expect_kind("context add x --cacert ", "FILE");
        expect_kind("network frob ", NULL);
}

static void test_values(void **state)
{
        /* a value-taking flag's next word is its value, not a positional word */
        expect_kind("logs --tail ", NULL);
        expect_kind("logs --tail 5 ", "CONTAINER");
        expect_kind("logs --tail=5 ", "CONTAINER");
        expect_kind("logs -f ", "CONTAINER"); /* -f takes none */
        expect_kind("logs c ", NULL);         /* CONTAINER once */
        expect_kind("stop -t 3 a ", "CONTAINER");
        expect_kind("kill -s ", NULL);
        expect_kind("tag ", "IMAGE"); /* SOURCE */
        expect_kind("tag a ", NULL);
        expect_kind("rmi ", "IMAGE");
        /* global options: their values, then the command */
        expect_kind("--context ", "CONTEXT");
        expect_kind("--token-file ", "FILE");
        expect("--format ", (const char *const[]){"table", "json", NULL},
               (const char *const[]){"ps", NULL});
        expect_kind("--context prod logs ", "CONTAINER");
        expect("--url http://x --format json ", (const char *const[]){"ps", "logs", NULL}, NULL);
        expect("completion ", (const char *const[]){"bash", "zsh", NULL}, NULL);
        expect("completion z", (const char *const[]){"zsh", NULL},
               (const char *const[]){"bash", NULL});
        expect("ps --filter ", (const char *const[]){"label=", "name=", NULL}, NULL);
        expect("ps --format ", (const char *const[]){"table", "json", NULL}, NULL);
}

/* The same name in the man page: roff's minus for a hyphen. */
static bool in_man(const char *man, const char *group, const char *name)
{
        char want[256], *o = want;
        o += sprintf(o, "\\fBcmsctl ");
        for (const char *s = group ? group : name; *s; s++)
                o += *s == '-' ? sprintf(o, "\\-") : sprintf(o, "%c", *s);
        if (group) {
                *o++ = ' ';
                for (const char *s = name; *s; s++)
                        o += *s == '-' ? sprintf(o, "\\-") : sprintf(o, "%c", *s);
        }
        strcpy(o, "\\fR");
        return strstr(man, want) != NULL;
}

static void test_man_lists_the_table(void **state)
{
        char *man = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&man, &len);
        ctl_man_write(f);
        fclose(f);
        assert_non_null(strstr(man, ".TH CMSCTL 1"));
        static const char *const sections[] = {"NAME",           "SYNOPSIS",    "DESCRIPTION",
                                               "GLOBAL OPTIONS", "COMMANDS",    "CONFIGURATION",
                                               "ENVIRONMENT",    "EXIT STATUS", "FILES",
                                               "EXAMPLES",       "SEE ALSO"};
        for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
                char sh[64];
                snprintf(sh, sizeof(sh), "\n.SH %s\n", sections[i]);
                if (!strstr(man, sh))
                        fail_msg("no section %s", sections[i]);
        }
        size_t n = 0;
        for (const struct ctl_command *e = ctl_commands; e->name; e++) {
                if (!e->help) {
                        assert_false(in_man(man, NULL, e->name)); /* hidden stays hidden */
                        continue;
                }
                if (!in_man(man, NULL, e->name))
                        fail_msg("command %s missing from the man page", e->name);
                for (const struct ctl_command *s = e->subs; s && s->name; s++, n++)
                        if (s->help && !in_man(man, e->name, s->name))
                                fail_msg("%s %s missing from the man page", e->name, s->name);
        }
        assert_true(n > 5); /* subcommands were there to check */
        static const char *const env[] = {"CMSD_URL",      "CMSD_TOKEN", "CMSD_CONTEXT",
                                          "CMSCTL_CONFIG", "NO_COLOR",   "XDG_CONFIG_HOME"};
        for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
                if (!strstr(man, env[i]))
                        fail_msg("%s not in ENVIRONMENT", env[i]);
        /* roff: no raw non-ASCII byte, no line starting with a stray dot from a help text */
        for (const char *p = man; *p; p++)
                assert_true((unsigned char)*p < 0x80);
        free(man);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_commands),
            cmocka_unit_test(test_flags),
            cmocka_unit_test(test_groups),
            cmocka_unit_test(test_values),
            cmocka_unit_test(test_man_lists_the_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
