#include "sev-guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "abi.h"
#include "io.h"

namespace twi {

namespace {

std::mutex sev_mutex;

// exitinfo2 when the firmware was never reached: SEV_RET_NO_FW_CALL (-1, psp-sev.h)
// on current kernels, 0xff on older ones.
constexpr uint64_t kNoFwCall = ~0ULL;
constexpr uint64_t kNoFwCallLegacy = 0xff;

struct FreeDeleter {
  void operator()(uint8_t* p) const { free(p); }
};

// The kernel writes exitinfo2 back only when non-zero (sev-guest.c), so it is
// cleared before each call.
Status IssueRequest(int fd, unsigned long cmd, void* req, void* resp, const char* name,
                    abi::SnpGuestRequestIoctl* io) {
  memset(io, 0, sizeof *io);
  io->msg_version = 1;  // MSG_REPORT_REQ / MSG_KEY_REQ version 1 (the uapi carries no v2 key request)
  io->req_data = reinterpret_cast<uintptr_t>(req);
  io->resp_data = reinterpret_cast<uintptr_t>(resp);
  if (IoctlRetry(fd, cmd, io) == 0) return Status::Ok();
  int err = errno;
  ErrorKind kind;
  if (err == ENOTTY) {
    kind = ErrorKind::kDisabled;  // "VMPCK is disabled": fatal until reboot
  } else if (io->err.vmm_error == abi::kSnpVmmErrBusy || err == EBUSY || err == EAGAIN ||
             err == ETIMEDOUT) {
    kind = ErrorKind::kBusy;
  } else if (io->exitinfo2 != 0 && io->exitinfo2 != kNoFwCallLegacy &&
             io->exitinfo2 != kNoFwCall) {
    kind = ErrorKind::kFirmware;
  } else if (err == EINVAL) {
    kind = ErrorKind::kInvalid;
  } else {
    kind = ErrorKind::kIo;
  }
  Status s = Status::FromErrno(kind, err, std::string("ioctl ") + name);
  if (io->exitinfo2 != 0) {
    s.has_fw = true;
    s.fw_error = io->err.fw_error;
    s.vmm_error = io->err.vmm_error;
    s.message += " (fw_error " + Hex32(s.fw_error) + ", vmm_error " + Hex32(s.vmm_error) + ")";
  }
  return s;
}

// MSG_REPORT_RSP: status u32, report_size u32, reserved, report at 0x20.
Status TakeReport(const abi::SnpReportResp& resp, std::vector<uint8_t>* report) {
  uint32_t status, size;
  memcpy(&status, resp.data, 4);
  memcpy(&size, resp.data + 4, 4);
  if (status != 0) {
    Status s = Status::Make(ErrorKind::kFirmware, "MSG_REPORT_RSP status " + Hex32(status));
    s.has_fw = true;
    s.fw_error = status;
    return s;
  }
  if (size == 0 || size > sizeof resp.data - abi::kSnpReportRspHeader) {
    return Status::Make(ErrorKind::kResponse,
                        "MSG_REPORT_RSP report_size " + std::to_string(size) + " out of range");
  }
  const uint8_t* start = resp.data + abi::kSnpReportRspHeader;
  report->assign(start, start + size);
  return Status::Ok();
}

void FillReportReq(abi::SnpReportReq* req, const uint8_t user_data[64], uint32_t vmpl) {
  memset(req, 0, sizeof *req);
  memcpy(req->user_data, user_data, abi::kSnpUserDataSize);
  req->vmpl = vmpl;
}

Status OpenDevice(const std::string& path, Fd* fd) { return OpenPath(path, O_RDWR, fd); }

}  // namespace

size_t SnpCertTableExtent(const uint8_t* data, size_t len) {
  constexpr size_t kEntry = 24;
  size_t extent = 0;
  for (size_t at = 0; at + kEntry <= len; at += kEntry) {
    const uint8_t* e = data + at;
    bool zero = true;
    for (size_t i = 0; i < kEntry; ++i) zero = zero && e[i] == 0;
    if (zero) return extent == 0 ? 0 : std::max(extent, at + kEntry);
    uint32_t offset, length;
    memcpy(&offset, e + 16, 4);
    memcpy(&length, e + 20, 4);
    if (static_cast<uint64_t>(offset) + length > len) return len;
    extent = std::max<size_t>(extent, static_cast<size_t>(offset) + length);
  }
  return len;  // no terminator inside the buffer: keep everything
}

Status SnpGetReport(const std::string& path, const uint8_t user_data[64], uint32_t vmpl,
                    SnpReportResult* out) {
  std::lock_guard<std::mutex> lock(sev_mutex);
  Fd fd;
  Status s = OpenDevice(path, &fd);
  if (!s.ok()) return s;
  abi::SnpReportReq req;
  FillReportReq(&req, user_data, vmpl);
  auto resp = std::make_unique<abi::SnpReportResp>();
  memset(resp.get(), 0, sizeof *resp);
  abi::SnpGuestRequestIoctl io;
  out->attempts = 1;
  s = IssueRequest(fd.get(), abi::kSnpGetReport, &req, resp.get(), "SNP_GET_REPORT", &io);
  if (!s.ok()) return s;
  return TakeReport(*resp, &out->report);
}

Status SnpGetExtReport(const std::string& path, const uint8_t user_data[64], uint32_t vmpl,
                       SnpReportResult* out) {
  std::lock_guard<std::mutex> lock(sev_mutex);
  Fd fd;
  Status s = OpenDevice(path, &fd);
  if (!s.ok()) return s;
  auto resp = std::make_unique<abi::SnpReportResp>();
  uint32_t certs_len = abi::kPageSize;
  for (int attempt = 1;; ++attempt) {
    out->attempts = attempt;
    void* raw = nullptr;
    if (posix_memalign(&raw, abi::kPageSize, certs_len) != 0) {
      return Status::Make(ErrorKind::kIo, "cannot allocate the certificate buffer");
    }
    std::unique_ptr<uint8_t, FreeDeleter> certs(static_cast<uint8_t*>(raw));
    memset(certs.get(), 0, certs_len);
    memset(resp.get(), 0, sizeof *resp);
    abi::SnpExtReportReq req;
    memset(&req, 0, sizeof req);
    FillReportReq(&req.data, user_data, vmpl);
    req.certs_address = reinterpret_cast<uintptr_t>(certs.get());
    req.certs_len = certs_len;
    abi::SnpGuestRequestIoctl io;
    s = IssueRequest(fd.get(), abi::kSnpGetExtReport, &req, resp.get(), "SNP_GET_EXT_REPORT", &io);
    if (!s.ok()) {
      // "Too small": the host wrote the length it needs into certs_len (sev-guest.c).
      bool too_small = s.sys_errno == EIO && s.has_fw && s.vmm_error == abi::kSnpVmmErrInvalidLen;
      if (!too_small) return s;
      uint32_t need = req.certs_len;
      uint32_t rounded = (need + abi::kPageSize - 1) & ~(abi::kPageSize - 1);
      if (need <= certs_len || rounded > abi::kSnpCertsMax || attempt >= 3) {
        Status r = Status::Make(ErrorKind::kResponse,
                                "SNP_GET_EXT_REPORT: host asks for a " + std::to_string(need) +
                                    "-byte certificate buffer (have " + std::to_string(certs_len) +
                                    ", limit " + std::to_string(abi::kSnpCertsMax) + ")");
        r.sys_errno = EIO;
        r.has_fw = true;
        r.fw_error = s.fw_error;
        r.vmm_error = s.vmm_error;
        return r;
      }
      certs_len = rounded;
      continue;
    }
    s = TakeReport(*resp, &out->report);
    if (!s.ok()) return s;
    size_t extent = SnpCertTableExtent(certs.get(), certs_len);
    out->certs.assign(certs.get(), certs.get() + extent);
    out->certs_buffer_len = certs_len;
    return Status::Ok();
  }
}

Status SnpGetDerivedKey(const std::string& path, const SnpDerivedKeyRequest& r, uint8_t key[32]) {
  std::lock_guard<std::mutex> lock(sev_mutex);
  Fd fd;
  Status s = OpenDevice(path, &fd);
  if (!s.ok()) return s;
  abi::SnpDerivedKeyReq req;
  memset(&req, 0, sizeof req);
  req.root_key_select = r.root_key_select;
  req.guest_field_select = r.guest_field_select;
  req.vmpl = r.vmpl;
  req.guest_svn = r.guest_svn;
  req.tcb_version = r.tcb_version;
  abi::SnpDerivedKeyResp resp;
  memset(&resp, 0, sizeof resp);
  abi::SnpGuestRequestIoctl io;
  s = IssueRequest(fd.get(), abi::kSnpGetDerivedKey, &req, &resp, "SNP_GET_DERIVED_KEY", &io);
  if (s.ok()) {
    uint32_t status;
    memcpy(&status, resp.data, 4);
    if (status != 0) {
      s = Status::Make(ErrorKind::kFirmware, "MSG_KEY_RSP status " + Hex32(status));
      s.has_fw = true;
      s.fw_error = status;
    } else {
      memcpy(key, resp.data + abi::kSnpKeyRspKeyOffset, abi::kSnpDerivedKeySize);
    }
  }
  explicit_bzero(&resp, sizeof resp);
  return s;
}

}  // namespace twi
