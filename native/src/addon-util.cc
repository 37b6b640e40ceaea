#include "addon-util.h"

namespace twi::addon {

namespace {

const char* KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone: return "none";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kFirmware: return "firmware";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kDisabled: return "disabled";
    case ErrorKind::kResponse: return "response";
    case ErrorKind::kInvalid: return "argument";
    case ErrorKind::kKeyDisposed: return "key-disposed";
    case ErrorKind::kKey: return "key";
    case ErrorKind::kSeal: return "seal";
  }
  return "io";
}

}  // namespace

Napi::Value MakeError(Napi::Env env, const Status& status) {
  Napi::Error err = Napi::Error::New(env, status.message);
  Napi::Object o = err.Value();
  o.Set("kind", Napi::String::New(env, KindName(status.kind)));
  if (status.sys_errno != 0) o.Set("errno", Napi::Number::New(env, status.sys_errno));
  if (status.has_fw) {
    o.Set("fwError", Napi::Number::New(env, status.fw_error));
    o.Set("vmmError", Napi::Number::New(env, status.vmm_error));
  }
  if (!status.nsm_error.empty()) o.Set("nsmError", Napi::String::New(env, status.nsm_error));
  return o;
}

bool GetBytes(const Napi::CallbackInfo& info, size_t index, const char* name, size_t min,
              size_t max, std::vector<uint8_t>* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, std::string(name) + " must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array a = info[index].As<Napi::Uint8Array>();
  if (a.ByteLength() < min || a.ByteLength() > max) {
    Napi::TypeError::New(env, std::string(name) + " has the wrong length")
        .ThrowAsJavaScriptException();
    return false;
  }
  out->assign(a.Data(), a.Data() + a.ByteLength());
  return true;
}

bool GetUint32(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsNumber()) {
    Napi::TypeError::New(env, std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    Napi::TypeError::New(env, std::string(name) + " must be a 32-bit unsigned integer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

}  // namespace twi::addon
