{
  "targets": [
    {
      "target_name": "twi_native",
      "sources": ["native/src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"],
      "cflags_cc": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-std=c++17"]
    }
  ]
}
