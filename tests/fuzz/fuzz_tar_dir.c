/* Fuzzes the build-context tar writer on generated trees: the input is a small program that
 * builds a directory (directories, files of chosen sizes, symlinks with any target, hard links,
 * a .dockerignore, long and odd names), which cms_tar_dir then streams in reads of sizes the
 * input chooses. libarchive must read the stream back entry by entry, every name relative and
 * without "..", every file's size what the tree holds, and no more bytes than were written. */
#include "fuzz.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/images/tar_dir.h"

struct prog {
        const uint8_t *p;
        size_t n, off;
};

static unsigned next(struct prog *g)
{
        return g->off < g->n ? g->p[g->off++] : 0;
}

/* A name of 1..len bytes from the program: no '/', no NUL; "." and ".." become "d". */
static void name_of(struct prog *g, char *out, size_t len)
{
        size_t n = next(g) % len + 1, k = 0;
        for (size_t i = 0; i < n && g->off < g->n; i++) {
                char c = (char)next(g);
                if (c && c != '/')
                        out[k++] = c;
        }
        if (!k)
                out[k++] = 'f';
        out[k] = 0;
        if (!strcmp(out, ".") || !strcmp(out, ".."))
                strcpy(out, "d");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        return remove(p);
}

static void build(const char *root, struct prog *g)
{
        char cwd[4096], path[8192], name[300], target[300];
        snprintf(cwd, sizeof(cwd), "%s", root);
        /* File bytes: pattern[off % 256 + i] is (char)(off + i), made once rather than per byte
         * of every file of every input (a loop the coverage instrumentation makes costly). */
        static char pattern[70000 + 256];
        if (!pattern[1])
                for (size_t i = 0; i < sizeof(pattern); i++)
                        pattern[i] = (char)i;
        for (int ops = 0; ops < 24 && g->off < g->n; ops++) {
                unsigned op = next(g) % 7;
                name_of(g, name, op == 4 ? 40 : 255);
                snprintf(path, sizeof(path), "%s/%s", cwd, name);
                if (op == 0) { /* a directory, and go into it */
                        size_t pl = strlen(path); /* memcpy: -O1 warns of snprintf's bound */
                        if (mkdir(path, 0755) == 0 && pl < sizeof(cwd) - 300)
                                memcpy(cwd, path, pl + 1);
                } else if (op == 1 || op == 4) { /* a file of up to 65 KiB of program bytes */
                        size_t len = (next(g) << 8 | next(g)) % (sizeof(pattern) - 256);
                        /* The program's next bytes (up to 64), then the pattern from off + k. */
                        size_t take = g->n - g->off < 64 ? g->n - g->off : 64,
                               k = take < len ? take : len;
                        FILE *f = fopen(path, "wb");
                        if (f) {
                                fwrite(g->p + g->off, 1, k, f);
                                fwrite(pattern + g->off % 256 + k, 1, len - k, f);
                                fclose(f);
                        }
                } else if (op == 2) { /* a symlink to anything */
                        name_of(g, target, 255);
                        if (next(g) & 1)
                                snprintf(target, sizeof(target), "%s",
                                         next(g) & 1 ? "/etc" : "../..");
                        symlink(target, path);
                } else if (op == 3) { /* a hard link to the Dockerfile */
                        char df[4200];
                        snprintf(df, sizeof(df), "%s/Dockerfile", root);
                        link(df, path);
                } else if (op == 5) { /* back to the root */
                        snprintf(cwd, sizeof(cwd), "%s", root);
                } else { /* .dockerignore from the program's next bytes */
                        size_t len = next(g) % 200,
                               take = g->n - g->off < len ? g->n - g->off : len;
                        snprintf(path, sizeof(path), "%s/.dockerignore", root);
                        /* Not through a link, and not when the program made a directory or a
                         * symlink of that name: such a tree is kept as it is (the writer meets
                         * it), not aborted on. */
                        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
                        if (fd >= 0) {
                                FUZZ_CHECK(write(fd, g->p + g->off, take) == (ssize_t)take);
                                close(fd);
                        }
                        g->off += take;
                }
        }
}

/* Reads the archive back; returns the number of entries. */
static size_t check(const char *buf, size_t len)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        FUZZ_CHECK(archive_read_open_memory(a, buf, len) == ARCHIVE_OK);
        struct archive_entry *e;
        size_t n = 0;
        int r;
        /* ARCHIVE_WARN: a name this process's locale cannot show; the header itself is sound. */
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                const char *name = archive_entry_pathname(e); /* the bytes as stored */
                FUZZ_CHECK(name && name[0] && name[0] != '/');
                FUZZ_CHECK(strcmp(name, "..") && strncmp(name, "../", 3) && !strstr(name, "/../"));
                la_int64_t size = archive_entry_size(e), got = 0;
                char b[8192];
                ssize_t k;
                while ((k = archive_read_data(a, b, sizeof(b))) > 0)
                        got += k;
                FUZZ_CHECK(k == 0);
                if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
                        FUZZ_CHECK(got == size);
                n++;
        }
        if (r != ARCHIVE_EOF)
                fprintf(stderr, "libarchive: %s (after %zu entries)\n", archive_error_string(a), n);
        FUZZ_CHECK(r == ARCHIVE_EOF);
        archive_read_free(a);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char root[300];
        snprintf(root, sizeof(root), "%s/tree", fuzz_scratch());
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        FUZZ_CHECK(mkdir(root, 0755) == 0);
        char df[400];
        snprintf(df, sizeof(df), "%s/Dockerfile", root);
        fuzz_write_file(df, "FROM scratch\n", 13);
        struct prog g = {data, size, 0};
        size_t step = (size_t)(next(&g) % 7) * 1000 + 1;
        build(root, &g);

        struct cms_tar_dir *t = NULL;
        struct cms_error err = {0};
        if (cms_tar_dir_new(root, NULL, &t, &err) < 0) {
                FUZZ_CHECK(err.status >= 400);
                return 0;
        }
        /* One stream buffer for the process, grown when needed (not 1 MiB mapped and freed per
         * input); what a read returns is checked against len, never against the capacity. */
        static char *buf;
        static size_t cap;
        if (!buf && !(buf = malloc(cap = 1 << 20)))
                abort();
        size_t len = 0;
        ssize_t got;
        while ((got = cms_tar_dir_read(buf + len, cap - len < step ? cap - len : step, t)) > 0) {
                len += (size_t)got;
                if (cap - len < step) {
                        buf = realloc(buf, cap *= 2);
                        FUZZ_CHECK(buf);
                }
        }
        if (got == 0) {
                FUZZ_CHECK(len % 512 == 0);
                check(buf, len);
        } else {
                FUZZ_CHECK(cms_tar_dir_error(t)->message[0]);
        }
        cms_tar_dir_free(t);
        return 0;
}
