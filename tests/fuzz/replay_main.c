/* The standalone driver of the fuzzing harnesses: links with one harness instead of libFuzzer
 * and feeds it every file of the directories (or the files) named on the command line, so that
 * make test replays the checked-in corpora and crash reproducers with the ordinary compiler and
 * no fuzzing engine. Prints "N inputs, slowest M ms (file)"; a crash of the harness is the
 * failure (the exit status of the signal). Files are taken in name order for reproducible runs. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t inputs;
static double slowest_ms;
static char slowest[4096];

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "replay: cannot open %s\n", path);
                return -1;
        }
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap);
        size_t n;
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
                len += n;
                if (len == cap) {
                        uint8_t *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                free(buf);
                        buf = nb;
                }
        }
        fclose(f);
        if (!buf) {
                fprintf(stderr, "replay: out of memory reading %s\n", path);
                return -1;
        }
        /* An exact-size copy, so that ASan sees a read past the input's end. */
        uint8_t *in = malloc(len ? len : 1);
        if (!in)
                return -1;
        memcpy(in, buf, len);
        free(buf);
        double t0 = now_ms();
        LLVMFuzzerTestOneInput(in, len);
        double ms = now_ms() - t0;
        free(in);
        inputs++;
        if (ms > slowest_ms) {
                slowest_ms = ms;
                snprintf(slowest, sizeof(slowest), "%s", path);
        }
        return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return 0; /* an absent corpus directory holds no inputs */
        if (!S_ISDIR(st.st_mode))
                return run_file(path);
        struct dirent **names;
        int n = scandir(path, &names, NULL, by_name);
        if (n < 0) {
                fprintf(stderr, "replay: cannot read %s\n", path);
                return -1;
        }
        int rc = 0;
        for (int i = 0; i < n; i++) {
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
                struct stat es;
                if (names[i]->d_name[0] != '.' && stat(p, &es) == 0 && S_ISREG(es.st_mode) &&
                    run_file(p) < 0)
                        rc = -1;
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv)
{
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        int rc = 0;
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i]) < 0)
                        rc = 1;
        printf("%zu inputs, slowest %.1f ms (%s)\n", inputs, slowest_ms,
               slowest[0] ? slowest : "-");
        return rc;
}
