// Node-API layer over the device code: arguments copied on the JS thread, the
// blocking calls in Execute() on the libuv pool, Promises settled on the JS thread.
#include "addon-devices.h"

#include <cstring>

#include "addon-util.h"
#include "tee/configfs-tsm.h"
#include "tee/detect.h"
#include "tee/nsm.h"
#include "tee/sev-guest.h"
#include "tee/tdx-guest.h"

namespace twi::addon {

namespace {

class DetectWorker : public PromiseWorker {
 public:
  explicit DetectWorker(Napi::Env env) : PromiseWorker(env, "twi.detectPlatforms") {}

 protected:
  Status Run() override {
    probes_ = DetectPlatforms(DevicePaths::Defaults());
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, probes_.size());
    for (size_t i = 0; i < probes_.size(); ++i) {
      const PlatformProbe& p = probes_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("platform", p.platform);
      o.Set("usable", p.usable);
      Napi::Array ifs = Napi::Array::New(env, p.interfaces.size());
      for (size_t j = 0; j < p.interfaces.size(); ++j) {
        const InterfaceProbe& f = p.interfaces[j];
        Napi::Object io = Napi::Object::New(env);
        io.Set("name", f.name);
        io.Set("path", f.path);
        io.Set("present", f.present);
        io.Set("usable", f.usable);
        io.Set("detail", f.detail);
        if (f.sys_errno != 0) io.Set("errno", f.sys_errno);
        ifs.Set(static_cast<uint32_t>(j), io);
      }
      o.Set("interfaces", ifs);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

 private:
  std::vector<PlatformProbe> probes_;
};

class TsmWorker : public PromiseWorker {
 public:
  TsmWorker(Napi::Env env, TsmReportRequest req)
      : PromiseWorker(env, "twi.tsmReport"), req_(std::move(req)) {}

 protected:
  Status Run() override { return TsmGetReport(req_, &report_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("provider", report_.provider);
    o.Set("outblob", ToBuffer(env, report_.outblob));
    o.Set("auxblob", ToBuffer(env, report_.auxblob));
    o.Set("generation", static_cast<double>(report_.generation));
    o.Set("attempts", report_.attempts);
    return o;
  }

 private:
  TsmReportRequest req_;
  TsmReport report_;
};

class SnpReportWorker : public PromiseWorker {
 public:
  SnpReportWorker(Napi::Env env, std::vector<uint8_t> user_data, uint32_t vmpl, bool extended)
      : PromiseWorker(env, "twi.snpGetReport"),
        user_data_(std::move(user_data)),
        vmpl_(vmpl),
        extended_(extended) {}

 protected:
  Status Run() override {
    return extended_ ? SnpGetExtReport(kSevGuestPath, user_data_.data(), vmpl_, &result_)
                     : SnpGetReport(kSevGuestPath, user_data_.data(), vmpl_, &result_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("report", ToBuffer(env, result_.report));
    o.Set("certs", ToBuffer(env, result_.certs));
    o.Set("certsBufferLength", result_.certs_buffer_len);
    o.Set("attempts", result_.attempts);
    return o;
  }

 private:
  std::vector<uint8_t> user_data_;
  uint32_t vmpl_;
  bool extended_;
  SnpReportResult result_;
};

class TdxReportWorker : public PromiseWorker {
 public:
  TdxReportWorker(Napi::Env env, std::vector<uint8_t> report_data)
      : PromiseWorker(env, "twi.tdxGetReport0"), report_data_(std::move(report_data)) {}

 protected:
  Status Run() override { return TdxGetReport0(kTdxGuestPath, report_data_.data(), &tdreport_); }
  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, tdreport_); }

 private:
  std::vector<uint8_t> report_data_;
  std::vector<uint8_t> tdreport_;
};

class RtmrWorker : public PromiseWorker {
 public:
  RtmrWorker(Napi::Env env, int index, std::vector<uint8_t> digest)
      : PromiseWorker(env, "twi.tdxRtmr"), index_(index), digest_(std::move(digest)) {}

 protected:
  Status Run() override {
    if (digest_.empty()) return TdxReadRtmr(kTdxMeasurementsDir, index_, &value_);
    return TdxExtendRtmr(kTdxMeasurementsDir, index_, digest_.data());
  }
  Napi::Value Result(Napi::Env env) override {
    if (digest_.empty()) return ToBuffer(env, value_);
    return env.Undefined();
  }

 private:
  int index_;
  std::vector<uint8_t> digest_;  // empty: read
  std::vector<uint8_t> value_;
};

class NsmWorker : public PromiseWorker {
 public:
  NsmWorker(Napi::Env env, NsmAttestationRequest req)
      : PromiseWorker(env, "twi.nsmGetAttestation"), req_(std::move(req)) {}

 protected:
  Status Run() override { return NsmGetAttestation(kNsmPath, req_, &document_); }
  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, document_); }

 private:
  NsmAttestationRequest req_;
  std::vector<uint8_t> document_;
};

Napi::Value Detect(const Napi::CallbackInfo& info) {
  return (new DetectWorker(info.Env()))->Start();
}

// tsmReport(inblob: Uint8Array(64), provider: string, auxblob: boolean)
Napi::Value TsmReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint8_t> inblob;
  if (!GetBytes(info, 0, "inblob", 64, 64, &inblob)) return env.Undefined();
  if (info.Length() < 3 || !info[1].IsString() || !info[2].IsBoolean()) {
    Napi::TypeError::New(env, "tsmReport(inblob, provider, auxblob)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  TsmReportRequest req;
  std::memcpy(req.inblob, inblob.data(), 64);
  req.expected_provider = info[1].As<Napi::String>().Utf8Value();
  req.want_auxblob = info[2].As<Napi::Boolean>().Value();
  return (new TsmWorker(env, std::move(req)))->Start();
}

// snpGetReport(userData: Uint8Array(64), vmpl: number, extended: boolean)
Napi::Value SnpReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint8_t> user_data;
  uint32_t vmpl;
  if (!GetBytes(info, 0, "userData", 64, 64, &user_data) || !GetUint32(info, 1, "vmpl", &vmpl)) {
    return env.Undefined();
  }
  bool extended = info.Length() > 2 && info[2].ToBoolean().Value();
  return (new SnpReportWorker(env, std::move(user_data), vmpl, extended))->Start();
}

Napi::Value TdxReport(const Napi::CallbackInfo& info) {
  std::vector<uint8_t> report_data;
  if (!GetBytes(info, 0, "reportData", 64, 64, &report_data)) return info.Env().Undefined();
  return (new TdxReportWorker(info.Env(), std::move(report_data)))->Start();
}

Napi::Value TdxExtend(const Napi::CallbackInfo& info) {
  uint32_t index;
  std::vector<uint8_t> digest;
  if (!GetUint32(info, 0, "index", &index) || !GetBytes(info, 1, "digest", 48, 48, &digest)) {
    return info.Env().Undefined();
  }
  return (new RtmrWorker(info.Env(), static_cast<int>(index), std::move(digest)))->Start();
}

Napi::Value TdxRead(const Napi::CallbackInfo& info) {
  uint32_t index;
  if (!GetUint32(info, 0, "index", &index)) return info.Env().Undefined();
  return (new RtmrWorker(info.Env(), static_cast<int>(index), {}))->Start();
}

bool OptionalBytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t max,
                      cbor::OptionalBytes* out) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return true;
  out->present = true;
  return GetBytes(info, i, name, 0, max, &out->bytes);
}

// nsmGetAttestation(userData | null, nonce | null, publicKey | null)
Napi::Value NsmAttestation(const Napi::CallbackInfo& info) {
  NsmAttestationRequest req;
  // Limits are enforced by the device code (kInvalid); the argument layer only bounds copies.
  if (!OptionalBytesArg(info, 0, "userData", 1 << 16, &req.user_data) ||
      !OptionalBytesArg(info, 1, "nonce", 1 << 16, &req.nonce) ||
      !OptionalBytesArg(info, 2, "publicKey", 1 << 16, &req.public_key)) {
    return info.Env().Undefined();
  }
  return (new NsmWorker(info.Env(), std::move(req)))->Start();
}

}  // namespace

void RegisterDevices(Napi::Env env, Napi::Object exports) {
  exports.Set("detectPlatforms", Napi::Function::New(env, Detect, "detectPlatforms"));
  exports.Set("tsmReport", Napi::Function::New(env, TsmReport, "tsmReport"));
  exports.Set("snpGetReport", Napi::Function::New(env, SnpReport, "snpGetReport"));
  exports.Set("tdxGetReport0", Napi::Function::New(env, TdxReport, "tdxGetReport0"));
  exports.Set("tdxExtendRtmr", Napi::Function::New(env, TdxExtend, "tdxExtendRtmr"));
  exports.Set("tdxReadRtmr", Napi::Function::New(env, TdxRead, "tdxReadRtmr"));
  exports.Set("nsmGetAttestation", Napi::Function::New(env, NsmAttestation, "nsmGetAttestation"));
}

}  // namespace twi::addon
