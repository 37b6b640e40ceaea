// Peer credentials of a connected Unix-domain socket (SO_PEERCRED), which Node
// does not expose: the shim's agent mode identifies its callers by them.
#include "addon-peer.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>

#include "addon-util.h"

namespace twi::addon {

namespace {

// peerCredentials(fd) → { pid, uid, gid }: the credentials the kernel recorded for
// the peer when it connected. getsockopt does not block, so this runs on the JS thread.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t fd;
  if (!GetUint32(info, 0, "fd", &fd)) return env.Undefined();
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    int err = errno;
    Napi::Error(env, MakeError(env, Status::FromErrno(ErrorKind::kIo, err, "getsockopt SO_PEERCRED")))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (len != sizeof(cred) || cred.pid <= 0) {
    Napi::Error(env, MakeError(env, Status::Make(ErrorKind::kResponse,
                                                 "SO_PEERCRED: no peer credentials on this socket")))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, cred.pid));
  o.Set("uid", Napi::Number::New(env, cred.uid));
  o.Set("gid", Napi::Number::New(env, cred.gid));
  return o;
}

}  // namespace

void RegisterPeer(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace twi::addon
