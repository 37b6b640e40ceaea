// twi native addon: TEE guest device access (native/src/tee, no Node-API there) and
// the non-exportable key store (native/src/keys), exposed through thin AsyncWorker
// layers (addon-devices.cc, addon-keys.cc). The typed loader is native/index.ts.
#include <napi.h>

#include "addon-devices.h"
#include "addon-keys.h"
#include "addon-peer.h"

namespace {

// Bumped whenever the binding's functions or shapes change; the loader checks it.
constexpr int kAbiVersion = 3;

Napi::Value AbiVersion(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), kAbiVersion);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Function::New(env, AbiVersion, "abiVersion"));
  twi::addon::RegisterDevices(env, exports);
  twi::addon::RegisterKeys(env, exports);
  twi::addon::RegisterPeer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(twi_native, Init)
