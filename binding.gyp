{
  "targets": [
    {
      "target_name": "twi_native",
      "sources": ["native/src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
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
