// Which TEE guest interfaces exist on this machine and can be opened.
#ifndef TWI_NATIVE_TEE_DETECT_H_
#define TWI_NATIVE_TEE_DETECT_H_

#include <string>
#include <vector>

#include "status.h"

namespace twi {

struct DevicePaths {
  std::string tsm_root;
  std::string sev_guest;
  std::string tdx_guest;
  std::string tdx_measurements;
  std::string nsm;
  static DevicePaths Defaults();
};

struct InterfaceProbe {
  std::string name;  // "configfs-tsm", "/dev/sev-guest", ...
  std::string path;
  bool present = false;
  bool usable = false;
  std::string detail;  // provider name, or why it is not usable
  int sys_errno = 0;
};

struct PlatformProbe {
  std::string platform;  // "tdx" | "sev-snp" | "nitro"
  bool usable = false;   // evidence a remote verifier accepts can be produced
  std::vector<InterfaceProbe> interfaces;
};

// Probes every platform, most preferred first: TDX, SEV-SNP, Nitro (a machine offers
// at most one in practice; the order decides when an emulator offers several).
std::vector<PlatformProbe> DetectPlatforms(const DevicePaths& paths);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_DETECT_H_
