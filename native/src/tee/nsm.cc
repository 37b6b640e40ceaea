#include "nsm.h"

#include <errno.h>
#include <fcntl.h>

#include <mutex>

#include "abi.h"
#include "io.h"

namespace twi {

namespace {

std::mutex nsm_mutex;

Status CheckSizes(const NsmAttestationRequest& req) {
  auto too_big = [](const char* name, size_t have, size_t max) {
    return Status::Make(ErrorKind::kInvalid, std::string(name) + " is " + std::to_string(have) +
                                                 " bytes, at most " + std::to_string(max));
  };
  if (req.user_data.bytes.size() > abi::kNsmUserDataMax)
    return too_big("user_data", req.user_data.bytes.size(), abi::kNsmUserDataMax);
  if (req.nonce.bytes.size() > abi::kNsmNonceMax)
    return too_big("nonce", req.nonce.bytes.size(), abi::kNsmNonceMax);
  if (req.public_key.bytes.size() > abi::kNsmPublicKeyMax)
    return too_big("public_key", req.public_key.bytes.size(), abi::kNsmPublicKeyMax);
  if (req.public_key.present && req.public_key.bytes.empty())
    return Status::Make(ErrorKind::kInvalid, "public_key must not be empty");
  return Status::Ok();
}

}  // namespace

Status NsmGetAttestation(const std::string& path, const NsmAttestationRequest& req,
                         std::vector<uint8_t>* document) {
  Status s = CheckSizes(req);
  if (!s.ok()) return s;
  std::vector<uint8_t> request =
      cbor::EncodeAttestationRequest(req.user_data, req.nonce, req.public_key);
  if (request.size() > abi::kNsmRequestMax) {
    return Status::Make(ErrorKind::kInvalid, "NSM request is " + std::to_string(request.size()) +
                                                 " bytes, at most 4096");
  }
  std::lock_guard<std::mutex> lock(nsm_mutex);
  Fd fd;
  s = OpenPath(path, O_RDWR, &fd);
  if (!s.ok()) return s;
  std::vector<uint8_t> response(abi::kNsmResponseMax);
  abi::NsmRaw raw{};
  raw.request.addr = reinterpret_cast<uintptr_t>(request.data());
  raw.request.len = request.size();
  raw.response.addr = reinterpret_cast<uintptr_t>(response.data());
  raw.response.len = response.size();
  if (IoctlRetry(fd.get(), abi::kNsmIoctlRaw, &raw) != 0) {
    int err = errno;
    ErrorKind kind = err == EMSGSIZE || err == EINVAL ? ErrorKind::kInvalid
                     : err == EBUSY || err == ETIMEDOUT ? ErrorKind::kBusy
                                                        : ErrorKind::kIo;
    return Status::FromErrno(kind, err, "ioctl NSM_IOCTL_RAW");
  }
  // The driver writes back how much it copied; more than the buffer is a broken driver.
  if (raw.response.len > response.size()) {
    return Status::Make(ErrorKind::kResponse,
                        "NSM response length " + std::to_string(raw.response.len) +
                            " exceeds the " + std::to_string(response.size()) + "-byte buffer");
  }
  cbor::NsmAnswer answer;
  s = cbor::DecodeAttestationResponse(response.data(), static_cast<size_t>(raw.response.len),
                                      &answer);
  if (!s.ok()) return s;
  if (answer.is_error) {
    Status e = Status::Make(ErrorKind::kFirmware, "NSM answered Error: " + answer.error.substr(0, 64));
    e.nsm_error = answer.error.substr(0, 64);
    return e;
  }
  if (answer.document.empty()) return Status::Make(ErrorKind::kResponse, "NSM document is empty");
  *document = std::move(answer.document);
  return Status::Ok();
}

}  // namespace twi
