// twi native addon. Device access and the non-exportable key store arrive with
// the native-addon issue; until then the addon only reports its ABI version so
// that the build, the loader and `npm install` are exercised end to end.
#include <napi.h>

namespace {

Napi::Value AbiVersion(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), 1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Function::New(env, AbiVersion, "abiVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(twi_native, Init)
