/* libarchive, opened when first used rather than mapped at every start. cmsd calls it for build
 * uploads, build contexts and image layers (archive.c, images/tar_dir.c, images/build.c), cmsctl
 * for `cmsctl build` (the same tar writer); linked, libarchive and its dependencies (libxml2, ICU,
 * libstdc++, the compressors) were mapped by every process: about 2.1 MB of cmsd's idle RSS
 * (15.4 -> 13.3 MB measured with and without) and 2.7 ms of every cmsctl command's 7.5 ms start.
 * These functions have libarchive's names and prototypes (the compiler checks them against its
 * headers) and forward to the library, opened with dlopen once (pthread_once) on the first call.
 * Without the library every call fails the way libarchive reports a failure (NULL,
 * ARCHIVE_FATAL, an error string saying why), with one line on stderr: a request that needs it
 * gets an error, the daemon goes on. The unit tests link libarchive itself too; this file's
 * symbols then resolve to the same loaded library. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static void *lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static const char unavailable[] = "libarchive could not be loaded (apt-get install libarchive13)";

static void lib_open(void)
{
        lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, unavailable,
                        dlerror());
}

/* The function, or NULL (said on stderr) when the library or the name is missing. */
static void *sym(const char *name)
{
        pthread_once(&lib_once, lib_open);
        void *p = lib ? dlsym(lib, name) : NULL;
        if (lib && !p)
                fprintf(stderr, "%s: libarchive has no %s\n", program_invocation_short_name, name);
        return p;
}

#define FWD(ret, fail, name, params, args)                                                         \
        ret name params                                                                            \
        {                                                                                          \
                typedef ret(*fn_t) params;                                                         \
                static _Atomic(fn_t) fn_;                                                          \
                fn_t fwd_ = atomic_load_explicit(&fn_, memory_order_acquire);                      \
                if (!fwd_ && (fwd_ = (fn_t)sym(#name)))                                            \
                        atomic_store_explicit(&fn_, fwd_, memory_order_release);                   \
                return fwd_ ? fwd_ args : fail;                                                    \
        }
#define FWD_VOID(name, params, args)                                                               \
        void name params                                                                           \
        {                                                                                          \
                typedef void(*fn_t) params;                                                        \
                static _Atomic(fn_t) fn_;                                                          \
                fn_t fwd_ = atomic_load_explicit(&fn_, memory_order_acquire);                      \
                if (!fwd_ && (fwd_ = (fn_t)sym(#name)))                                            \
                        atomic_store_explicit(&fn_, fwd_, memory_order_release);                   \
                if (fwd_)                                                                          \
                        fwd_ args;                                                                 \
        }

typedef struct archive A;
typedef struct archive_entry E;

FWD(E *, NULL, archive_entry_new, (void), ())
FWD(E *, NULL, archive_entry_clear, (E * e), (e))
FWD_VOID(archive_entry_free, (E * e), (e))
FWD_VOID(archive_entry_copy_pathname, (E * e, const char *s), (e, s))
FWD_VOID(archive_entry_copy_symlink, (E * e, const char *s), (e, s))
FWD(__LA_MODE_T, 0, archive_entry_filetype, (E * e), (e))
FWD(__LA_MODE_T, 0, archive_entry_perm, (E * e), (e))
FWD(const char *, NULL, archive_entry_hardlink, (E * e), (e))
FWD(const char *, NULL, archive_entry_pathname, (E * e), (e))
FWD(const char *, NULL, archive_entry_symlink, (E * e), (e))
FWD(la_int64_t, 0, archive_entry_size, (E * e), (e))
FWD(int, 0, archive_entry_size_is_set, (E * e), (e))
FWD_VOID(archive_entry_set_filetype, (E * e, unsigned int t), (e, t))
FWD_VOID(archive_entry_set_gid, (E * e, la_int64_t v), (e, v))
FWD_VOID(archive_entry_set_uid, (E * e, la_int64_t v), (e, v))
FWD_VOID(archive_entry_set_mtime, (E * e, time_t s, long ns), (e, s, ns))
FWD_VOID(archive_entry_set_perm, (E * e, __LA_MODE_T m), (e, m))
FWD_VOID(archive_entry_set_size, (E * e, la_int64_t v), (e, v))
FWD(int, -1, archive_errno, (A * a), (a))
FWD(const char *, unavailable, archive_error_string, (A * a), (a))
FWD(A *, NULL, archive_read_new, (void), ())
FWD(int, ARCHIVE_FATAL, archive_read_free, (A * a), (a))
FWD(la_ssize_t, ARCHIVE_FATAL, archive_read_data, (A * a, void *b, size_t n), (a, b, n))
FWD(int, ARCHIVE_FATAL, archive_read_next_header, (A * a, E **e), (a, e))
FWD(int, ARCHIVE_FATAL, archive_read_open,
    (A * a, void *ud, archive_open_callback *o, archive_read_callback *r,
     archive_close_callback *c),
    (a, ud, o, r, c))
FWD(int, ARCHIVE_FATAL, archive_read_open_filename, (A * a, const char *f, size_t bs), (a, f, bs))
FWD(int, ARCHIVE_FATAL, archive_read_support_filter_bzip2, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_filter_gzip, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_filter_xz, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_filter_zstd, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_format_tar, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_format_zip_seekable, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_read_support_format_zip_streamable, (A * a), (a))
FWD(A *, NULL, archive_write_new, (void), ())
FWD(int, ARCHIVE_FATAL, archive_write_free, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_write_close, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_write_add_filter_none, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_write_set_format_pax_restricted, (A * a), (a))
FWD(int, ARCHIVE_FATAL, archive_write_set_bytes_per_block, (A * a, int n), (a, n))
FWD(int, ARCHIVE_FATAL, archive_write_header, (A * a, E *e), (a, e))
FWD(la_ssize_t, ARCHIVE_FATAL, archive_write_data, (A * a, const void *b, size_t n), (a, b, n))
FWD(int, ARCHIVE_FATAL, archive_write_open,
    (A * a, void *ud, archive_open_callback *o, archive_write_callback *w,
     archive_close_callback *c),
    (a, ud, o, w, c))

/* The one variadic call: the message is formatted here and passed on as "%s". */
void archive_set_error(A *a, int err, const char *fmt, ...)
{
        typedef void (*fn_t)(A *, int, const char *, ...);
        static _Atomic(fn_t) fn_;
        fn_t f = atomic_load_explicit(&fn_, memory_order_acquire);
        if (!f && (f = (fn_t)sym("archive_set_error")))
                atomic_store_explicit(&fn_, f, memory_order_release);
        if (!f)
                return;
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        f(a, err, "%s", msg);
}
FWD(int, 0, archive_filter_count, (A * a), (a))
FWD(int, ARCHIVE_FILTER_NONE, archive_filter_code, (A * a, int n), (a, n))
