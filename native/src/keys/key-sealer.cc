#include "key-sealer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "secure-buffer.h"

namespace twi {

namespace {

constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Status SealError(const char* what) {
  ERR_clear_error();
  return Status::Make(ErrorKind::kSeal, what);
}

// AES-256-GCM in one direction; `out` receives len bytes. On decrypt, `tag` is checked.
bool Gcm(bool encrypt, const uint8_t key[32], const uint8_t* iv, const uint8_t* aad,
         size_t aad_len, const uint8_t* in, size_t len, uint8_t* out, uint8_t* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();  // freed with its key schedule cleansed
  if (!ctx) return false;
  int n = 0;
  bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, iv, encrypt ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_len)) == 1 &&
            EVP_CipherUpdate(ctx, out, &n, in, static_cast<int>(len)) == 1 &&
            static_cast<size_t>(n) == len;
  if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) == 1;
  uint8_t final_block[16];
  ok = ok && EVP_CipherFinal_ex(ctx, final_block, &n) == 1 && n == 0;
  if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

}  // namespace

Status KeySealer::Seal(const EcKey& key, const SnpDerivedKeyRequest& d,
                       const uint8_t wrapping_key[32], std::vector<uint8_t>* blob) {
  size_t n = ScalarSize(key.curve());
  std::vector<uint8_t> out(kSealHeaderSize + kIvSize + n + kTagSize, 0);
  std::memcpy(out.data(), "TWIK", 4);
  out[4] = 1;
  out[5] = static_cast<uint8_t>(key.curve());
  Put64(&out[0x08], d.guest_field_select);
  Put32(&out[0x10], d.root_key_select);
  Put32(&out[0x14], d.vmpl);
  Put32(&out[0x18], d.guest_svn);
  Put64(&out[0x20], d.tcb_version);
  uint8_t* iv = &out[kSealHeaderSize];
  if (RAND_bytes(iv, kIvSize) != 1) return SealError("RAND_bytes failed");
  // Encrypting straight from the locked scalar into the blob: no plaintext copy.
  if (!Gcm(true, wrapping_key, iv, out.data(), kSealHeaderSize, key.scalar_->data(), n,
           iv + kIvSize, iv + kIvSize + n)) {
    return SealError("AES-256-GCM seal failed");
  }
  *blob = std::move(out);
  return Status::Ok();
}

Status KeySealer::ReadHeader(const std::vector<uint8_t>& blob, Curve* curve,
                             SnpDerivedKeyRequest* d) {
  if (blob.size() < kSealHeaderSize || std::memcmp(blob.data(), "TWIK", 4) != 0 || blob[4] != 1) {
    return Status::Make(ErrorKind::kSeal, "not a twi sealed key (magic or version)");
  }
  if (blob[5] != 1 && blob[5] != 2) return Status::Make(ErrorKind::kSeal, "sealed key: unknown curve");
  *curve = static_cast<Curve>(blob[5]);
  if (blob.size() != kSealHeaderSize + kIvSize + ScalarSize(*curve) + kTagSize) {
    return Status::Make(ErrorKind::kSeal, "sealed key has the wrong length");
  }
  d->guest_field_select = Get64(&blob[0x08]);
  d->root_key_select = Get32(&blob[0x10]);
  d->vmpl = Get32(&blob[0x14]);
  d->guest_svn = Get32(&blob[0x18]);
  d->tcb_version = Get64(&blob[0x20]);
  return Status::Ok();
}

Status KeySealer::Unseal(const std::vector<uint8_t>& blob, const uint8_t wrapping_key[32],
                         std::shared_ptr<EcKey>* out) {
  Curve curve;
  SnpDerivedKeyRequest d;
  Status s = ReadHeader(blob, &curve, &d);
  if (!s.ok()) return s;
  size_t n = ScalarSize(curve);
  auto plain = SecureBuffer::Create(n, &s);
  if (!plain) return s;
  const uint8_t* iv = &blob[kSealHeaderSize];
  uint8_t tag[kTagSize];
  std::memcpy(tag, iv + kIvSize + n, kTagSize);
  if (!Gcm(false, wrapping_key, iv, blob.data(), kSealHeaderSize, iv + kIvSize, n, plain->data(),
           tag)) {
    return Status::Make(ErrorKind::kSeal,
                        "sealed key does not open with this workload's derived key");
  }
  return EcKey::FromScalar(curve, plain->data(), n, out);
}

}  // namespace twi
