// Standalone driver of the addon's pure C++ code (native/src/tee, native/src/keys), built
// by test/native/sanitizer.test.ts with -fsanitize=address,undefined. Modes:
//   keys     key generation, signing (checked with OpenSSL), sealing round trips and tampering
//   cbor     NSM response decoding of good, truncated, mutated and hostile inputs
//   devices <tdx|sev-snp|nitro|none>   the device call sequences (under the emulator,
//            or with no devices at all: every call must be kUnavailable)
// Prints "ok <n> checks" and exits 0, or names the failed check and exits 1.
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/src/keys/ec-key.h"
#include "../../native/src/keys/key-sealer.h"
#include "../../native/src/tee/abi.h"
#include "../../native/src/tee/cbor.h"
#include "../../native/src/tee/configfs-tsm.h"
#include "../../native/src/tee/detect.h"
#include "../../native/src/tee/nsm.h"
#include "../../native/src/tee/sev-guest.h"
#include "../../native/src/tee/tdx-guest.h"

namespace {

int checks = 0;
int failures = 0;

void Check(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  }
}

uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
uint32_t Next() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return static_cast<uint32_t>(rng_state);
}

// Verifies a raw r||s signature with OpenSSL from the public point alone.
bool VerifyRaw(twi::Curve curve, const std::vector<uint8_t>& point, const uint8_t* msg,
               size_t len, const std::vector<uint8_t>& sig) {
  const char* group = curve == twi::Curve::kP256 ? "prime256v1" : "secp384r1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("group", const_cast<char*>(group), 0),
      OSSL_PARAM_construct_octet_string("pub", const_cast<uint8_t*>(point.data()), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = EVP_PKEY_fromdata_init(pctx) == 1 &&
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(pctx);
  if (!ok) return false;
  size_t n = sig.size() / 2;
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(sig.data(), static_cast<int>(n), nullptr),
                 BN_bin2bn(sig.data() + n, static_cast<int>(n), nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  ok = EVP_DigestVerifyInit(m, nullptr, curve == twi::Curve::kP256 ? EVP_sha256() : EVP_sha384(),
                            nullptr, pkey) == 1 &&
       EVP_DigestVerify(m, der, static_cast<size_t>(der_len), msg, len) == 1;
  EVP_MD_CTX_free(m);
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);
  return ok;
}

void KeysMode() {
  for (twi::Curve curve : {twi::Curve::kP256, twi::Curve::kP384}) {
    for (int i = 0; i < 8; ++i) {
      std::shared_ptr<twi::EcKey> key;
      twi::Status s = twi::EcKey::Generate(curve, &key);
      Check(s.ok(), "generate: " + s.message);
      if (!key) continue;
      std::vector<uint8_t> msg(Next() % 300);
      for (auto& b : msg) b = static_cast<uint8_t>(Next());
      std::vector<uint8_t> sig;
      Check(key->Sign(msg.data(), msg.size(), &sig).ok(), "sign");
      Check(sig.size() == 2 * twi::ScalarSize(curve), "signature size");
      Check(VerifyRaw(curve, key->public_point(), msg.data(), msg.size(), sig), "verify");
      msg.push_back(1);
      Check(!VerifyRaw(curve, key->public_point(), msg.data(), msg.size(), sig), "wrong message");

      uint8_t wrap[32];
      for (auto& b : wrap) b = static_cast<uint8_t>(Next());
      twi::SnpDerivedKeyRequest d;
      d.guest_field_select = 0x9;
      std::vector<uint8_t> blob;
      Check(twi::KeySealer::Seal(*key, d, wrap, &blob).ok(), "seal");
      std::shared_ptr<twi::EcKey> back;
      Check(twi::KeySealer::Unseal(blob, wrap, &back).ok(), "unseal");
      Check(back && back->public_point() == key->public_point(), "unsealed key is the same key");
      std::vector<uint8_t> bad = blob;
      bad[Next() % bad.size()] ^= static_cast<uint8_t>(1 + Next() % 255);
      std::shared_ptr<twi::EcKey> none;
      twi::Status us = twi::KeySealer::Unseal(bad, wrap, &none);
      Check(!us.ok() && !none, "tampered blob refused");
      wrap[0] ^= 1;
      Check(!twi::KeySealer::Unseal(blob, wrap, &none).ok(), "other wrapping key refused");
      std::vector<uint8_t> cut(blob.begin(), blob.begin() + Next() % blob.size());
      Check(!twi::KeySealer::Unseal(cut, wrap, &none).ok(), "truncated blob refused");
    }
    std::vector<uint8_t> zero(twi::ScalarSize(curve), 0), ones(twi::ScalarSize(curve), 0xff);
    std::shared_ptr<twi::EcKey> k;
    Check(!twi::EcKey::FromScalar(curve, zero.data(), zero.size(), &k).ok(), "scalar 0 refused");
    Check(!twi::EcKey::FromScalar(curve, ones.data(), ones.size(), &k).ok(), "scalar >= n refused");
  }
}

std::vector<uint8_t> Text(const std::string& s) {
  std::vector<uint8_t> out;
  if (s.size() < 24) {
    out.push_back(static_cast<uint8_t>(0x60 | s.size()));
  } else {
    out.push_back(0x78);
    out.push_back(static_cast<uint8_t>(s.size()));
  }
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

std::vector<uint8_t> GoodAnswer(size_t doc_len) {
  std::vector<uint8_t> a{0xa1};
  auto t = Text("Attestation");
  a.insert(a.end(), t.begin(), t.end());
  a.push_back(0xa1);
  t = Text("document");
  a.insert(a.end(), t.begin(), t.end());
  a.push_back(0x59);
  a.push_back(static_cast<uint8_t>(doc_len >> 8));
  a.push_back(static_cast<uint8_t>(doc_len));
  for (size_t i = 0; i < doc_len; ++i) a.push_back(static_cast<uint8_t>(i));
  return a;
}

void CborMode() {
  twi::cbor::OptionalBytes ud{true, std::vector<uint8_t>(64, 7)}, nonce, pk{true, {1, 2, 3}};
  auto req = twi::cbor::EncodeAttestationRequest(ud, nonce, pk);
  Check(req.size() > 0 && req[0] == 0xa1, "request is a one-entry map");
  std::vector<uint8_t> good = GoodAnswer(300);
  twi::cbor::NsmAnswer ans;
  Check(twi::cbor::DecodeAttestationResponse(good.data(), good.size(), &ans).ok() &&
            ans.document.size() == 300,
        "good answer decodes");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    // A heap copy of exactly `cut` bytes, so any over-read is an ASan finding.
    std::vector<uint8_t> prefix(good.begin(), good.begin() + cut);
    twi::Status s = twi::cbor::DecodeAttestationResponse(prefix.data(), prefix.size(), &ans);
    Check(s.kind == twi::ErrorKind::kResponse, "truncated at " + std::to_string(cut));
  }
  std::vector<uint8_t> err{0xa1};
  auto t = Text("Error");
  err.insert(err.end(), t.begin(), t.end());
  t = Text("InvalidArgument");
  err.insert(err.end(), t.begin(), t.end());
  Check(twi::cbor::DecodeAttestationResponse(err.data(), err.size(), &ans).ok() && ans.is_error &&
            ans.error == "InvalidArgument",
        "Error answer");
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  Check(!twi::cbor::DecodeAttestationResponse(trailing.data(), trailing.size(), &ans).ok(),
        "trailing bytes refused");
  // Huge claimed lengths and deep nesting must fail without allocating or recursing far.
  std::vector<uint8_t> huge{0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o', 'n',
                            0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Check(!twi::cbor::DecodeAttestationResponse(huge.data(), huge.size(), &ans).ok(), "huge map");
  std::vector<uint8_t> deep = {0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o', 'n',
                               0xa1, 0x61, 'x'};
  for (int i = 0; i < 5000; ++i) deep.push_back(0x81);
  Check(!twi::cbor::DecodeAttestationResponse(deep.data(), deep.size(), &ans).ok(), "deep nesting");
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> m = good;
    int flips = 1 + Next() % 4;
    for (int f = 0; f < flips; ++f) m[Next() % m.size()] = static_cast<uint8_t>(Next());
    m.resize(Next() % (m.size() + 1));
    twi::cbor::DecodeAttestationResponse(m.data(), m.size(), &ans);
  }
  Check(true, "mutated answers decoded without findings");
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> table(Next() % 200);
    for (auto& b : table) b = static_cast<uint8_t>(Next() % 4 == 0 ? Next() : 0);
    size_t e = twi::SnpCertTableExtent(table.data(), table.size());
    if (e > table.size()) Check(false, "cert table extent within the buffer");
  }
}

void DevicesMode(const std::string& platform) {
  auto probes = twi::DetectPlatforms(twi::DevicePaths::Defaults());
  Check(probes.size() == 3, "three platforms probed");
  for (const auto& p : probes) {
    Check(p.usable == (p.platform == platform), "usable: " + p.platform);
  }
  uint8_t rd[64];
  for (int i = 0; i < 64; ++i) rd[i] = static_cast<uint8_t>(i);
  twi::ErrorKind absent = twi::ErrorKind::kUnavailable;

  twi::TsmReportRequest tr;
  std::memcpy(tr.inblob, rd, 64);
  tr.expected_provider = platform == "tdx" ? "tdx_guest" : "sev_guest";
  tr.want_auxblob = platform == "sev-snp";
  twi::TsmReport report;
  twi::Status s = twi::TsmGetReport(tr, &report);
  bool tsm = platform == "tdx" || platform == "sev-snp";
  Check(tsm ? s.ok() && !report.outblob.empty() : s.kind == absent, "configfs-tsm: " + s.message);
  if (platform == "sev-snp") Check(!report.auxblob.empty(), "auxblob");

  twi::SnpReportResult snp;
  s = twi::SnpGetExtReport(twi::kSevGuestPath, rd, 0, &snp);
  Check(platform == "sev-snp" ? s.ok() && snp.report.size() == 1184 && !snp.certs.empty()
                              : s.kind == absent,
        "SNP_GET_EXT_REPORT: " + s.message);
  s = twi::SnpGetReport(twi::kSevGuestPath, rd, 0, &snp);
  Check(platform == "sev-snp" ? s.ok() : s.kind == absent, "SNP_GET_REPORT: " + s.message);
  uint8_t dk[32];
  twi::SnpDerivedKeyRequest dr;
  dr.guest_field_select = 0x9;
  s = twi::SnpGetDerivedKey(twi::kSevGuestPath, dr, dk);
  Check(platform == "sev-snp" ? s.ok() : s.kind == absent, "SNP_GET_DERIVED_KEY: " + s.message);

  std::vector<uint8_t> tdreport;
  s = twi::TdxGetReport0(twi::kTdxGuestPath, rd, &tdreport);
  Check(platform == "tdx" ? s.ok() && tdreport.size() == 1024 : s.kind == absent,
        "TDX_CMD_GET_REPORT0: " + s.message);
  uint8_t digest[48] = {1};
  s = twi::TdxExtendRtmr(twi::kTdxMeasurementsDir, 3, digest);
  Check(platform == "tdx" ? s.ok() : s.kind == absent, "RTMR extend: " + s.message);
  std::vector<uint8_t> rtmr;
  s = twi::TdxReadRtmr(twi::kTdxMeasurementsDir, 3, &rtmr);
  Check(platform == "tdx" ? s.ok() && rtmr.size() == 48 : s.kind == absent, "RTMR read: " + s.message);

  twi::NsmAttestationRequest nr;
  nr.nonce = {true, std::vector<uint8_t>(rd, rd + 32)};
  std::vector<uint8_t> doc;
  s = twi::NsmGetAttestation(twi::kNsmPath, nr, &doc);
  Check(platform == "nitro" ? s.ok() && !doc.empty() : s.kind == absent, "NSM: " + s.message);
  nr.user_data = {true, std::vector<uint8_t>(513, 0)};
  s = twi::NsmGetAttestation(twi::kNsmPath, nr, &doc);
  Check(s.kind == twi::ErrorKind::kInvalid, "NSM user_data over 512 refused before the ioctl");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sanitize-driver keys|cbor|devices PLATFORM\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "keys") KeysMode();
  else if (mode == "cbor") CborMode();
  else if (mode == "devices" && argc > 2) DevicesMode(argv[2]);
  else return 2;
  std::printf("%s %d checks, %d failed\n", failures == 0 ? "ok" : "FAILED", checks, failures);
  return failures == 0 ? 0 : 1;
}
