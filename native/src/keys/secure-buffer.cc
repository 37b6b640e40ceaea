#include "secure-buffer.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

namespace twi {

void Wipe(void* p, size_t n) { explicit_bzero(p, n); }

std::unique_ptr<SecureBuffer> SecureBuffer::Create(size_t size, Status* status) {
  long page = sysconf(_SC_PAGESIZE);
  size_t psize = page > 0 ? static_cast<size_t>(page) : 4096;
  size_t map_size = (size + psize - 1) / psize * psize;
  if (map_size == 0) map_size = psize;
  void* map = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    *status = Status::FromErrno(ErrorKind::kKey, errno, "mmap key memory");
    return nullptr;
  }
  if (madvise(map, map_size, MADV_DONTDUMP) != 0) {
    int err = errno;
    munmap(map, map_size);
    *status = Status::FromErrno(ErrorKind::kKey, err, "madvise MADV_DONTDUMP");
    return nullptr;
  }
#ifdef MADV_WIPEONFORK
  // Best effort (Linux ≥ 4.14): a forked child sees zeros instead of the key.
  madvise(map, map_size, MADV_WIPEONFORK);
#endif
  if (mlock(map, map_size) != 0) {
    int err = errno;
    munmap(map, map_size);
    *status = Status::FromErrno(ErrorKind::kKey, err, "mlock key memory (RLIMIT_MEMLOCK?)");
    return nullptr;
  }
  *status = Status::Ok();
  return std::unique_ptr<SecureBuffer>(
      new SecureBuffer(static_cast<uint8_t*>(map), map_size, size));
}

SecureBuffer::~SecureBuffer() {
  Wipe(data_, map_size_);
  munlock(data_, map_size_);
  munmap(data_, map_size_);
}

}  // namespace twi
