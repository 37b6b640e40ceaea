// Sealing a key for restart: AES-256-GCM under a 32-byte key the caller derived
// (on SEV-SNP: SNP_GET_DERIVED_KEY with MEASUREMENT in guest_field_select, so only
// the same measured workload on the same chip can derive it again).
//
// Blob v1 (all integers little-endian), header authenticated as AAD:
//   0x00 "TWIK"  0x04 version u8 = 1  0x05 curve u8 (1 P-256, 2 P-384)  0x06 u16 0
//   0x08 guest_field_select u64  0x10 root_key_select u32  0x14 vmpl u32
//   0x18 guest_svn u32  0x1C u32 0  0x20 tcb_version u64
//   0x28 iv[12]  0x34 ciphertext[32|48]  then tag[16]
#ifndef TWI_NATIVE_KEYS_KEY_SEALER_H_
#define TWI_NATIVE_KEYS_KEY_SEALER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "../tee/sev-guest.h"
#include "../tee/status.h"
#include "ec-key.h"

namespace twi {

constexpr size_t kSealHeaderSize = 0x28;

class KeySealer {
 public:
  static Status Seal(const EcKey& key, const SnpDerivedKeyRequest& derivation,
                     const uint8_t wrapping_key[32], std::vector<uint8_t>* blob);
  // Reads the derivation parameters (and curve) from a blob's header.
  static Status ReadHeader(const std::vector<uint8_t>& blob, Curve* curve,
                           SnpDerivedKeyRequest* derivation);
  static Status Unseal(const std::vector<uint8_t>& blob, const uint8_t wrapping_key[32],
                       std::shared_ptr<EcKey>* out);
};

}  // namespace twi

#endif  // TWI_NATIVE_KEYS_KEY_SEALER_H_
