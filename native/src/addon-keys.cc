// The key handle JavaScript holds: an opaque object whose methods return the
// public point and signatures. No method, property or error carries the scalar.
#include "addon-keys.h"

#include <memory>
#include <set>

#include "addon-util.h"
#include "keys/ec-key.h"
#include "keys/key-sealer.h"
#include "keys/secure-buffer.h"
#include "tee/sev-guest.h"

#ifdef TWI_TEST_EXPORTS
#include <cstdio>
#endif

namespace twi::addon {

namespace {

class KeyHandle;

// Per-environment state: the handle constructor and the live handles, disposed by
// an environment cleanup hook so keys are wiped even when finalizers do not run.
struct KeyData {
  Napi::FunctionReference constructor;
  std::set<KeyHandle*> live;
};

KeyData* Data(Napi::Env env) { return env.GetInstanceData<KeyData>(); }

const char* CurveName(Curve c) { return c == Curve::kP256 ? "P-256" : "P-384"; }

Status Disposed() { return Status::Make(ErrorKind::kKeyDisposed, "the key has been disposed"); }

class KeyHandle : public Napi::ObjectWrap<KeyHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeKeyHandle",
                       {
                           InstanceAccessor<&KeyHandle::GetCurve>("curve"),
                           InstanceAccessor<&KeyHandle::GetDisposed>("disposed"),
                           InstanceMethod<&KeyHandle::PublicPoint>("publicPoint"),
                           InstanceMethod<&KeyHandle::SignSync>("signSync"),
                           InstanceMethod<&KeyHandle::Sign>("sign"),
                           InstanceMethod<&KeyHandle::Dispose>("dispose"),
                       });
  }

  // Only native code can construct a handle: it passes the key as an External.
  explicit KeyHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KeyHandle>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      Napi::TypeError::New(info.Env(), "keys are created with generateKey()")
          .ThrowAsJavaScriptException();
      return;
    }
    auto* key = info[0].As<Napi::External<std::shared_ptr<EcKey>>>().Data();
    key_ = *key;
    curve_ = key_->curve();
    data_ = Data(info.Env());
    data_->live.insert(this);
  }
  ~KeyHandle() override {
    if (data_) data_->live.erase(this);
  }

  static Napi::Value NewInstance(Napi::Env env, std::shared_ptr<EcKey> key) {
    std::shared_ptr<EcKey> holder = std::move(key);
    Napi::External<std::shared_ptr<EcKey>> ext =
        Napi::External<std::shared_ptr<EcKey>>::New(env, &holder);
    // The constructor copies the shared_ptr before `holder` goes out of scope.
    return Data(env)->constructor.New({ext});
  }

  static KeyHandle* FromValue(Napi::Env env, Napi::Value v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env)->constructor.Value())) {
      return nullptr;
    }
    return Unwrap(v.As<Napi::Object>());
  }

  std::shared_ptr<EcKey> key() const { return key_; }
  void Release() { key_.reset(); }

 private:
  Napi::Value GetCurve(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), CurveName(curve_));
  }
  Napi::Value GetDisposed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !key_);
  }
  Napi::Value PublicPoint(const Napi::CallbackInfo& info) {
    if (!key_) return Throw(info.Env(), Disposed());
    return ToBuffer(info.Env(), key_->public_point());
  }
  Napi::Value SignSync(const Napi::CallbackInfo& info);
  Napi::Value Sign(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    // A sign already queued keeps its reference and finishes; the scalar is wiped
    // when the last reference goes.
    key_.reset();
    return info.Env().Undefined();
  }
  static Napi::Value Throw(Napi::Env env, const Status& s) {
    Napi::Error(env, MakeError(env, s)).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  std::shared_ptr<EcKey> key_;
  Curve curve_ = Curve::kP256;
  KeyData* data_ = nullptr;
};

constexpr size_t kMaxSignInput = 64 * 1024 * 1024;

Napi::Value KeyHandle::SignSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!key_) return Throw(env, Disposed());
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "data must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  std::vector<uint8_t> sig;
  Status s = key_->Sign(data.Data(), data.ByteLength(), &sig);
  if (!s.ok()) return Throw(env, s);
  return ToBuffer(env, sig);
}

class SignWorker : public PromiseWorker {
 public:
  SignWorker(Napi::Env env, std::shared_ptr<EcKey> key, std::vector<uint8_t> data)
      : PromiseWorker(env, "twi.sign"), key_(std::move(key)), data_(std::move(data)) {}

 protected:
  Status Run() override {
    Status s = key_->Sign(data_.data(), data_.size(), &sig_);
    key_.reset();
    return s;
  }
  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, sig_); }

 private:
  std::shared_ptr<EcKey> key_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> sig_;
};

Napi::Value KeyHandle::Sign(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!key_) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(MakeError(env, Disposed()));
    return d.Promise();
  }
  std::vector<uint8_t> data;
  if (!GetBytes(info, 0, "data", 0, kMaxSignInput, &data)) return env.Undefined();
  return (new SignWorker(env, key_, std::move(data)))->Start();
}

Napi::Value GenerateKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name =
      info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name != "P-256" && name != "P-384") {
    Napi::TypeError::New(env, "curve must be P-256 or P-384").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::shared_ptr<EcKey> key;
  Status s = EcKey::Generate(name == "P-256" ? Curve::kP256 : Curve::kP384, &key);
  if (!s.ok()) {
    Napi::Error(env, MakeError(env, s)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return KeyHandle::NewInstance(env, std::move(key));
}

// Gets the SNP derived key into locked memory, wiped when the worker is destroyed.
Status DeriveWrappingKey(const SnpDerivedKeyRequest& req, std::unique_ptr<SecureBuffer>* out) {
  Status s;
  *out = SecureBuffer::Create(32, &s);
  if (!*out) return s;
  return SnpGetDerivedKey(kSevGuestPath, req, (*out)->data());
}

class SealWorker : public PromiseWorker {
 public:
  SealWorker(Napi::Env env, std::shared_ptr<EcKey> key, SnpDerivedKeyRequest req)
      : PromiseWorker(env, "twi.sealKey"), key_(std::move(key)), req_(req) {}

 protected:
  Status Run() override {
    std::unique_ptr<SecureBuffer> wrap;
    Status s = DeriveWrappingKey(req_, &wrap);
    if (s.ok()) s = KeySealer::Seal(*key_, req_, wrap->data(), &blob_);
    key_.reset();
    return s;
  }
  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, blob_); }

 private:
  std::shared_ptr<EcKey> key_;
  SnpDerivedKeyRequest req_;
  std::vector<uint8_t> blob_;
};

class UnsealWorker : public PromiseWorker {
 public:
  UnsealWorker(Napi::Env env, std::vector<uint8_t> blob)
      : PromiseWorker(env, "twi.unsealKey"), blob_(std::move(blob)) {}

 protected:
  Status Run() override {
    Curve curve;
    SnpDerivedKeyRequest req;
    Status s = KeySealer::ReadHeader(blob_, &curve, &req);
    if (!s.ok()) return s;
    std::unique_ptr<SecureBuffer> wrap;
    s = DeriveWrappingKey(req, &wrap);
    if (!s.ok()) return s;
    return KeySealer::Unseal(blob_, wrap->data(), &key_);
  }
  Napi::Value Result(Napi::Env env) override { return KeyHandle::NewInstance(env, std::move(key_)); }

 private:
  std::vector<uint8_t> blob_;
  std::shared_ptr<EcKey> key_;
};

// sealKey(handle, guestFieldSelect (as two u32: lo, hi), rootKeySelect, vmpl, guestSvn,
//         tcbVersion lo, tcbVersion hi)
Napi::Value SealKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KeyHandle* h = info.Length() > 0 ? KeyHandle::FromValue(env, info[0]) : nullptr;
  if (!h) {
    Napi::TypeError::New(env, "sealKey needs a key handle").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t gfs_lo, gfs_hi, root, vmpl, svn, tcb_lo, tcb_hi;
  if (!GetUint32(info, 1, "guestFieldSelect", &gfs_lo) ||
      !GetUint32(info, 2, "guestFieldSelect", &gfs_hi) ||
      !GetUint32(info, 3, "rootKeySelect", &root) || !GetUint32(info, 4, "vmpl", &vmpl) ||
      !GetUint32(info, 5, "guestSvn", &svn) || !GetUint32(info, 6, "tcbVersion", &tcb_lo) ||
      !GetUint32(info, 7, "tcbVersion", &tcb_hi)) {
    return env.Undefined();
  }
  auto key = h->key();
  if (!key) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(MakeError(env, Disposed()));
    return d.Promise();
  }
  SnpDerivedKeyRequest req;
  req.guest_field_select = (static_cast<uint64_t>(gfs_hi) << 32) | gfs_lo;
  req.root_key_select = root;
  req.vmpl = vmpl;
  req.guest_svn = svn;
  req.tcb_version = (static_cast<uint64_t>(tcb_hi) << 32) | tcb_lo;
  return (new SealWorker(env, std::move(key), req))->Start();
}

Napi::Value UnsealKey(const Napi::CallbackInfo& info) {
  std::vector<uint8_t> blob;
  if (!GetBytes(info, 0, "sealed", 1, 4096, &blob)) return info.Env().Undefined();
  return (new UnsealWorker(info.Env(), std::move(blob)))->Start();
}

Napi::Value KeyStoreInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("secureHeap", OpenSslSecureHeapActive());
  o.Set("liveKeys", static_cast<double>(Data(info.Env())->live.size()));
  return o;
}

#ifdef TWI_TEST_EXPORTS
// Test builds only (compiled by test/native, never by binding.gyp): writes the scalar
// as hex to a file, so a test can search a heap snapshot for it without the scalar
// ever being a JavaScript value.
Napi::Value TestWriteScalar(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KeyHandle* h = info.Length() > 1 ? KeyHandle::FromValue(env, info[0]) : nullptr;
  if (!h || !info[1].IsString() || !h->key()) {
    Napi::TypeError::New(env, "testWriteScalar(handle, path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string hex = h->key()->TestOnlyScalarHex();
  FILE* f = fopen(info[1].As<Napi::String>().Utf8Value().c_str(), "w");
  if (f) {
    fputs(hex.c_str(), f);
    fclose(f);
  }
  Wipe(&hex[0], hex.size());
  return Napi::Boolean::New(env, f != nullptr);
}
#endif

}  // namespace

void RegisterKeys(Napi::Env env, Napi::Object exports) {
  auto* data = new KeyData();
  data->constructor = Napi::Persistent(KeyHandle::Define(env));
  env.SetInstanceData<KeyData>(data);
  // Wipes every key still alive when the environment (worker or process) shuts down.
  env.AddCleanupHook([data]() {
    for (KeyHandle* h : data->live) h->Release();
  });
  exports.Set("generateKey", Napi::Function::New(env, GenerateKey, "generateKey"));
  exports.Set("sealKey", Napi::Function::New(env, SealKey, "sealKey"));
  exports.Set("unsealKey", Napi::Function::New(env, UnsealKey, "unsealKey"));
  exports.Set("keyStoreInfo", Napi::Function::New(env, KeyStoreInfo, "keyStoreInfo"));
#ifdef TWI_TEST_EXPORTS
  exports.Set("testWriteScalar", Napi::Function::New(env, TestWriteScalar, "testWriteScalar"));
#endif
}

}  // namespace twi::addon
