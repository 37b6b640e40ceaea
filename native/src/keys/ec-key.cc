#include "ec-key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <cstring>

namespace twi {

namespace {

int Nid(Curve c) { return c == Curve::kP256 ? NID_X9_62_prime256v1 : NID_secp384r1; }
const char* GroupName(Curve c) { return c == Curve::kP256 ? SN_X9_62_prime256v1 : SN_secp384r1; }
const EVP_MD* Digest(Curve c) { return c == Curve::kP256 ? EVP_sha256() : EVP_sha384(); }

Status OpenSslError(const char* what) {
  // OpenSSL's queue never holds key material, but it is cleared rather than shown.
  ERR_clear_error();
  return Status::Make(ErrorKind::kKey, std::string("OpenSSL: ") + what + " failed");
}

// Scoped OpenSSL objects used while building the key.
struct Scratch {
  EC_GROUP* group = nullptr;
  BN_CTX* ctx = nullptr;
  BIGNUM* d = nullptr;
  EC_POINT* point = nullptr;
  OSSL_PARAM_BLD* bld = nullptr;
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* pctx = nullptr;
  ~Scratch() {
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);  // clear-frees the secure block holding the scalar
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_clear_free(point);
    BN_clear_free(d);
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
  }
};

}  // namespace

size_t ScalarSize(Curve curve) { return curve == Curve::kP256 ? 32 : 48; }

bool OpenSslSecureHeapActive() { return CRYPTO_secure_malloc_initialized() == 1; }

Status EcKey::Init() {
  Scratch s;
  s.group = EC_GROUP_new_by_curve_name(Nid(curve_));
  s.ctx = BN_CTX_secure_new();
  // BN_secure_new: OpenSSL keeps the limbs in its secure heap when initialised and
  // clears them on free either way (BN_FLG_SECURE).
  s.d = BN_secure_new();
  if (!s.group || !s.ctx || !s.d) return OpenSslError("allocation");
  if (!BN_bin2bn(scalar_->data(), static_cast<int>(scalar_->size()), s.d)) {
    return OpenSslError("BN_bin2bn");
  }
  if (BN_is_zero(s.d) || BN_cmp(s.d, EC_GROUP_get0_order(s.group)) >= 0) {
    return Status::Make(ErrorKind::kKey, "private scalar out of range");
  }
  s.point = EC_POINT_new(s.group);
  if (!s.point || !EC_POINT_mul(s.group, s.point, s.d, nullptr, nullptr, s.ctx)) {
    return OpenSslError("EC_POINT_mul");
  }
  uint8_t pub[1 + 2 * 48];
  size_t pub_len = EC_POINT_point2oct(s.group, s.point, POINT_CONVERSION_UNCOMPRESSED, pub,
                                      sizeof pub, s.ctx);
  if (pub_len != 1 + 2 * ScalarSize(curve_)) return OpenSslError("EC_POINT_point2oct");
  public_point_.assign(pub, pub + pub_len);

  s.bld = OSSL_PARAM_BLD_new();
  if (!s.bld ||
      !OSSL_PARAM_BLD_push_utf8_string(s.bld, OSSL_PKEY_PARAM_GROUP_NAME, GroupName(curve_), 0) ||
      !OSSL_PARAM_BLD_push_BN(s.bld, OSSL_PKEY_PARAM_PRIV_KEY, s.d) ||
      !OSSL_PARAM_BLD_push_octet_string(s.bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len)) {
    return OpenSslError("OSSL_PARAM_BLD");
  }
  s.params = OSSL_PARAM_BLD_to_param(s.bld);
  s.pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  if (!s.params || !s.pctx || EVP_PKEY_fromdata_init(s.pctx) <= 0 ||
      EVP_PKEY_fromdata(s.pctx, &pkey_, EVP_PKEY_KEYPAIR, s.params) <= 0) {
    return OpenSslError("EVP_PKEY_fromdata");
  }
  return Status::Ok();
}

Status EcKey::Generate(Curve curve, std::shared_ptr<EcKey>* out) {
  Status st;
  auto scalar = SecureBuffer::Create(ScalarSize(curve), &st);
  if (!scalar) return st;
  std::shared_ptr<EcKey> key(new EcKey(curve, std::move(scalar)));
  // P-256's order is just below 2^256 (P-384's below 2^384): a uniform draw is out of
  // range with probability < 2^-32, so a few draws always suffice.
  for (int i = 0; i < 16; ++i) {
    if (RAND_priv_bytes(key->scalar_->data(), static_cast<int>(key->scalar_->size())) != 1) {
      return OpenSslError("RAND_priv_bytes");
    }
    st = key->Init();
    if (st.ok()) {
      *out = std::move(key);
      return st;
    }
    if (st.message != "private scalar out of range") return st;
  }
  return st;
}

Status EcKey::FromScalar(Curve curve, const uint8_t* scalar, size_t len,
                         std::shared_ptr<EcKey>* out) {
  if (len != ScalarSize(curve)) return Status::Make(ErrorKind::kKey, "scalar has the wrong size");
  Status st;
  auto buf = SecureBuffer::Create(len, &st);
  if (!buf) return st;
  std::memcpy(buf->data(), scalar, len);
  std::shared_ptr<EcKey> key(new EcKey(curve, std::move(buf)));
  st = key->Init();
  if (st.ok()) *out = std::move(key);
  return st;
}

EcKey::~EcKey() {
  EVP_PKEY_free(pkey_);  // OpenSSL clear-frees the private BIGNUM
  // scalar_'s destructor zeroises and unmaps the locked page.
}

Status EcKey::Sign(const uint8_t* data, size_t len, std::vector<uint8_t>* signature) const {
  EVP_MD_CTX* mctx = EVP_MD_CTX_new();
  if (!mctx) return OpenSslError("EVP_MD_CTX_new");
  uint8_t der[160];
  size_t der_len = sizeof der;
  int ok = EVP_DigestSignInit(mctx, nullptr, Digest(curve_), nullptr, pkey_) == 1 &&
           EVP_DigestSign(mctx, der, &der_len, data, len) == 1;
  EVP_MD_CTX_free(mctx);
  if (!ok) return OpenSslError("EVP_DigestSign");
  const uint8_t* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  if (!sig) return OpenSslError("d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  int n = static_cast<int>(ScalarSize(curve_));
  signature->assign(2 * static_cast<size_t>(n), 0);
  ok = BN_bn2binpad(r, signature->data(), n) == n && BN_bn2binpad(s, signature->data() + n, n) == n;
  ECDSA_SIG_free(sig);
  if (!ok) {
    signature->clear();
    return OpenSslError("BN_bn2binpad");
  }
  return Status::Ok();
}

#ifdef TWI_TEST_EXPORTS
std::string EcKey::TestOnlyScalarHex() const {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < scalar_->size(); ++i) {
    out.push_back(kHex[scalar_->data()[i] >> 4]);
    out.push_back(kHex[scalar_->data()[i] & 15]);
  }
  return out;
}
#endif

}  // namespace twi
