// Memory for secrets: its own anonymous mapping, locked (mlock: never swapped),
// excluded from core dumps (MADV_DONTDUMP), wiped in children after fork
// (MADV_WIPEONFORK), and zeroised before it is unmapped.
#ifndef TWI_NATIVE_KEYS_SECURE_BUFFER_H_
#define TWI_NATIVE_KEYS_SECURE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "../tee/status.h"

namespace twi {

class SecureBuffer {
 public:
  // Fails (kKey) rather than handing out memory without the guarantees, e.g. when
  // RLIMIT_MEMLOCK is exhausted.
  static std::unique_ptr<SecureBuffer> Create(size_t size, Status* status);
  ~SecureBuffer();
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  SecureBuffer(uint8_t* map, size_t map_size, size_t size)
      : data_(map), map_size_(map_size), size_(size) {}
  uint8_t* data_;
  size_t map_size_;
  size_t size_;
};

// Zeroises memory in a way the compiler may not elide.
void Wipe(void* p, size_t n);

}  // namespace twi

#endif  // TWI_NATIVE_KEYS_SECURE_BUFFER_H_
