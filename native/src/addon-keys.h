#ifndef TWI_NATIVE_ADDON_KEYS_H_
#define TWI_NATIVE_ADDON_KEYS_H_

#include <napi.h>

namespace twi::addon {

void RegisterKeys(Napi::Env env, Napi::Object exports);

}  // namespace twi::addon

#endif  // TWI_NATIVE_ADDON_KEYS_H_
