#ifndef TWI_NATIVE_ADDON_DEVICES_H_
#define TWI_NATIVE_ADDON_DEVICES_H_

#include <napi.h>

namespace twi::addon {

void RegisterDevices(Napi::Env env, Napi::Object exports);

}  // namespace twi::addon

#endif  // TWI_NATIVE_ADDON_DEVICES_H_
