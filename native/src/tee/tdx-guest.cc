#include "tdx-guest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <mutex>

#include "abi.h"
#include "io.h"

namespace twi {

namespace {

std::mutex tdx_mutex;

std::string RtmrPath(const std::string& dir, int index) {
  return dir + "/rtmr" + std::to_string(index) + ":sha384";
}

Status CheckIndex(int index) {
  if (index < 0 || index > 3) {
    return Status::Make(ErrorKind::kInvalid, "RTMR index must be 0 to 3");
  }
  return Status::Ok();
}

}  // namespace

Status TdxGetReport0(const std::string& path, const uint8_t report_data[64],
                     std::vector<uint8_t>* tdreport) {
  std::lock_guard<std::mutex> lock(tdx_mutex);
  Fd fd;
  Status s = OpenPath(path, O_RDWR, &fd);
  if (!s.ok()) return s;
  abi::TdxReportReq req;
  memset(&req, 0, sizeof req);
  memcpy(req.reportdata, report_data, abi::kTdxReportDataLen);
  if (IoctlRetry(fd.get(), abi::kTdxCmdGetReport0, &req) != 0) {
    int err = errno;
    // EIO: TDCALL[TDG.MR.REPORT] failed (tdx-guest.c); EBUSY/EAGAIN: contention.
    ErrorKind kind = err == EIO                     ? ErrorKind::kFirmware
                     : err == EBUSY || err == EAGAIN ? ErrorKind::kBusy
                     : err == EINVAL                 ? ErrorKind::kInvalid
                                                     : ErrorKind::kIo;
    return Status::FromErrno(kind, err, "ioctl TDX_CMD_GET_REPORT0");
  }
  tdreport->assign(req.tdreport, req.tdreport + abi::kTdxReportLen);
  return Status::Ok();
}

Status TdxExtendRtmr(const std::string& dir, int index, const uint8_t digest[48]) {
  Status s = CheckIndex(index);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(tdx_mutex);
  return WriteOnce(RtmrPath(dir, index), digest, abi::kTdxRtmrSize);
}

Status TdxReadRtmr(const std::string& dir, int index, std::vector<uint8_t>* value) {
  Status s = CheckIndex(index);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(tdx_mutex);
  Fd fd;
  s = OpenPath(RtmrPath(dir, index), O_RDONLY, &fd);
  if (!s.ok()) return s;
  value->assign(abi::kTdxRtmrSize, 0);
  ssize_t n;
  do {
    n = ::pread(fd.get(), value->data(), abi::kTdxRtmrSize, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    value->clear();
    return Status::FromErrno(ErrorKind::kIo, err, "pread " + RtmrPath(dir, index));
  }
  if (static_cast<size_t>(n) != abi::kTdxRtmrSize) {
    value->clear();
    return Status::Make(ErrorKind::kResponse, "RTMR " + std::to_string(index) + " read " +
                                                  std::to_string(n) + " bytes, not 48");
  }
  return Status::Ok();
}

}  // namespace twi
