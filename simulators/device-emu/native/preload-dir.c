/*
 * Directory streams over emulated directories (the configfs report tree, the TDX
 * measurements directory). An emulated DIR* is this library's own object; every
 * directory function checks for one before handing the pointer to glibc.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include "devemu.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct emu_dir {
  int fd;
  char path[PATH_MAX];
  uint8_t *names; /* entries "<type><name>\0", type d, f or c */
  size_t len;
  size_t pos;
  long index;
  struct dirent ent;
  struct emu_dir *next;
};

static struct emu_dir *dirs;
static atomic_int dir_count;
static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;

static struct emu_dir *find_dir(void *d) {
  devemu_init();
  if (d == NULL || atomic_load(&dir_count) == 0) return NULL;
  pthread_mutex_lock(&dirs_lock);
  struct emu_dir *e = dirs;
  while (e && (void *)e != d) e = e->next;
  pthread_mutex_unlock(&dirs_lock);
  return e;
}

static int list(struct emu_dir *e) {
  struct devemu_req_hdr h = {.op = DEVEMU_OP_LIST, .path_len = (uint32_t)strlen(e->path)};
  struct devemu_resp r;
  if (devemu_call(&h, e->path, NULL, &r) != 0) return -1;
  if (r.h.err) {
    devemu_resp_free(&r);
    return devemu_fail(r.h.err);
  }
  free(e->names);
  e->names = r.data1;
  e->len = r.h.len1;
  e->pos = 0;
  e->index = 0;
  r.data1 = NULL;
  devemu_resp_free(&r);
  return 0;
}

static DIR *open_emulated(int fd, const char *path) {
  struct emu_dir *e = calloc(1, sizeof(*e));
  if (e == NULL) return (DIR *)(intptr_t)devemu_fail(ENOMEM);
  e->fd = fd;
  strcpy(e->path, path);
  if (list(e) != 0) {
    int err = errno;
    free(e);
    errno = err;
    return NULL;
  }
  pthread_mutex_lock(&dirs_lock);
  e->next = dirs;
  dirs = e;
  atomic_fetch_add(&dir_count, 1);
  pthread_mutex_unlock(&dirs_lock);
  return (DIR *)e;
}

DEVEMU_EXPORT DIR *opendir(const char *path) {
  char p[PATH_MAX];
  if (!devemu_emulated_path(NULL, path, p)) return devemu_real.opendir(path);
  int fd = devemu_file_open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return NULL;
  DIR *d = open_emulated(fd, p);
  if (d == NULL) {
    int err = errno;
    devemu_file_close(fd);
    errno = err;
  }
  return d;
}

DEVEMU_EXPORT DIR *fdopendir(int fd) {
  char p[PATH_MAX];
  devemu_init();
  if (devemu_dirfd_path(fd, p)) return open_emulated(fd, p);
  return devemu_real.fdopendir(fd);
}

static unsigned char dtype(uint8_t t) {
  if (t == 'd') return DT_DIR;
  if (t == 'c') return DT_CHR;
  return DT_REG;
}

DEVEMU_EXPORT struct dirent *readdir(DIR *d) {
  struct emu_dir *e = find_dir(d);
  if (e == NULL) return devemu_real.readdir(d);
  if (e->pos >= e->len) return NULL; /* end of stream, errno untouched */
  const uint8_t *rec = e->names + e->pos;
  size_t n = strnlen((const char *)rec, e->len - e->pos);
  e->pos += n + 1;
  if (n < 2 || n - 1 >= sizeof(e->ent.d_name)) return NULL;
  memset(&e->ent, 0, sizeof(e->ent));
  e->ent.d_ino = (ino_t)(e->index + 2);
  e->ent.d_off = ++e->index;
  e->ent.d_reclen = sizeof(e->ent);
  e->ent.d_type = dtype(rec[0]);
  memcpy(e->ent.d_name, rec + 1, n - 1);
  return &e->ent;
}

/* On x86-64 struct dirent64 has the layout of struct dirent. */
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent64 layout");
DEVEMU_EXPORT struct dirent64 *readdir64(DIR *d) { return (struct dirent64 *)readdir(d); }

DEVEMU_EXPORT int closedir(DIR *d) {
  struct emu_dir *e = find_dir(d);
  if (e == NULL) return devemu_real.closedir(d);
  pthread_mutex_lock(&dirs_lock);
  struct emu_dir **pp = &dirs;
  while (*pp && *pp != e) pp = &(*pp)->next;
  if (*pp) *pp = e->next;
  atomic_fetch_sub(&dir_count, 1);
  pthread_mutex_unlock(&dirs_lock);
  devemu_file_close(e->fd);
  free(e->names);
  free(e);
  return 0;
}

DEVEMU_EXPORT int dirfd(DIR *d) {
  struct emu_dir *e = find_dir(d);
  return e ? e->fd : devemu_real.dirfd(d);
}

DEVEMU_EXPORT void rewinddir(DIR *d) {
  struct emu_dir *e = find_dir(d);
  if (e == NULL) {
    devemu_real.rewinddir(d);
    return;
  }
  int saved = errno;
  if (list(e) != 0) e->pos = e->len;
  errno = saved;
}
