// Shared pieces of the Node-API layer: typed errors, byte arguments, a Promise-
// settling AsyncWorker base. Blocking work runs in Execute() on the libuv pool.
#ifndef TWI_NATIVE_ADDON_UTIL_H_
#define TWI_NATIVE_ADDON_UTIL_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tee/status.h"

namespace twi::addon {

// A JS Error carrying `kind` (the loader maps it to a code), `errno`, `fwError`,
// `vmmError` and `nsmError` when known.
Napi::Value MakeError(Napi::Env env, const Status& status);

// Copies a Uint8Array argument; on a wrong type or size throws TypeError and
// returns false (the loader validates first, this is a second line).
bool GetBytes(const Napi::CallbackInfo& info, size_t index, const char* name, size_t min,
              size_t max, std::vector<uint8_t>* out);

bool GetUint32(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t* out);

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes);

// An AsyncWorker settling a Promise: Run() on the pool, Result() on the JS thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  // Queues the worker and returns its Promise (the worker deletes itself when done).
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  virtual Status Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  void Execute() override { status_ = Run(); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status_.ok()) {
      Napi::Value v = Result(env);
      if (env.IsExceptionPending()) {
        deferred_.Reject(env.GetAndClearPendingException().Value());
      } else {
        deferred_.Resolve(v);
      }
    } else {
      deferred_.Reject(MakeError(env, status_));
    }
  }

  Status status_;
  Napi::Promise::Deferred deferred_;
};

}  // namespace twi::addon

#endif  // TWI_NATIVE_ADDON_UTIL_H_
