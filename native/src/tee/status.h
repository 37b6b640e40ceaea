// Result of a device or key operation: no exceptions cross the pure C++ layer,
// each call returns a Status the Node-API layer turns into a typed JS error.
#ifndef TWI_NATIVE_TEE_STATUS_H_
#define TWI_NATIVE_TEE_STATUS_H_

#include <cstdint>
#include <string>

namespace twi {

// Kinds map one to one onto the loader's error codes (native/errors.ts).
enum class ErrorKind {
  kNone,         // success
  kUnavailable,  // ERR_DEVICE_UNAVAILABLE: node or configfs tree absent, no provider, no access
  kFirmware,     // ERR_DEVICE_FIRMWARE: the TEE firmware / VMM / NSM refused (fw_error, vmm_error)
  kBusy,         // ERR_DEVICE_BUSY: contention (EBUSY, configfs generation race), retryable
  kIo,           // ERR_DEVICE_IO: any other system call failure (errno)
  kDisabled,     // ERR_DEVICE_DISABLED: SEV VMPCK wiped (ENOTTY), fatal for the VM lifetime
  kResponse,     // ERR_DEVICE_RESPONSE: malformed, truncated or oversized answer
  kInvalid,      // ERR_DEVICE_ARGUMENT: request the device cannot take (sizes, ranges)
  kKeyDisposed,  // ERR_KEY_DISPOSED
  kKey,          // ERR_KEY_STORE: key memory or OpenSSL failure
  kSeal,         // ERR_KEY_SEAL: sealed blob malformed or not unwrappable with this key
};

struct Status {
  ErrorKind kind = ErrorKind::kNone;
  int sys_errno = 0;       // errno of the failing call, 0 when none
  bool has_fw = false;     // fw_error / vmm_error are meaningful
  uint32_t fw_error = 0;   // SEV firmware status (exitinfo2[31:0]) or MSG_*_RSP status
  uint32_t vmm_error = 0;  // exitinfo2[63:32]
  std::string nsm_error;   // NSM {"Error": "..."} answer
  std::string message;

  bool ok() const { return kind == ErrorKind::kNone; }
  static Status Ok() { return Status(); }
  static Status Make(ErrorKind kind, std::string message) {
    Status s;
    s.kind = kind;
    s.message = std::move(message);
    return s;
  }
  // `what` names the call and path, e.g. "open /dev/sev-guest".
  static Status FromErrno(ErrorKind kind, int err, const std::string& what);
};

// The kind a failed open/mkdir/access of a device path means: absent → unavailable,
// contention → busy, anything else → I/O.
ErrorKind KindForOpenErrno(int err);

// "0x1f" for messages.
std::string Hex32(uint32_t v);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_STATUS_H_
