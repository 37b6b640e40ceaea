/*
 * Probe for the device-emulation tests: performs the real kernel call sequences a native
 * implementation makes (configfs-tsm, /dev/sev-guest, /dev/tdx_guest and its sysfs
 * registers, /dev/nsm) with plain libc calls, prints `key=value` lines on stdout and
 * writes the blobs it obtained into OUTDIR. The structures are declared here on purpose,
 * independently of the preload library, from include/uapi/linux/{sev-guest,tdx-guest,nsm}.h.
 *
 * usage: probe OUTDIR COMMAND ARGS...
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct snp_report_req {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct snp_derived_key_req {
  uint32_t root_key_select;
  uint32_t rsvd;
  uint64_t guest_field_select;
  uint32_t vmpl;
  uint32_t guest_svn;
  uint64_t tcb_version;
};
struct snp_guest_request_ioctl {
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  uint64_t exitinfo2;
};
struct snp_ext_report_req {
  struct snp_report_req data;
  uint64_t certs_address;
  uint32_t certs_len;
};
struct tdx_report_req {
  uint8_t reportdata[64];
  uint8_t tdreport[1024];
};
struct nsm_iovec {
  uint64_t addr;
  uint64_t len;
};
struct nsm_raw {
  struct nsm_iovec request;
  struct nsm_iovec response;
};
#define SNP_GET_REPORT _IOWR('S', 0x0, struct snp_guest_request_ioctl)
#define SNP_GET_DERIVED_KEY _IOWR('S', 0x1, struct snp_guest_request_ioctl)
#define SNP_GET_EXT_REPORT _IOWR('S', 0x2, struct snp_guest_request_ioctl)
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
#define NSM_IOCTL_RAW _IOWR(0x0A, 0x0, struct nsm_raw)

#define REPORT_DIR "/sys/kernel/config/tsm/report"
#define MEAS_DIR "/sys/devices/virtual/misc/tdx_guest/measurements"

static const char *outdir;

static void save(const char *name, const void *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", outdir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(2);
  }
}

static size_t unhex(const char *hex, uint8_t *out, size_t max) {
  size_t n = strlen(hex) / 2;
  if (n > max) n = max;
  for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
  return n;
}

static size_t load(const char *path, uint8_t *buf, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t n = fread(buf, 1, max, f);
  fclose(f);
  return n;
}

/* Reads a whole file in `chunk`-byte pieces; returns the length or -errno. */
static long read_all(const char *path, uint8_t *buf, size_t max, size_t chunk) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  size_t have = 0;
  for (;;) {
    size_t want = max - have < chunk ? max - have : chunk;
    if (want == 0) break;
    ssize_t r = read(fd, buf + have, want);
    if (r < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (r == 0) break;
    have += (size_t)r;
  }
  close(fd);
  return (long)have;
}

static long write_once(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -errno;
  ssize_t w = write(fd, data, len);
  long rc = w < 0 ? -errno : w;
  close(fd);
  return rc;
}

static long generation(const char *entry) {
  char path[512], text[64] = {0};
  snprintf(path, sizeof(path), "%s/generation", entry);
  long n = read_all(path, (uint8_t *)text, sizeof(text) - 1, sizeof(text));
  return n < 0 ? n : strtol(text, NULL, 10);
}

/* tsm NAME INBLOB_HEX [PRIVLEVEL]: the configfs-tsm sequence (SPEC-DIGEST A1.2). */
static int cmd_tsm(int argc, char **argv) {
  char entry[256], path[512];
  snprintf(entry, sizeof(entry), "%s/%s", REPORT_DIR, argv[0]);
  if (mkdir(entry, 0700) != 0) {
    printf("mkdir_errno=%d\n", errno);
    return 0;
  }
  struct stat st;
  printf("entry_is_dir=%d\n", stat(entry, &st) == 0 && S_ISDIR(st.st_mode));
  char provider[64] = {0};
  snprintf(path, sizeof(path), "%s/provider", entry);
  read_all(path, (uint8_t *)provider, sizeof(provider) - 1, 64);
  printf("provider=%s", provider);
  printf("g0=%ld\n", generation(entry));
  if (argc > 2) {
    snprintf(path, sizeof(path), "%s/privlevel", entry);
    printf("privlevel_write=%ld\n", write_once(path, argv[2], strlen(argv[2])));
  }
  uint8_t inblob[128];
  size_t n = unhex(argv[1], inblob, sizeof(inblob));
  snprintf(path, sizeof(path), "%s/inblob", entry);
  printf("inblob_write=%ld\n", write_once(path, inblob, n));
  printf("g_after_write=%ld\n", generation(entry));
  static uint8_t blob[64 * 1024];
  snprintf(path, sizeof(path), "%s/outblob", entry);
  long out = read_all(path, blob, sizeof(blob), 1000);
  printf("outblob_len=%ld\n", out);
  if (out > 0) save("outblob.bin", blob, (size_t)out);
  snprintf(path, sizeof(path), "%s/auxblob", entry);
  if (access(path, R_OK) == 0) {
    long aux = read_all(path, blob, sizeof(blob), sizeof(blob));
    printf("auxblob_len=%ld\n", aux);
    if (aux > 0) save("auxblob.bin", blob, (size_t)aux);
  }
  printf("g1=%ld\n", generation(entry));
  printf("rmdir=%d\n", rmdir(entry) == 0 ? 0 : errno);
  return 0;
}

static void print_ioctl(const char *what, int rc, int err, uint64_t exitinfo2) {
  printf("%s_rc=%d\n%s_errno=%d\n%s_fw_error=%u\n%s_vmm_error=%u\n", what, rc, what,
         rc < 0 ? err : 0, what, (unsigned)(exitinfo2 & 0xffffffffu), what,
         (unsigned)(exitinfo2 >> 32));
}

/* snp-report HEX VMPL [MSG_VERSION] */
static int cmd_snp_report(int argc, char **argv) {
  int fd = open("/dev/sev-guest", O_RDWR);
  if (fd < 0) {
    printf("open_errno=%d\n", errno);
    return 0;
  }
  struct snp_report_req req = {0};
  unhex(argv[0], req.user_data, 64);
  req.vmpl = (uint32_t)atoi(argv[1]);
  static uint8_t resp[4000];
  struct snp_guest_request_ioctl io = {.msg_version = argc > 2 ? (uint8_t)atoi(argv[2]) : 1,
                                       .req_data = (uintptr_t)&req,
                                       .resp_data = (uintptr_t)resp};
  int rc = ioctl(fd, SNP_GET_REPORT, &io);
  print_ioctl("report", rc, errno, io.exitinfo2);
  if (rc == 0) {
    uint32_t status, size;
    memcpy(&status, resp, 4);
    memcpy(&size, resp + 4, 4);
    printf("status=%u\nreport_size=%u\n", status, size);
    if (size > 0 && size <= sizeof(resp) - 0x20) save("report.bin", resp + 0x20, size);
  }
  close(fd);
  return 0;
}

/* snp-ext HEX CERTS_LEN: SNP_GET_EXT_REPORT with the buffer growth on the "too small" answer. */
static int cmd_snp_ext(int argc, char **argv) {
  (void)argc;
  int fd = open("/dev/sev-guest", O_RDWR);
  if (fd < 0) {
    printf("open_errno=%d\n", errno);
    return 0;
  }
  struct snp_ext_report_req req = {0};
  unhex(argv[0], req.data.user_data, 64);
  uint32_t len = (uint32_t)strtoul(argv[1], NULL, 0);
  static uint8_t resp[4000];
  for (int attempt = 0; attempt < 3; attempt++) {
    uint8_t *certs = len ? aligned_alloc(4096, len) : NULL;
    req.certs_address = (uintptr_t)certs;
    req.certs_len = len;
    struct snp_guest_request_ioctl io = {
        .msg_version = 1, .req_data = (uintptr_t)&req, .resp_data = (uintptr_t)resp};
    int rc = ioctl(fd, SNP_GET_EXT_REPORT, &io);
    char what[32];
    snprintf(what, sizeof(what), "attempt%d", attempt);
    print_ioctl(what, rc, errno, io.exitinfo2);
    printf("%s_certs_len=%u\n", what, req.certs_len);
    if (rc < 0 && errno == EIO && (io.exitinfo2 >> 32) == 1) {
      len = req.certs_len;
      free(certs);
      continue;
    }
    if (rc == 0) {
      uint32_t size;
      memcpy(&size, resp + 4, 4);
      if (size > 0 && size <= sizeof(resp) - 0x20) save("report.bin", resp + 0x20, size);
      if (certs) save("certs.bin", certs, len);
    }
    free(certs);
    break;
  }
  close(fd);
  return 0;
}

/* snp-key FIELD_SELECT VMPL [MSG_VERSION [GUEST_SVN [ROOT]]] */
static int cmd_snp_key(int argc, char **argv) {
  int fd = open("/dev/sev-guest", O_RDWR);
  if (fd < 0) {
    printf("open_errno=%d\n", errno);
    return 0;
  }
  struct snp_derived_key_req req = {.guest_field_select = strtoull(argv[0], NULL, 0),
                                    .vmpl = (uint32_t)atoi(argv[1])};
  if (argc > 3) req.guest_svn = (uint32_t)atoi(argv[3]);
  if (argc > 4) req.root_key_select = (uint32_t)atoi(argv[4]);
  uint8_t resp[64] = {0};
  struct snp_guest_request_ioctl io = {.msg_version = argc > 2 ? (uint8_t)atoi(argv[2]) : 1,
                                       .req_data = (uintptr_t)&req,
                                       .resp_data = (uintptr_t)resp};
  int rc = ioctl(fd, SNP_GET_DERIVED_KEY, &io);
  print_ioctl("key", rc, errno, io.exitinfo2);
  if (rc == 0) {
    uint32_t status;
    memcpy(&status, resp, 4);
    printf("status=%u\n", status);
    save("key.bin", resp + 32, 32);
  }
  close(fd);
  return 0;
}

/* tdx-report HEX */
static int cmd_tdx_report(int argc, char **argv) {
  (void)argc;
  int fd = open("/dev/tdx_guest", O_RDWR);
  if (fd < 0) {
    printf("open_errno=%d\n", errno);
    return 0;
  }
  static struct tdx_report_req req;
  unhex(argv[0], req.reportdata, 64);
  int rc = ioctl(fd, TDX_CMD_GET_REPORT0, &req);
  printf("rc=%d\nerrno=%d\n", rc, rc < 0 ? errno : 0);
  if (rc == 0) save("tdreport.bin", req.tdreport, sizeof(req.tdreport));
  printf("bad_cmd_errno=%d\n", ioctl(fd, _IOWR('T', 9, struct tdx_report_req), &req) < 0 ? errno : 0);
  close(fd);
  return 0;
}

/* rtmr INDEX HEX48: extend through sysfs, then read the register back. */
static int cmd_rtmr(int argc, char **argv) {
  (void)argc;
  char path[256];
  snprintf(path, sizeof(path), "%s/rtmr%s:sha384", MEAS_DIR, argv[0]);
  uint8_t data[48];
  unhex(argv[1], data, 48);
  printf("short_write=%ld\n", write_once(path, data, 47));
  int fd = open(path, O_WRONLY);
  long off = fd < 0 ? -errno : pwrite(fd, data, 48, 1) < 0 ? -errno : 0;
  if (fd >= 0) close(fd);
  printf("offset_write=%ld\n", off);
  printf("extend=%ld\n", write_once(path, data, 48));
  uint8_t value[64];
  long n = read_all(path, value, sizeof(value), sizeof(value));
  printf("read_len=%ld\n", n);
  if (n > 0) save("rtmr.bin", value, (size_t)n);
  n = read_all(MEAS_DIR "/mrtd:sha384", value, sizeof(value), 16);
  if (n > 0) save("mrtd.bin", value, (size_t)n);
  return 0;
}

/* nsm REQUEST_FILE RESPONSE_BUF_LEN */
static int cmd_nsm(int argc, char **argv) {
  (void)argc;
  int fd = open("/dev/nsm", O_RDWR);
  if (fd < 0) {
    printf("open_errno=%d\n", errno);
    return 0;
  }
  static uint8_t req[8192], resp[0x3000];
  size_t n = load(argv[0], req, sizeof(req));
  size_t cap = (size_t)atol(argv[1]);
  if (cap > sizeof(resp)) cap = sizeof(resp);
  struct nsm_raw raw = {{(uintptr_t)req, n}, {(uintptr_t)resp, cap}};
  int rc = ioctl(fd, NSM_IOCTL_RAW, &raw);
  printf("rc=%d\nerrno=%d\nresponse_len=%llu\n", rc, rc < 0 ? errno : 0,
         (unsigned long long)raw.response.len);
  if (rc == 0) save("response.bin", resp, raw.response.len);
  close(fd);
  return 0;
}

/* ls DIR: list an emulated directory with opendir/readdir. */
static int cmd_ls(int argc, char **argv) {
  (void)argc;
  DIR *d = opendir(argv[0]);
  if (!d) {
    printf("opendir_errno=%d\n", errno);
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) printf("entry=%s type=%d\n", e->d_name, e->d_type);
  closedir(d);
  return 0;
}

/* Several threads run whole configfs sequences at once, each under flock on its entry. */
static void *tsm_worker(void *arg) {
  long id = (long)arg;
  char entry[256], path[512];
  snprintf(entry, sizeof(entry), "%s/thread%ld", REPORT_DIR, id);
  if (mkdir(entry, 0700) != 0) return (void *)1;
  uint8_t inblob[64];
  memset(inblob, (int)id + 1, sizeof(inblob));
  snprintf(path, sizeof(path), "%s/inblob", entry);
  int lock = open(path, O_WRONLY);
  flock(lock, LOCK_EX);
  long w = write(lock, inblob, sizeof(inblob));
  close(lock);
  static uint8_t blobs[8][16384];
  snprintf(path, sizeof(path), "%s/outblob", entry);
  long n = read_all(path, blobs[id], sizeof(blobs[id]), 4096);
  char name[32];
  snprintf(name, sizeof(name), "thread%ld.bin", id);
  if (n > 0) save(name, blobs[id], (size_t)n);
  rmdir(entry);
  return (void *)(long)(w == 64 && n > 0 ? 0 : 1);
}

static int cmd_threads(int argc, char **argv) {
  (void)argc;
  long count = atol(argv[0]);
  if (count > 8) count = 8;
  pthread_t t[8];
  for (long i = 0; i < count; i++) pthread_create(&t[i], NULL, tsm_worker, (void *)i);
  int failures = 0;
  for (long i = 0; i < count; i++) {
    void *r;
    pthread_join(t[i], &r);
    failures += r != NULL;
  }
  printf("failures=%d\n", failures);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: probe OUTDIR COMMAND ARGS...\n");
    return 2;
  }
  outdir = argv[1];
  const char *cmd = argv[2];
  int n = argc - 3;
  char **args = argv + 3;
  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(cmd, "tsm") == 0 && n >= 2) return cmd_tsm(n, args);
  if (strcmp(cmd, "snp-report") == 0 && n >= 2) return cmd_snp_report(n, args);
  if (strcmp(cmd, "snp-ext") == 0 && n >= 2) return cmd_snp_ext(n, args);
  if (strcmp(cmd, "snp-key") == 0 && n >= 2) return cmd_snp_key(n, args);
  if (strcmp(cmd, "tdx-report") == 0 && n >= 1) return cmd_tdx_report(n, args);
  if (strcmp(cmd, "rtmr") == 0 && n >= 2) return cmd_rtmr(n, args);
  if (strcmp(cmd, "nsm") == 0 && n >= 2) return cmd_nsm(n, args);
  if (strcmp(cmd, "ls") == 0 && n >= 1) return cmd_ls(n, args);
  if (strcmp(cmd, "threads") == 0 && n >= 1) return cmd_threads(n, args);
  fprintf(stderr, "probe: bad command %s\n", cmd);
  return 2;
}
