#ifndef TWI_NATIVE_ADDON_PEER_H_
#define TWI_NATIVE_ADDON_PEER_H_

#include <napi.h>

namespace twi::addon {

void RegisterPeer(Napi::Env env, Napi::Object exports);

}  // namespace twi::addon

#endif  // TWI_NATIVE_ADDON_PEER_H_
