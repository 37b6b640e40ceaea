/*
 * The interposed file-system calls. Each checks whether its path or fd is emulated and
 * otherwise calls the real libc function unchanged, so the host process (Node itself)
 * keeps working. Names and versions are those glibc 2.36 exports (`nm -D libc.so.6`).
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include "devemu.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/*
 * glibc declares these paths nonnull, but callers do pass NULL or "" with AT_EMPTY_PATH;
 * an out-of-line test keeps the compiler from dropping the check.
 */
__attribute__((noinline)) static int empty_path(const char *p) { return p == NULL || *p == 0; }

/* ---- open ----------------------------------------------------------------------------- */

#define NEEDS_MODE(flags) (((flags) & O_CREAT) != 0 || ((flags) & O_TMPFILE) == O_TMPFILE)

static int open_at(int dirfd, const char *path, int flags, mode_t mode) {
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p)) return devemu_file_open(p, flags);
  devemu_init();
  if (dirfd == AT_FDCWD) return devemu_real.open(path, flags, mode);
  return devemu_real.openat(dirfd, path, flags, mode);
}

#define VA_MODE(flags, last)                                                                 \
  mode_t mode = 0;                                                                           \
  if (NEEDS_MODE(flags)) {                                                                   \
    va_list ap;                                                                              \
    va_start(ap, last);                                                                      \
    mode = va_arg(ap, mode_t);                                                               \
    va_end(ap);                                                                              \
  }

DEVEMU_EXPORT int open(const char *path, int flags, ...) {
  VA_MODE(flags, flags);
  return open_at(AT_FDCWD, path, flags, mode);
}
DEVEMU_EXPORT int open64(const char *path, int flags, ...) {
  VA_MODE(flags, flags);
  return open_at(AT_FDCWD, path, flags, mode);
}
DEVEMU_EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  VA_MODE(flags, flags);
  return open_at(dirfd, path, flags, mode);
}
DEVEMU_EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  VA_MODE(flags, flags);
  return open_at(dirfd, path, flags, mode);
}
/* The _FORTIFY_SOURCE entry points (open without O_CREAT). */
DEVEMU_EXPORT int __open_2(const char *path, int flags) {
  return open_at(AT_FDCWD, path, flags, 0);
}
DEVEMU_EXPORT int __open64_2(const char *path, int flags) {
  return open_at(AT_FDCWD, path, flags, 0);
}
DEVEMU_EXPORT int __openat_2(int dirfd, const char *path, int flags) {
  return open_at(dirfd, path, flags, 0);
}
DEVEMU_EXPORT int __openat64_2(int dirfd, const char *path, int flags) {
  return open_at(dirfd, path, flags, 0);
}

DEVEMU_EXPORT int close(int fd) {
  devemu_init();
  /* The kernel ignores the result of a configfs release, so an emulated close succeeds. */
  if (devemu_file_close(fd)) return 0;
  return devemu_real.close(fd);
}
DEVEMU_EXPORT int __close(int fd) { return close(fd); }

/* ---- read / write / seek -------------------------------------------------------------- */

static ssize_t emu_read(struct devemu_file *f, void *buf, size_t n, off_t off, int at_pos) {
  if (n > DEVEMU_MAX_PAYLOAD) n = DEVEMU_MAX_PAYLOAD;
  pthread_mutex_lock(&f->lock);
  if (at_pos) off = f->pos;
  struct devemu_req_hdr h = {
      .op = DEVEMU_OP_READ, .handle = f->handle, .offset = (uint64_t)off, .arg = n};
  struct devemu_resp r;
  ssize_t rc = devemu_call(&h, NULL, NULL, &r);
  if (rc == 0) {
    if (r.h.err) {
      rc = devemu_fail(r.h.err);
    } else {
      rc = (ssize_t)(r.h.len1 < n ? r.h.len1 : n);
      if (rc > 0) memcpy(buf, r.data1, (size_t)rc);
      if (at_pos) f->pos = off + rc;
    }
    devemu_resp_free(&r);
  }
  pthread_mutex_unlock(&f->lock);
  return rc;
}

static ssize_t emu_write(struct devemu_file *f, const void *buf, size_t n, off_t off,
                         int at_pos) {
  if (n > DEVEMU_MAX_PAYLOAD) return devemu_fail(EFBIG);
  pthread_mutex_lock(&f->lock);
  if (at_pos) off = f->pos;
  struct devemu_req_hdr h = {.op = DEVEMU_OP_WRITE,
                             .handle = f->handle,
                             .offset = (uint64_t)off,
                             .data_len = (uint32_t)n};
  struct devemu_resp r;
  ssize_t rc = devemu_call(&h, NULL, buf, &r);
  if (rc == 0) {
    if (r.h.err) {
      rc = devemu_fail(r.h.err);
    } else {
      rc = (ssize_t)r.h.value;
      if (at_pos) f->pos = off + rc;
    }
    devemu_resp_free(&r);
  }
  pthread_mutex_unlock(&f->lock);
  return rc;
}

#define WITH_FILE(fd, emulated, passthrough)                                                 \
  struct devemu_file *f = devemu_file_get(fd);                                               \
  if (f) {                                                                                   \
    __typeof__(emulated) rc_ = (emulated);                                                   \
    int saved_ = errno;                                                                      \
    devemu_file_put(f);                                                                      \
    errno = saved_;                                                                          \
    return rc_;                                                                              \
  }                                                                                          \
  devemu_init();                                                                             \
  return (passthrough);

DEVEMU_EXPORT ssize_t read(int fd, void *buf, size_t n) {
  WITH_FILE(fd, emu_read(f, buf, n, 0, 1), devemu_real.read(fd, buf, n));
}
DEVEMU_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
  if (n > buflen) abort(); /* what glibc's __chk_fail does: the caller overflowed */
  return read(fd, buf, n);
}
DEVEMU_EXPORT ssize_t write(int fd, const void *buf, size_t n) {
  WITH_FILE(fd, emu_write(f, buf, n, 0, 1), devemu_real.write(fd, buf, n));
}
DEVEMU_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  WITH_FILE(fd, off < 0 ? devemu_fail(EINVAL) : emu_read(f, buf, n, off, 0),
            devemu_real.pread(fd, buf, n, off));
}
DEVEMU_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) {
  return pread(fd, buf, n, off);
}
DEVEMU_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  if (n > buflen) abort();
  return pread(fd, buf, n, off);
}
DEVEMU_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  if (n > buflen) abort();
  return pread(fd, buf, n, off);
}
DEVEMU_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  WITH_FILE(fd, off < 0 ? devemu_fail(EINVAL) : emu_write(f, buf, n, off, 0),
            devemu_real.pwrite(fd, buf, n, off));
}
DEVEMU_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  return pwrite(fd, buf, n, off);
}

static off_t emu_lseek(struct devemu_file *f, off_t off, int whence) {
  pthread_mutex_lock(&f->lock);
  off_t base = -1;
  if (whence == SEEK_SET) {
    base = 0;
  } else if (whence == SEEK_CUR) {
    base = f->pos;
  } else if (whence == SEEK_END) {
    struct devemu_req_hdr h = {.op = DEVEMU_OP_FSTAT, .handle = f->handle};
    struct devemu_resp r;
    if (devemu_call(&h, NULL, NULL, &r) == 0) {
      if (r.h.err == 0) base = (off_t)r.h.value2;
      devemu_resp_free(&r);
    }
  }
  off_t rc;
  if (base < 0 || base + off < 0) {
    rc = devemu_fail(EINVAL);
  } else {
    f->pos = base + off;
    rc = f->pos;
  }
  pthread_mutex_unlock(&f->lock);
  return rc;
}

DEVEMU_EXPORT off_t lseek(int fd, off_t off, int whence) {
  WITH_FILE(fd, emu_lseek(f, off, whence), devemu_real.lseek(fd, off, whence));
}
DEVEMU_EXPORT off_t lseek64(int fd, off_t off, int whence) { return lseek(fd, off, whence); }
DEVEMU_EXPORT off_t __lseek(int fd, off_t off, int whence) { return lseek(fd, off, whence); }

/* ---- ioctl / flock -------------------------------------------------------------------- */

DEVEMU_EXPORT int ioctl(int fd, unsigned long cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  WITH_FILE(fd, devemu_ioctl(f, cmd, arg), devemu_real.ioctl(fd, cmd, arg));
}

static int emu_flock(struct devemu_file *f, int op) {
  /* Not under f->lock: a blocking LOCK_EX waits in the backend for the holder. */
  struct devemu_req_hdr h = {.op = DEVEMU_OP_FLOCK, .handle = f->handle, .arg = (uint32_t)op};
  struct devemu_resp r;
  if (devemu_call(&h, NULL, NULL, &r) != 0) return -1;
  devemu_resp_free(&r);
  return r.h.err ? devemu_fail(r.h.err) : 0;
}

DEVEMU_EXPORT int flock(int fd, int op) {
  WITH_FILE(fd, emu_flock(f, op), devemu_real.flock(fd, op));
}

/* ---- directories ---------------------------------------------------------------------- */

static int path_op(uint32_t op, const char *p, uint64_t arg) {
  struct devemu_req_hdr h = {.op = op, .arg = arg, .path_len = (uint32_t)strlen(p)};
  struct devemu_resp r;
  if (devemu_call(&h, p, NULL, &r) != 0) return -1;
  devemu_resp_free(&r);
  return r.h.err ? devemu_fail(r.h.err) : 0;
}

DEVEMU_EXPORT int mkdir(const char *path, mode_t mode) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return path_op(DEVEMU_OP_MKDIR, p, mode);
  return devemu_real.mkdir(path, mode);
}
DEVEMU_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode) {
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p)) return path_op(DEVEMU_OP_MKDIR, p, mode);
  devemu_init();
  return devemu_real.mkdirat(dirfd, path, mode);
}
DEVEMU_EXPORT int rmdir(const char *path) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return path_op(DEVEMU_OP_RMDIR, p, 0);
  return devemu_real.rmdir(path);
}
DEVEMU_EXPORT int unlink(const char *path) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return path_op(DEVEMU_OP_UNLINK, p, 0);
  return devemu_real.unlink(path);
}
DEVEMU_EXPORT int unlinkat(int dirfd, const char *path, int flags) {
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p))
    return path_op((flags & AT_REMOVEDIR) ? DEVEMU_OP_RMDIR : DEVEMU_OP_UNLINK, p, 0);
  devemu_init();
  return devemu_real.unlinkat(dirfd, path, flags);
}

/* ---- stat / access -------------------------------------------------------------------- */

static int emu_stat_path(const char *p, struct stat *st) {
  struct devemu_req_hdr h = {.op = DEVEMU_OP_STAT, .path_len = (uint32_t)strlen(p)};
  struct devemu_resp r;
  if (devemu_call(&h, p, NULL, &r) != 0) return -1;
  devemu_resp_free(&r);
  if (r.h.err) return devemu_fail(r.h.err);
  devemu_fill_stat(p, &r, st);
  return 0;
}

static int emu_fstat(struct devemu_file *f, struct stat *st) {
  struct devemu_req_hdr h = {.op = DEVEMU_OP_FSTAT, .handle = f->handle};
  struct devemu_resp r;
  if (devemu_call(&h, NULL, NULL, &r) != 0) return -1;
  devemu_resp_free(&r);
  if (r.h.err) return devemu_fail(r.h.err);
  devemu_fill_stat(f->path, &r, st);
  return 0;
}

DEVEMU_EXPORT int stat(const char *path, struct stat *st) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_stat_path(p, st);
  return devemu_real.stat(path, st);
}
/* On x86-64 struct stat64 has the layout of struct stat. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout");
DEVEMU_EXPORT int stat64(const char *path, struct stat64 *st) {
  return stat(path, (struct stat *)st);
}
/* The emulated tree has no symbolic links, so lstat answers as stat does. */
DEVEMU_EXPORT int lstat(const char *path, struct stat *st) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_stat_path(p, st);
  return devemu_real.lstat(path, st);
}
DEVEMU_EXPORT int lstat64(const char *path, struct stat64 *st) {
  return lstat(path, (struct stat *)st);
}
DEVEMU_EXPORT int fstat(int fd, struct stat *st) {
  WITH_FILE(fd, emu_fstat(f, st), devemu_real.fstat(fd, st));
}
DEVEMU_EXPORT int fstat64(int fd, struct stat64 *st) { return fstat(fd, (struct stat *)st); }
DEVEMU_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  if ((flags & AT_EMPTY_PATH) && empty_path(path)) {
    struct devemu_file *f = devemu_file_get(dirfd);
    if (f) {
      int rc = emu_fstat(f, st);
      devemu_file_put(f);
      return rc;
    }
  }
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p)) return emu_stat_path(p, st);
  devemu_init();
  return devemu_real.fstatat(dirfd, path, st, flags);
}
DEVEMU_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  return fstatat(dirfd, path, (struct stat *)st, flags);
}

/* Pre-2.33 stat entry points, still exported for binaries built against older glibc. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags);

DEVEMU_EXPORT int __xstat(int ver, const char *path, struct stat *st) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_stat_path(p, st);
  return devemu_real.xstat(ver, path, st);
}
DEVEMU_EXPORT int __xstat64(int ver, const char *path, struct stat *st) {
  return __xstat(ver, path, st);
}
DEVEMU_EXPORT int __lxstat(int ver, const char *path, struct stat *st) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_stat_path(p, st);
  return devemu_real.lxstat(ver, path, st);
}
DEVEMU_EXPORT int __lxstat64(int ver, const char *path, struct stat *st) {
  return __lxstat(ver, path, st);
}
DEVEMU_EXPORT int __fxstat(int ver, int fd, struct stat *st) {
  WITH_FILE(fd, emu_fstat(f, st), devemu_real.fxstat(ver, fd, st));
}
DEVEMU_EXPORT int __fxstat64(int ver, int fd, struct stat *st) { return __fxstat(ver, fd, st); }
DEVEMU_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p)) return emu_stat_path(p, st);
  devemu_init();
  return devemu_real.fxstatat(ver, dirfd, path, st, flags);
}
DEVEMU_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st,
                               int flags) {
  return __fxstatat(ver, dirfd, path, st, flags);
}

static void to_statx(const struct stat *st, struct statx *sx) {
  memset(sx, 0, sizeof(*sx));
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_blksize = (uint32_t)st->st_blksize;
  sx->stx_nlink = (uint32_t)st->st_nlink;
  sx->stx_mode = (uint16_t)st->st_mode;
  sx->stx_ino = st->st_ino;
  sx->stx_size = (uint64_t)st->st_size;
  sx->stx_blocks = (uint64_t)st->st_blocks;
  sx->stx_rdev_major = major(st->st_rdev);
  sx->stx_rdev_minor = minor(st->st_rdev);
  sx->stx_dev_major = major(st->st_dev);
  sx->stx_dev_minor = minor(st->st_dev);
}

DEVEMU_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
                        struct statx *sx) {
  struct stat st;
  int rc = -2;
  if ((flags & AT_EMPTY_PATH) && empty_path(path)) {
    struct devemu_file *f = devemu_file_get(dirfd);
    if (f) {
      rc = emu_fstat(f, &st);
      devemu_file_put(f);
    }
  } else {
    char p[PATH_MAX];
    if (devemu_resolve_at(dirfd, path, p)) rc = emu_stat_path(p, &st);
  }
  if (rc == -2) {
    devemu_init();
    return devemu_real.statx(dirfd, path, flags, mask, sx);
  }
  if (rc == 0) to_statx(&st, sx);
  return rc;
}

/* Permission as the mode bits say (the emulated nodes are root's; no DAC override). */
static int emu_access(const char *p, int amode) {
  struct stat st;
  if (emu_stat_path(p, &st) != 0) return -1;
  if ((amode & R_OK) && !(st.st_mode & (S_IRUSR | S_IRGRP | S_IROTH))) return devemu_fail(EACCES);
  if ((amode & W_OK) && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) return devemu_fail(EACCES);
  if ((amode & X_OK) && !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) return devemu_fail(EACCES);
  return 0;
}

DEVEMU_EXPORT int access(const char *path, int amode) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_access(p, amode);
  return devemu_real.access(path, amode);
}
DEVEMU_EXPORT int euidaccess(const char *path, int amode) {
  char p[PATH_MAX];
  if (devemu_emulated_path(NULL, path, p)) return emu_access(p, amode);
  return devemu_real.euidaccess(path, amode);
}
DEVEMU_EXPORT int eaccess(const char *path, int amode) { return euidaccess(path, amode); }
DEVEMU_EXPORT int faccessat(int dirfd, const char *path, int amode, int flags) {
  char p[PATH_MAX];
  if (devemu_resolve_at(dirfd, path, p)) return emu_access(p, amode);
  devemu_init();
  return devemu_real.faccessat(dirfd, path, amode, flags);
}
