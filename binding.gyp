{
  "targets": [
    {
      "target_name": "molrg",
      "sources": [
        "native/binding.cc",
        "native/kernels/isa.cc",
        "native/kernels/parallel.cc",
        "native/kernels/philox.cc",
        "native/kernels/gemm.cc",
        "native/kernels/vec.cc",
        "native/kernels/linalg.cc",
        "native/kernels/svd.cc",
        "native/kernels/eigh.cc",
        "native/kernels/nearest.cc",
        "native/kernels/project.cc",
        "native/kernels/gate.cc",
        "native/kernels/denoise.cc",
        "native/kernels/lossgrad.cc",
        "native/kernels/stiefel.cc",
        "native/kernels/train.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-O2", "-O0", "-std=gnu++17", "-std=c++17", "-fno-exceptions"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/O2"] }
      }
    }
  ]
}
