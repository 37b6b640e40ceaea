{
  "targets": [
    {
      "target_name": "twi_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/addon-devices.cc",
        "native/src/addon-keys.cc",
        "native/src/addon-peer.cc",
        "native/src/addon-util.cc",
        "native/src/keys/ec-key.cc",
        "native/src/keys/key-sealer.cc",
        "native/src/keys/secure-buffer.cc",
        "native/src/tee/abi-check.cc",
        "native/src/tee/cbor.cc",
        "native/src/tee/configfs-tsm.cc",
        "native/src/tee/detect.cc",
        "native/src/tee/io.cc",
        "native/src/tee/nsm.cc",
        "native/src/tee/sev-guest.cc",
        "native/src/tee/tdx-guest.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"],
      "cflags_cc": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-std=c++17"]
    },
    {
      "target_name": "twi_devemu",
      "type": "shared_library",
      "sources": [
        "simulators/device-emu/native/preload-core.c",
        "simulators/device-emu/native/preload-fs.c",
        "simulators/device-emu/native/preload-ioctl.c",
        "simulators/device-emu/native/preload-dir.c"
      ],
      "cflags": ["-std=gnu11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
