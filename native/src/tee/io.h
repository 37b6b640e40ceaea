// Plain libc file access for the device paths. Only open, read, write, pread,
// close, ioctl, mkdir, rmdir and access are used, so that the device emulator
// (an LD_PRELOAD library intercepting exactly those calls) sees every step.
#ifndef TWI_NATIVE_TEE_IO_H_
#define TWI_NATIVE_TEE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace twi {

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC; absent paths are kUnavailable.
Status OpenPath(const std::string& path, int flags, Fd* out);

// True when access(path, F_OK) succeeds.
bool PathExists(const std::string& path);

// Reads the whole file; more than `max` bytes is kResponse (never an unbounded buffer).
Status ReadWhole(const std::string& path, size_t max, std::vector<uint8_t>* out);

// Reads a short text attribute, trailing newline removed.
Status ReadText(const std::string& path, size_t max, std::string* out);

// Writes `len` bytes in one write(2) at offset 0 of a fresh descriptor, then close(2),
// whose result counts (configfs commits on release); a short write is kIo.
Status WriteOnce(const std::string& path, const uint8_t* data, size_t len);

// ioctl(2), retried on EINTR; returns -1 with errno set on failure.
int IoctlRetry(int fd, unsigned long request, void* arg);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_IO_H_
