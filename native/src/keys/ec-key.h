// A non-exportable ECDSA key (P-256 / P-384). The private scalar lives in a
// SecureBuffer; nothing in this class hands it out except to the sealing code.
#ifndef TWI_NATIVE_KEYS_EC_KEY_H_
#define TWI_NATIVE_KEYS_EC_KEY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../tee/status.h"
#include "secure-buffer.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace twi {

enum class Curve { kP256 = 1, kP384 = 2 };

size_t ScalarSize(Curve curve);  // 32 or 48

class EcKey {
 public:
  // A fresh key from OpenSSL's private DRBG (RAND_priv_bytes), rejection-sampled
  // into [1, n-1].
  static Status Generate(Curve curve, std::shared_ptr<EcKey>* out);
  // A key from a scalar (an unsealed key); `scalar` is copied into secure memory.
  static Status FromScalar(Curve curve, const uint8_t* scalar, size_t len,
                           std::shared_ptr<EcKey>* out);
  ~EcKey();
  EcKey(const EcKey&) = delete;
  EcKey& operator=(const EcKey&) = delete;

  // ECDSA over SHA-256 (P-256) or SHA-384 (P-384) of `data`; the signature is the
  // raw r ‖ s of JWS ES256 / ES384 (RFC 7518 §3.4).
  Status Sign(const uint8_t* data, size_t len, std::vector<uint8_t>* signature) const;

  Curve curve() const { return curve_; }
  // Uncompressed SEC1 point 0x04 ‖ X ‖ Y.
  const std::vector<uint8_t>& public_point() const { return public_point_; }

#ifdef TWI_TEST_EXPORTS
  std::string TestOnlyScalarHex() const;
#endif

 private:
  friend class KeySealer;
  EcKey(Curve curve, std::unique_ptr<SecureBuffer> scalar)
      : curve_(curve), scalar_(std::move(scalar)) {}
  Status Init();

  Curve curve_;
  std::unique_ptr<SecureBuffer> scalar_;
  EVP_PKEY* pkey_ = nullptr;
  std::vector<uint8_t> public_point_;
};

// True when OpenSSL's secure heap is initialised (`node --secure-heap=N`): then the
// copy of the scalar inside OpenSSL's key object is in locked, non-dumpable memory too.
bool OpenSslSecureHeapActive();

}  // namespace twi

#endif  // TWI_NATIVE_KEYS_EC_KEY_H_
