/* libarchive for cmsctl, loaded when first used rather than at every start. cmsctl links the
 * daemon's build-context tar writer (daemon/images/tar_dir.c, with daemon/archive.c), which calls
 * libarchive; linking libarchive itself made the loader map it and its dependencies (libxml2,
 * ICU, libstdc++: about 2.7 ms of every command's 7.5 ms start on the bench machine) for the one
 * command that needs it, `cmsctl build`. These functions have libarchive's names and prototypes
 * (the compiler checks them against its headers) and forward to the library, opened with dlopen
 * on the first call. Not part of libcmsctl.a: only build/cmsctl links it, the daemon and the
 * unit tests link libarchive as usual. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void *sym(const char *name)
{
        static void *lib;
        if (!lib && !(lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL))) {
                fprintf(stderr,
                        "cmsctl: this needs libarchive: %s (apt-get install libarchive13)\n",
                        dlerror());
                exit(1);
        }
        void *p = dlsym(lib, name);
        if (!p) {
                fprintf(stderr, "cmsctl: libarchive has no %s: %s\n", name, dlerror());
                exit(1);
        }
        return p;
}

#define FWD(ret, name, params, args)                                                               \
        ret name params                                                                            \
        {                                                                                          \
                static ret(*fn_) params;                                                           \
                if (!fn_)                                                                          \
                        fn_ = (ret(*) params)sym(#name);                                           \
                return fn_ args;                                                                   \
        }
#define FWD_VOID(name, params, args)                                                               \
        void name params                                                                           \
        {                                                                                          \
                static void(*fn_) params;                                                          \
                if (!fn_)                                                                          \
                        fn_ = (void(*) params)sym(#name);                                          \
                fn_ args;                                                                          \
        }

typedef struct archive A;
typedef struct archive_entry E;

FWD(E *, archive_entry_new, (void), ())
FWD(E *, archive_entry_clear, (E * e), (e))
FWD_VOID(archive_entry_free, (E * e), (e))
FWD_VOID(archive_entry_copy_pathname, (E * e, const char *s), (e, s))
FWD_VOID(archive_entry_copy_symlink, (E * e, const char *s), (e, s))
FWD(__LA_MODE_T, archive_entry_filetype, (E * e), (e))
FWD(__LA_MODE_T, archive_entry_perm, (E * e), (e))
FWD(const char *, archive_entry_hardlink, (E * e), (e))
FWD(const char *, archive_entry_pathname, (E * e), (e))
FWD(const char *, archive_entry_symlink, (E * e), (e))
FWD(la_int64_t, archive_entry_size, (E * e), (e))
FWD(int, archive_entry_size_is_set, (E * e), (e))
FWD_VOID(archive_entry_set_filetype, (E * e, unsigned int t), (e, t))
FWD_VOID(archive_entry_set_gid, (E * e, la_int64_t v), (e, v))
FWD_VOID(archive_entry_set_uid, (E * e, la_int64_t v), (e, v))
FWD_VOID(archive_entry_set_mtime, (E * e, time_t s, long ns), (e, s, ns))
FWD_VOID(archive_entry_set_perm, (E * e, __LA_MODE_T m), (e, m))
FWD_VOID(archive_entry_set_size, (E * e, la_int64_t v), (e, v))
FWD(int, archive_errno, (A * a), (a))
FWD(const char *, archive_error_string, (A * a), (a))
FWD(A *, archive_read_new, (void), ())
FWD(int, archive_read_free, (A * a), (a))
FWD(la_ssize_t, archive_read_data, (A * a, void *b, size_t n), (a, b, n))
FWD(int, archive_read_next_header, (A * a, E **e), (a, e))
FWD(int, archive_read_open,
    (A * a, void *ud, archive_open_callback *o, archive_read_callback *r,
     archive_close_callback *c),
    (a, ud, o, r, c))
FWD(int, archive_read_open_filename, (A * a, const char *f, size_t bs), (a, f, bs))
FWD(int, archive_read_support_filter_bzip2, (A * a), (a))
FWD(int, archive_read_support_filter_gzip, (A * a), (a))
FWD(int, archive_read_support_filter_xz, (A * a), (a))
FWD(int, archive_read_support_filter_zstd, (A * a), (a))
FWD(int, archive_read_support_format_tar, (A * a), (a))
FWD(int, archive_read_support_format_zip_seekable, (A * a), (a))
FWD(int, archive_read_support_format_zip_streamable, (A * a), (a))
FWD(A *, archive_write_new, (void), ())
FWD(int, archive_write_free, (A * a), (a))
FWD(int, archive_write_close, (A * a), (a))
FWD(int, archive_write_add_filter_none, (A * a), (a))
FWD(int, archive_write_set_format_pax_restricted, (A * a), (a))
FWD(int, archive_write_set_bytes_per_block, (A * a, int n), (a, n))
FWD(int, archive_write_header, (A * a, E *e), (a, e))
FWD(la_ssize_t, archive_write_data, (A * a, const void *b, size_t n), (a, b, n))
FWD(int, archive_write_open,
    (A * a, void *ud, archive_open_callback *o, archive_write_callback *w,
     archive_close_callback *c),
    (a, ud, o, w, c))

/* The one variadic call: the message is formatted here and passed on as "%s". */
void archive_set_error(A *a, int err, const char *fmt, ...)
{
        static void (*f)(A *, int, const char *, ...);
        char msg[512];
        va_list ap;
        if (!f)
                f = (void (*)(A *, int, const char *, ...))sym("archive_set_error");
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        f(a, err, "%s", msg);
}
