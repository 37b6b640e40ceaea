/*
 * Core of the device-emulation preload library: resolution of the real libc functions,
 * the activation switch (TWI_DEVEMU_SOCKET), path classification, the table of emulated
 * file descriptors and the client of the backend's Unix socket.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include "devemu.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

struct devemu_real devemu_real;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int active;
static struct sockaddr_un backend_addr;
static socklen_t backend_len;

#define RESOLVE(field, name) (*(void **)&devemu_real.field = dlsym(RTLD_NEXT, name))

static void resolve_all(void) {
  RESOLVE(open, "open");
  RESOLVE(openat, "openat");
  RESOLVE(close, "close");
  RESOLVE(read, "read");
  RESOLVE(write, "write");
  RESOLVE(pread, "pread");
  RESOLVE(pwrite, "pwrite");
  RESOLVE(lseek, "lseek");
  RESOLVE(ioctl, "ioctl");
  RESOLVE(mkdir, "mkdir");
  RESOLVE(mkdirat, "mkdirat");
  RESOLVE(rmdir, "rmdir");
  RESOLVE(unlink, "unlink");
  RESOLVE(unlinkat, "unlinkat");
  RESOLVE(access, "access");
  RESOLVE(faccessat, "faccessat");
  RESOLVE(euidaccess, "euidaccess");
  RESOLVE(stat, "stat");
  RESOLVE(lstat, "lstat");
  RESOLVE(fstat, "fstat");
  RESOLVE(fstatat, "fstatat");
  RESOLVE(xstat, "__xstat");
  RESOLVE(lxstat, "__lxstat");
  RESOLVE(fxstat, "__fxstat");
  RESOLVE(fxstatat, "__fxstatat");
  RESOLVE(statx, "statx");
  RESOLVE(flock, "flock");
  RESOLVE(opendir, "opendir");
  RESOLVE(fdopendir, "fdopendir");
  RESOLVE(readdir, "readdir");
  RESOLVE(closedir, "closedir");
  RESOLVE(dirfd, "dirfd");
  RESOLVE(rewinddir, "rewinddir");

  const char *sock = getenv("TWI_DEVEMU_SOCKET");
  if (sock == NULL || sock[0] == '\0') return;
  if (strlen(sock) >= sizeof(backend_addr.sun_path)) {
    /* A path the kernel cannot bind is a set-up error; say so once and stay inert. */
    fprintf(stderr, "twi-devemu: TWI_DEVEMU_SOCKET is longer than %zu bytes; inert\n",
            sizeof(backend_addr.sun_path) - 1);
    return;
  }
  backend_addr.sun_family = AF_UNIX;
  strcpy(backend_addr.sun_path, sock);
  backend_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock) + 1);
  if (sock[0] == '@') {
    /*
     * "@name": the abstract namespace (unix(7)), so nothing is created on disk. Node
     * (libuv) binds such names with the whole zero-padded sun_path, so connect likewise.
     */
    backend_addr.sun_path[0] = '\0';
    backend_len = sizeof(backend_addr);
  }
  active = 1;
}

void devemu_init(void) { pthread_once(&init_once, resolve_all); }

int devemu_active(void) {
  devemu_init();
  return active;
}

/* ---- paths ---------------------------------------------------------------------------- */

/* Emulated subtrees: a node matches when it equals one of these or lies below it. */
static const char *const emulated_roots[] = {
    "/dev/tdx_guest",
    "/dev/sev-guest",
    "/dev/nsm",
    "/sys/kernel/config/tsm",
    "/sys/devices/virtual/misc/tdx_guest",
    "/sys/firmware/acpi/tables/data/CCEL",
};

static int under_root(const char *p) {
  for (size_t i = 0; i < sizeof(emulated_roots) / sizeof(emulated_roots[0]); i++) {
    size_t n = strlen(emulated_roots[i]);
    if (strncmp(p, emulated_roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/')) return 1;
  }
  return 0;
}

/* Lexical normalisation: collapses "//", drops ".", resolves "..", strips a trailing "/". */
static int normalise(const char *in, char out[PATH_MAX]) {
  size_t len = 0;
  const char *s = in;
  while (*s != '\0') {
    while (*s == '/') s++;
    if (*s == '\0') break;
    const char *e = s;
    while (*e != '\0' && *e != '/') e++;
    size_t n = (size_t)(e - s);
    if (n == 1 && s[0] == '.') {
      /* nothing */
    } else if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (len > 0 && out[len - 1] != '/') len--;
      if (len > 0) len--;
    } else {
      if (len + 1 + n >= PATH_MAX) return 0;
      out[len++] = '/';
      memcpy(out + len, s, n);
      len += n;
    }
    s = e;
  }
  if (len == 0) out[len++] = '/';
  out[len] = '\0';
  return 1;
}

int devemu_emulated_path(const char *base, const char *path, char out[PATH_MAX]) {
  if (!devemu_active() || path == NULL) return 0;
  char joined[PATH_MAX];
  if (path[0] == '/') {
    if (strlen(path) >= PATH_MAX) return 0;
    strcpy(joined, path);
  } else {
    if (base == NULL) return 0;
    int n = snprintf(joined, sizeof(joined), "%s/%s", base, path);
    if (n < 0 || (size_t)n >= sizeof(joined)) return 0;
  }
  /* Cheap pre-check so that ordinary paths skip normalisation. */
  if (strstr(joined, "/dev") == NULL && strstr(joined, "/sys") == NULL) return 0;
  if (!normalise(joined, out)) return 0;
  return under_root(out);
}

/* ---- backend client ------------------------------------------------------------------- */

static int send_all(int s, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t w = send(s, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int recv_all(int s, void *buf, size_t n) {
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t r = recv(s, p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void warn_backend(void) {
  static atomic_int warned;
  if (atomic_exchange(&warned, 1) == 0)
    fprintf(stderr, "twi-devemu: backend at %s%s is not answering; emulated calls fail EIO\n",
            backend_addr.sun_path[0] ? "" : "@", backend_addr.sun_path + !backend_addr.sun_path[0]);
}

static int exchange(int s, const struct devemu_req_hdr *h, const char *path, const void *data,
                    struct devemu_resp *resp) {
  uint32_t body = (uint32_t)(sizeof(*h) + h->path_len + h->data_len);
  if (send_all(s, &body, sizeof(body)) || send_all(s, h, sizeof(*h)) ||
      (h->path_len && send_all(s, path, h->path_len)) ||
      (h->data_len && send_all(s, data, h->data_len)))
    return -1;
  uint32_t rlen;
  if (recv_all(s, &rlen, sizeof(rlen)) || rlen < sizeof(resp->h) ||
      recv_all(s, &resp->h, sizeof(resp->h)))
    return -1;
  if (resp->h.len1 > DEVEMU_MAX_PAYLOAD || resp->h.len2 > DEVEMU_MAX_PAYLOAD ||
      rlen != sizeof(resp->h) + (uint64_t)resp->h.len1 + resp->h.len2)
    return -1;
  if (resp->h.len1) {
    resp->data1 = malloc(resp->h.len1);
    if (!resp->data1 || recv_all(s, resp->data1, resp->h.len1)) return -1;
  }
  if (resp->h.len2) {
    resp->data2 = malloc(resp->h.len2);
    if (!resp->data2 || recv_all(s, resp->data2, resp->h.len2)) return -1;
  }
  return 0;
}

int devemu_call(const struct devemu_req_hdr *h, const char *path, const void *data,
                struct devemu_resp *resp) {
  memset(resp, 0, sizeof(*resp));
  int saved = errno;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return devemu_fail(EIO);
  int rc = -1;
  if (connect(s, (const struct sockaddr *)&backend_addr, backend_len) == 0)
    rc = exchange(s, h, path, data, resp);
  devemu_real.close(s);
  if (rc != 0) {
    devemu_resp_free(resp);
    warn_backend();
    return devemu_fail(EIO);
  }
  errno = saved;
  return 0;
}

void devemu_resp_free(struct devemu_resp *resp) {
  free(resp->data1);
  free(resp->data2);
  resp->data1 = resp->data2 = NULL;
}

/* ---- emulated file descriptors -------------------------------------------------------- */

#define DEVEMU_MAX_FD 16384

/* Lock-free NULL check on the hot path; the mutex guards reference counts and removal. */
static struct devemu_file *_Atomic files[DEVEMU_MAX_FD];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

struct devemu_file *devemu_file_get(int fd) {
  if (fd < 0 || fd >= DEVEMU_MAX_FD) return NULL;
  if (atomic_load_explicit(&files[fd], memory_order_acquire) == NULL) return NULL;
  pthread_mutex_lock(&table_lock);
  struct devemu_file *f = atomic_load_explicit(&files[fd], memory_order_relaxed);
  if (f) f->refs++;
  pthread_mutex_unlock(&table_lock);
  return f;
}

void devemu_file_put(struct devemu_file *f) {
  pthread_mutex_lock(&table_lock);
  int last = --f->refs == 0;
  pthread_mutex_unlock(&table_lock);
  if (last) {
    pthread_mutex_destroy(&f->lock);
    free(f);
  }
}

static void backend_close(uint64_t handle) {
  struct devemu_req_hdr h = {.op = DEVEMU_OP_CLOSE, .handle = handle};
  struct devemu_resp r;
  if (devemu_call(&h, NULL, NULL, &r) == 0) devemu_resp_free(&r);
}

int devemu_file_open(const char *path, int flags) {
  struct devemu_req_hdr h = {
      .op = DEVEMU_OP_OPEN, .arg = (uint32_t)flags, .path_len = (uint32_t)strlen(path)};
  struct devemu_resp r;
  if (devemu_call(&h, path, NULL, &r) != 0) return -1;
  devemu_resp_free(&r);
  if (r.h.err) return devemu_fail(r.h.err);
  struct devemu_file *f = calloc(1, sizeof(*f));
  int fd = f ? devemu_real.open("/dev/null", O_RDWR | (flags & O_CLOEXEC)) : -1;
  if (fd < 0 || fd >= DEVEMU_MAX_FD) {
    int err = fd < 0 ? (f ? errno : ENOMEM) : EMFILE;
    if (fd >= 0) devemu_real.close(fd);
    free(f);
    backend_close(r.h.value);
    return devemu_fail(err);
  }
  f->fd = fd;
  f->handle = r.h.value;
  f->mode = (mode_t)r.h.value2;
  f->refs = 1;
  pthread_mutex_init(&f->lock, NULL);
  strcpy(f->path, path);
  atomic_store_explicit(&files[fd], f, memory_order_release);
  return fd;
}

int devemu_file_close(int fd) {
  if (fd < 0 || fd >= DEVEMU_MAX_FD) return 0;
  if (atomic_load_explicit(&files[fd], memory_order_acquire) == NULL) return 0;
  pthread_mutex_lock(&table_lock);
  struct devemu_file *f = atomic_load_explicit(&files[fd], memory_order_relaxed);
  /* Unpublish before the real close, so a new fd with this number is never mistaken. */
  atomic_store_explicit(&files[fd], NULL, memory_order_release);
  pthread_mutex_unlock(&table_lock);
  if (f == NULL) return 0;
  /* configfs commits a binary attribute's buffered writes when the file is released. */
  backend_close(f->handle);
  devemu_real.close(fd);
  devemu_file_put(f);
  return 1;
}

int devemu_dirfd_path(int dirfd, char out[PATH_MAX]) {
  struct devemu_file *f = devemu_file_get(dirfd);
  if (!f) return 0;
  int ok = S_ISDIR(f->mode);
  if (ok) strcpy(out, f->path);
  devemu_file_put(f);
  return ok;
}

int devemu_resolve_at(int dirfd, const char *path, char out[PATH_MAX]) {
  if (!devemu_active() || path == NULL) return 0;
  if (path[0] == '/' || dirfd == AT_FDCWD) return devemu_emulated_path(NULL, path, out);
  char base[PATH_MAX];
  if (!devemu_dirfd_path(dirfd, base)) return 0;
  return devemu_emulated_path(base, path, out);
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
  return h;
}

void devemu_fill_stat(const char *path, const struct devemu_resp *r, struct stat *st) {
  memset(st, 0, sizeof(*st));
  st->st_mode = (mode_t)r->h.value;
  st->st_size = (off_t)r->h.value2;
  st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
  st->st_ino = (ino_t)(fnv1a(path) | 1);
  /* A device number no real filesystem here uses; misc devices have major 10. */
  st->st_dev = makedev(0, 0x7e);
  if (S_ISCHR(st->st_mode)) st->st_rdev = makedev(10, (unsigned)(fnv1a(path) % 200 + 50));
  st->st_blksize = 4096;
  st->st_blocks = (st->st_size + 511) / 512;
}
