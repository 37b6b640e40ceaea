#include "cbor.h"

namespace twi::cbor {

namespace {

constexpr int kMaxDepth = 16;

void Head(std::vector<uint8_t>* out, uint8_t major, uint64_t value) {
  uint8_t mt = static_cast<uint8_t>(major << 5);
  if (value < 24) {
    out->push_back(mt | static_cast<uint8_t>(value));
    return;
  }
  int bytes = value <= 0xff ? 1 : value <= 0xffff ? 2 : value <= 0xffffffffULL ? 4 : 8;
  out->push_back(mt | static_cast<uint8_t>(bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void Text(std::vector<uint8_t>* out, const std::string& s) {
  Head(out, 3, s.size());
  out->insert(out->end(), s.begin(), s.end());
}

void Field(std::vector<uint8_t>* out, const char* name, const OptionalBytes& v) {
  Text(out, name);
  if (!v.present) {
    out->push_back(0xf6);  // null
    return;
  }
  Head(out, 2, v.bytes.size());
  out->insert(out->end(), v.bytes.begin(), v.bytes.end());
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  bool AtEnd() const { return pos_ == len_; }

  // Reads an item head; indefinite lengths and reserved additional values fail.
  Status ReadHead(uint8_t* major, uint64_t* arg, uint8_t* simple) {
    if (pos_ >= len_) return Truncated();
    uint8_t b = data_[pos_++];
    *major = b >> 5;
    uint8_t info = b & 0x1f;
    *simple = info;
    if (info < 24) {
      *arg = info;
      return Status::Ok();
    }
    if (info > 27) return Status::Make(ErrorKind::kResponse, "NSM response: unsupported CBOR length");
    size_t n = size_t{1} << (info - 24);
    if (len_ - pos_ < n) return Truncated();
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_++];
    *arg = v;
    return Status::Ok();
  }

  Status ReadString(uint8_t want_major, std::string* text, std::vector<uint8_t>* bytes) {
    uint8_t major = 0, simple = 0;
    uint64_t n = 0;
    Status s = ReadHead(&major, &n, &simple);
    if (!s.ok()) return s;
    if (major != want_major) return Unexpected(want_major == 3 ? "a text string" : "a byte string");
    if (n > len_ - pos_) return Truncated();
    const uint8_t* p = data_ + pos_;
    if (text) text->assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    if (bytes) bytes->assign(p, p + n);
    pos_ += static_cast<size_t>(n);
    return Status::Ok();
  }

  Status ReadMapHead(uint64_t* count) {
    uint8_t major = 0, simple = 0;
    Status s = ReadHead(&major, count, &simple);
    if (!s.ok()) return s;
    if (major != 5) return Unexpected("a map");
    return Status::Ok();
  }

  Status Skip(int depth) {
    if (depth > kMaxDepth) return Status::Make(ErrorKind::kResponse, "NSM response nests too deep");
    uint8_t major = 0, simple = 0;
    uint64_t arg = 0;
    Status s = ReadHead(&major, &arg, &simple);
    if (!s.ok()) return s;
    switch (major) {
      case 0:
      case 1:
      case 7:
        return Status::Ok();
      case 2:
      case 3:
        if (arg > len_ - pos_) return Truncated();
        pos_ += static_cast<size_t>(arg);
        return Status::Ok();
      case 6:
        return Skip(depth + 1);
      default: {  // 4 array, 5 map
        uint64_t items = major == 5 ? arg * 2 : arg;
        // Each item takes at least one byte: a count beyond the rest is truncation,
        // and checking it first bounds the loop.
        if (arg > len_ - pos_ || items > len_ - pos_) return Truncated();
        for (uint64_t i = 0; i < items; ++i) {
          s = Skip(depth + 1);
          if (!s.ok()) return s;
        }
        return Status::Ok();
      }
    }
  }

 private:
  static Status Truncated() { return Status::Make(ErrorKind::kResponse, "NSM response is truncated"); }
  static Status Unexpected(const char* what) {
    return Status::Make(ErrorKind::kResponse, std::string("NSM response: expected ") + what);
  }

  const uint8_t* data_;
  size_t len_;
  size_t pos_ = 0;
};

Status DecodeAttestation(Reader* r, NsmAnswer* out) {
  uint64_t count = 0;
  Status s = r->ReadMapHead(&count);
  if (!s.ok()) return s;
  bool found = false;
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    s = r->ReadString(3, &key, nullptr);
    if (!s.ok()) return s;
    if (key == "document" && !found) {
      s = r->ReadString(2, nullptr, &out->document);
      found = true;
    } else {
      s = r->Skip(1);
    }
    if (!s.ok()) return s;
  }
  if (!found) return Status::Make(ErrorKind::kResponse, "NSM Attestation answer has no document");
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> EncodeAttestationRequest(const OptionalBytes& user_data,
                                              const OptionalBytes& nonce,
                                              const OptionalBytes& public_key) {
  std::vector<uint8_t> out;
  Head(&out, 5, 1);
  Text(&out, "Attestation");
  Head(&out, 5, 3);
  Field(&out, "user_data", user_data);
  Field(&out, "nonce", nonce);
  Field(&out, "public_key", public_key);
  return out;
}

Status DecodeAttestationResponse(const uint8_t* data, size_t len, NsmAnswer* out) {
  *out = NsmAnswer();
  Reader r(data, len);
  uint64_t count = 0;
  Status s = r.ReadMapHead(&count);
  if (!s.ok()) return s;
  if (count != 1) return Status::Make(ErrorKind::kResponse, "NSM response is not a one-entry map");
  std::string variant;
  s = r.ReadString(3, &variant, nullptr);
  if (!s.ok()) return s;
  if (variant == "Error") {
    out->is_error = true;
    s = r.ReadString(3, &out->error, nullptr);
  } else if (variant == "Attestation") {
    s = DecodeAttestation(&r, out);
  } else {
    return Status::Make(ErrorKind::kResponse, "NSM answered " + variant.substr(0, 32) +
                                                  " to an Attestation request");
  }
  if (!s.ok()) return s;
  if (!r.AtEnd()) return Status::Make(ErrorKind::kResponse, "NSM response has trailing bytes");
  return Status::Ok();
}

}  // namespace twi::cbor
