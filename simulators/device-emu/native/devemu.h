/*
 * twi device emulation: an LD_PRELOAD library that emulates the Linux TEE guest
 * interfaces (/dev/tdx_guest, /dev/sev-guest, /dev/nsm, the configfs-tsm report tree
 * and the TDX sysfs measurement registers) and forwards every request to a backend
 * over a Unix socket. Shared declarations of the library's translation units.
 *
 * Wire protocol (all integers little-endian, one request per connection):
 *   request  = u32 body_len, devemu_req_hdr (40 bytes), path[path_len], data[data_len]
 *   response = u32 body_len, devemu_resp_hdr (32 bytes), data1[len1], data2[len2]
 * The TypeScript side is simulators/device-emu/protocol.ts; keep both in step.
 */
#ifndef TWI_DEVEMU_H
#define TWI_DEVEMU_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define DEVEMU_EXPORT __attribute__((visibility("default")))

enum devemu_op {
  DEVEMU_OP_OPEN = 1,
  DEVEMU_OP_CLOSE = 2,
  DEVEMU_OP_READ = 3,
  DEVEMU_OP_WRITE = 4,
  DEVEMU_OP_STAT = 5,
  DEVEMU_OP_MKDIR = 6,
  DEVEMU_OP_RMDIR = 7,
  DEVEMU_OP_IOCTL = 8,
  DEVEMU_OP_FLOCK = 9,
  DEVEMU_OP_LIST = 10,
  DEVEMU_OP_FSTAT = 11,
  DEVEMU_OP_UNLINK = 12,
};

struct devemu_req_hdr {
  uint32_t op;
  uint32_t flags;
  uint64_t handle;
  uint64_t offset;
  uint64_t arg;
  uint32_t path_len;
  uint32_t data_len;
};
_Static_assert(sizeof(struct devemu_req_hdr) == 40, "request header is 40 bytes on the wire");

struct devemu_resp_hdr {
  int32_t err; /* 0 or a positive errno */
  uint32_t flags;
  uint64_t value;
  uint64_t value2;
  uint32_t len1;
  uint32_t len2;
};
_Static_assert(sizeof(struct devemu_resp_hdr) == 32, "response header is 32 bytes on the wire");

/* A response with its payloads (heap); release with devemu_resp_free. */
struct devemu_resp {
  struct devemu_resp_hdr h;
  uint8_t *data1;
  uint8_t *data2;
};

/* Upper bound of one payload, so a broken backend cannot make us allocate without limit. */
#define DEVEMU_MAX_PAYLOAD (32u << 20)

/* The real libc functions this library passes through to (resolved with RTLD_NEXT). */
struct devemu_real {
  int (*open)(const char *, int, ...);
  int (*openat)(int, const char *, int, ...);
  int (*close)(int);
  ssize_t (*read)(int, void *, size_t);
  ssize_t (*write)(int, const void *, size_t);
  ssize_t (*pread)(int, void *, size_t, off_t);
  ssize_t (*pwrite)(int, const void *, size_t, off_t);
  off_t (*lseek)(int, off_t, int);
  int (*ioctl)(int, unsigned long, ...);
  int (*mkdir)(const char *, mode_t);
  int (*mkdirat)(int, const char *, mode_t);
  int (*rmdir)(const char *);
  int (*unlink)(const char *);
  int (*unlinkat)(int, const char *, int);
  int (*access)(const char *, int);
  int (*faccessat)(int, const char *, int, int);
  int (*euidaccess)(const char *, int);
  int (*stat)(const char *, struct stat *);
  int (*lstat)(const char *, struct stat *);
  int (*fstat)(int, struct stat *);
  int (*fstatat)(int, const char *, struct stat *, int);
  int (*xstat)(int, const char *, struct stat *);
  int (*lxstat)(int, const char *, struct stat *);
  int (*fxstat)(int, int, struct stat *);
  int (*fxstatat)(int, int, const char *, struct stat *, int);
  int (*statx)(int, const char *, int, unsigned int, struct statx *);
  int (*flock)(int, int);
  void *(*opendir)(const char *);
  void *(*fdopendir)(int);
  void *(*readdir)(void *);
  int (*closedir)(void *);
  int (*dirfd)(void *);
  void (*rewinddir)(void *);
};

extern struct devemu_real devemu_real;

/* Resolves the real functions (idempotent, thread-safe). */
void devemu_init(void);

/* 1 when TWI_DEVEMU_SOCKET is set (the library emulates), 0 when inert. */
int devemu_active(void);

/*
 * Normalises `path` (relative to the emulated directory `base` when not absolute and
 * base is non-NULL) into `out` and returns 1 when it names an emulated node.
 */
int devemu_emulated_path(const char *base, const char *path, char out[PATH_MAX]);

/* Sends one request; returns 0 (then *resp is filled) or -1 with errno (EIO: no backend). */
int devemu_call(const struct devemu_req_hdr *h, const char *path, const void *data,
                struct devemu_resp *resp);
void devemu_resp_free(struct devemu_resp *resp);

/* An emulated open file: a real fd (of /dev/null) tracked in the table. */
struct devemu_file {
  int fd;
  uint64_t handle;
  mode_t mode; /* S_IFCHR / S_IFREG / S_IFDIR | permissions, as the backend reports */
  off_t pos;
  int refs;
  pthread_mutex_t lock;
  char path[PATH_MAX];
};

/* Looks up an emulated fd and takes a reference, or returns NULL (not emulated). */
struct devemu_file *devemu_file_get(int fd);
void devemu_file_put(struct devemu_file *f);
/* Opens an emulated node; returns the new fd or -1 with errno. */
int devemu_file_open(const char *path, int flags);
/* Removes fd from the table and closes it; returns 1 if it was emulated. */
int devemu_file_close(int fd);

/* The path of an emulated directory fd (for *at calls), or NULL when fd is not one. */
int devemu_dirfd_path(int dirfd, char out[PATH_MAX]);

/* Resolves (dirfd, path) for *at calls: 1 emulated (out set), 0 pass through. */
int devemu_resolve_at(int dirfd, const char *path, char out[PATH_MAX]);

/* Fills a struct stat for an emulated node from a STAT/FSTAT answer. */
void devemu_fill_stat(const char *path, const struct devemu_resp *r, struct stat *st);

/* Ioctl on an emulated fd (preload-ioctl.c); returns the ioctl result with errno. */
int devemu_ioctl(struct devemu_file *f, unsigned long cmd, void *arg);

/* Sets errno and returns -1. */
static inline int devemu_fail(int err) {
  errno = err;
  return -1;
}

#endif /* TWI_DEVEMU_H */
