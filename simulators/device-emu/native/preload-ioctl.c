/*
 * ioctls on the emulated device nodes. The library copies the caller's structures in and
 * the backend's answers out exactly where the kernel would (copy_from_user/copy_to_user
 * in drivers/virt/coco/sev-guest/sev-guest.c, drivers/virt/coco/tdx-guest/tdx-guest.c,
 * drivers/misc/nsm.c); every decision (errno, fw_error/vmm_error, what is written back)
 * is the backend's, so the C side only marshals.
 *
 * The structures are copies of the uapi headers, checked here against the sizes and
 * ioctl numbers those headers define.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include "devemu.h"

#include <linux/ioctl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- include/uapi/linux/sev-guest.h --------------------------------------------------- */

struct devemu_snp_report_req {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct devemu_snp_report_resp {
  uint8_t data[4000];
};
struct devemu_snp_derived_key_req {
  uint32_t root_key_select;
  uint32_t rsvd;
  uint64_t guest_field_select;
  uint32_t vmpl;
  uint32_t guest_svn;
  uint64_t tcb_version;
};
struct devemu_snp_derived_key_resp {
  uint8_t data[64];
};
struct devemu_snp_guest_request_ioctl {
  uint8_t msg_version; /* 7 bytes of padding follow: the struct is not packed */
  uint64_t req_data;
  uint64_t resp_data;
  union {
    uint64_t exitinfo2;
    struct {
      uint32_t fw_error;
      uint32_t vmm_error;
    };
  };
};
struct devemu_snp_ext_report_req {
  struct devemu_snp_report_req data;
  uint64_t certs_address;
  uint32_t certs_len;
};

#define DEVEMU_SNP_GET_REPORT _IOWR('S', 0x0, struct devemu_snp_guest_request_ioctl)
#define DEVEMU_SNP_GET_DERIVED_KEY _IOWR('S', 0x1, struct devemu_snp_guest_request_ioctl)
#define DEVEMU_SNP_GET_EXT_REPORT _IOWR('S', 0x2, struct devemu_snp_guest_request_ioctl)

/* Sizes from include/uapi/linux/sev-guest.h (x86-64); SPEC-DIGEST A2.1. */
_Static_assert(sizeof(struct devemu_snp_report_req) == 96, "snp_report_req is 96 bytes");
_Static_assert(sizeof(struct devemu_snp_report_resp) == 4000, "snp_report_resp is 4000 bytes");
_Static_assert(sizeof(struct devemu_snp_derived_key_req) == 32, "snp_derived_key_req is 32 bytes");
_Static_assert(sizeof(struct devemu_snp_derived_key_resp) == 64, "snp_derived_key_resp is 64");
_Static_assert(sizeof(struct devemu_snp_guest_request_ioctl) == 32, "snp_guest_request_ioctl 32");
_Static_assert(offsetof(struct devemu_snp_guest_request_ioctl, exitinfo2) == 0x18, "exitinfo2");
_Static_assert(sizeof(struct devemu_snp_ext_report_req) == 112, "snp_ext_report_req is 112");
_Static_assert(offsetof(struct devemu_snp_ext_report_req, certs_len) == 0x68, "certs_len");
_Static_assert(DEVEMU_SNP_GET_REPORT == 0xC0205300u, "SNP_GET_REPORT");
_Static_assert(DEVEMU_SNP_GET_DERIVED_KEY == 0xC0205301u, "SNP_GET_DERIVED_KEY");
_Static_assert(DEVEMU_SNP_GET_EXT_REPORT == 0xC0205302u, "SNP_GET_EXT_REPORT");

#if __has_include(<linux/sev-guest.h>)
/* When the build host has the header, hold the copies to it as well. */
#include <linux/sev-guest.h>
_Static_assert(sizeof(struct snp_report_req) == sizeof(struct devemu_snp_report_req), "uapi");
_Static_assert(sizeof(struct snp_ext_report_req) == sizeof(struct devemu_snp_ext_report_req),
               "uapi");
_Static_assert(sizeof(struct snp_guest_request_ioctl) ==
                   sizeof(struct devemu_snp_guest_request_ioctl),
               "uapi");
_Static_assert(SNP_GET_REPORT == DEVEMU_SNP_GET_REPORT, "uapi SNP_GET_REPORT");
_Static_assert(SNP_GET_DERIVED_KEY == DEVEMU_SNP_GET_DERIVED_KEY, "uapi SNP_GET_DERIVED_KEY");
_Static_assert(SNP_GET_EXT_REPORT == DEVEMU_SNP_GET_EXT_REPORT, "uapi SNP_GET_EXT_REPORT");
#endif

/* ---- include/uapi/linux/tdx-guest.h --------------------------------------------------- */

struct devemu_tdx_report_req {
  uint8_t reportdata[64];
  uint8_t tdreport[1024];
};
#define DEVEMU_TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct devemu_tdx_report_req)
_Static_assert(sizeof(struct devemu_tdx_report_req) == 1088, "tdx_report_req is 1088 bytes");
_Static_assert(DEVEMU_TDX_CMD_GET_REPORT0 == 0xC4405401u, "TDX_CMD_GET_REPORT0");

/* ---- include/uapi/linux/nsm.h --------------------------------------------------------- */

struct devemu_nsm_iovec {
  uint64_t addr;
  uint64_t len;
};
struct devemu_nsm_raw {
  struct devemu_nsm_iovec request;
  struct devemu_nsm_iovec response;
};
#define DEVEMU_NSM_MAGIC 0x0A
#define DEVEMU_NSM_REQUEST_MAX_SIZE 0x1000
#define DEVEMU_NSM_IOCTL_RAW _IOWR(DEVEMU_NSM_MAGIC, 0x0, struct devemu_nsm_raw)
_Static_assert(sizeof(struct devemu_nsm_raw) == 32, "nsm_raw is 32 bytes");
_Static_assert(DEVEMU_NSM_IOCTL_RAW == 0xC0200A00u, "NSM_IOCTL_RAW");

/* Request flags for the backend. */
#define DEVEMU_IOCTL_REQ_NULL 1u  /* snp: req_data was 0 */
#define DEVEMU_IOCTL_RESP_NULL 2u /* snp: resp_data was 0 */
/* Response flags. */
#define DEVEMU_IOCTL_WRITE_EXITINFO2 1u /* copy the ioctl struct back with exitinfo2 = value */
#define DEVEMU_IOCTL_WRITE_CERTS_LEN 2u /* snp ext report: certs_len = value2 */

static int call_ioctl(struct devemu_file *f, unsigned long cmd, uint32_t flags, uint64_t offset,
                      const void *data, size_t len, struct devemu_resp *r) {
  struct devemu_req_hdr h = {.op = DEVEMU_OP_IOCTL,
                             .flags = flags,
                             .handle = f->handle,
                             .offset = offset,
                             .arg = cmd,
                             .data_len = (uint32_t)len};
  return devemu_call(&h, NULL, data, r);
}

static size_t snp_req_size(unsigned long cmd) {
  if (cmd == DEVEMU_SNP_GET_REPORT) return sizeof(struct devemu_snp_report_req);
  if (cmd == DEVEMU_SNP_GET_DERIVED_KEY) return sizeof(struct devemu_snp_derived_key_req);
  if (cmd == DEVEMU_SNP_GET_EXT_REPORT) return sizeof(struct devemu_snp_ext_report_req);
  return 0;
}

static size_t snp_resp_size(unsigned long cmd) {
  if (cmd == DEVEMU_SNP_GET_DERIVED_KEY) return sizeof(struct devemu_snp_derived_key_resp);
  return sizeof(struct devemu_snp_report_resp);
}

/* The kernel reads the 32-byte snp_guest_request_ioctl for every command on this node. */
static int snp_ioctl(struct devemu_file *f, unsigned long cmd, void *arg) {
  if (arg == NULL) return devemu_fail(EFAULT);
  struct devemu_snp_guest_request_ioctl io;
  memcpy(&io, arg, sizeof(io));
  uint8_t msg[1 + sizeof(struct devemu_snp_ext_report_req)];
  size_t req_len = snp_req_size(cmd);
  uint32_t flags = 0;
  msg[0] = io.msg_version;
  if (io.req_data == 0) flags |= DEVEMU_IOCTL_REQ_NULL;
  if (io.resp_data == 0) flags |= DEVEMU_IOCTL_RESP_NULL;
  if (io.req_data == 0) req_len = 0;
  if (req_len) memcpy(msg + 1, (const void *)(uintptr_t)io.req_data, req_len);
  struct devemu_resp r;
  if (call_ioctl(f, cmd, flags, 0, msg, 1 + req_len, &r) != 0) return -1;
  int rc = r.h.err ? devemu_fail(r.h.err) : 0;
  if (r.h.len1 && io.resp_data && r.h.len1 <= snp_resp_size(cmd))
    memcpy((void *)(uintptr_t)io.resp_data, r.data1, r.h.len1);
  if (cmd == DEVEMU_SNP_GET_EXT_REPORT && io.req_data) {
    struct devemu_snp_ext_report_req *ext = (void *)(uintptr_t)io.req_data;
    if (r.h.len2 && ext->certs_address && r.h.len2 <= ext->certs_len)
      memcpy((void *)(uintptr_t)ext->certs_address, r.data2, r.h.len2);
    if (r.h.flags & DEVEMU_IOCTL_WRITE_CERTS_LEN) ext->certs_len = (uint32_t)r.h.value2;
  }
  if (r.h.flags & DEVEMU_IOCTL_WRITE_EXITINFO2) {
    io.exitinfo2 = r.h.value;
    memcpy(arg, &io, sizeof(io));
  }
  devemu_resp_free(&r);
  return rc;
}

static int tdx_ioctl(struct devemu_file *f, unsigned long cmd, void *arg) {
  struct devemu_tdx_report_req *req = arg;
  int known = cmd == DEVEMU_TDX_CMD_GET_REPORT0;
  if (known && arg == NULL) return devemu_fail(EFAULT);
  struct devemu_resp r;
  if (call_ioctl(f, cmd, 0, 0, known ? req->reportdata : NULL, known ? 64 : 0, &r) != 0)
    return -1;
  int rc = r.h.err ? devemu_fail(r.h.err) : 0;
  if (rc == 0 && known && r.h.len1 == sizeof(req->tdreport))
    memcpy(req->tdreport, r.data1, r.h.len1);
  devemu_resp_free(&r);
  return rc;
}

static int nsm_ioctl(struct devemu_file *f, unsigned long cmd, void *arg) {
  int known = cmd == DEVEMU_NSM_IOCTL_RAW;
  if (known && arg == NULL) return devemu_fail(EFAULT);
  struct devemu_nsm_raw raw = {{0, 0}, {0, 0}};
  if (known) memcpy(&raw, arg, sizeof(raw));
  /*
   * Never copy more than one byte past the device's limit: the backend then sees that the
   * request was too long (EMSGSIZE, nsm.c fill_req_raw) without an unbounded copy here.
   */
  size_t len = raw.request.len > DEVEMU_NSM_REQUEST_MAX_SIZE ? DEVEMU_NSM_REQUEST_MAX_SIZE + 1
                                                             : (size_t)raw.request.len;
  if (raw.request.addr == 0) len = 0;
  struct devemu_resp r;
  if (call_ioctl(f, cmd, 0, raw.request.len, (const void *)(uintptr_t)raw.request.addr, len,
                 &r) != 0)
    return -1;
  int rc = r.h.err ? devemu_fail(r.h.err) : 0;
  if (rc == 0 && known) {
    size_t n = r.h.len1 < raw.response.len ? r.h.len1 : (size_t)raw.response.len;
    if (n && raw.response.addr) memcpy((void *)(uintptr_t)raw.response.addr, r.data1, n);
    raw.response.len = n;
    memcpy(arg, &raw, sizeof(raw));
  }
  devemu_resp_free(&r);
  return rc;
}

int devemu_ioctl(struct devemu_file *f, unsigned long cmd, void *arg) {
  if (strcmp(f->path, "/dev/sev-guest") == 0) return snp_ioctl(f, cmd, arg);
  if (strcmp(f->path, "/dev/tdx_guest") == 0) return tdx_ioctl(f, cmd, arg);
  if (strcmp(f->path, "/dev/nsm") == 0) return nsm_ioctl(f, cmd, arg);
  /* configfs and sysfs attributes have no ioctl: the VFS answers ENOTTY. */
  return devemu_fail(ENOTTY);
}
