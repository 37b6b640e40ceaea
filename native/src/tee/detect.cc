#include "detect.h"

#include <fcntl.h>

#include "configfs-tsm.h"
#include "io.h"
#include "nsm.h"
#include "sev-guest.h"
#include "tdx-guest.h"

namespace twi {

namespace {

InterfaceProbe ProbeNode(const std::string& path) {
  InterfaceProbe p;
  p.name = path;
  p.path = path;
  p.present = PathExists(path);
  if (!p.present) {
    p.detail = "absent";
    return p;
  }
  Fd fd;
  Status s = OpenPath(path, O_RDWR, &fd);
  p.usable = s.ok();
  p.sys_errno = s.sys_errno;
  p.detail = s.ok() ? "opens read-write" : s.message;
  return p;
}

InterfaceProbe ProbeTsm(const std::string& root, const std::string& want) {
  InterfaceProbe p;
  p.name = "configfs-tsm";
  p.path = root;
  p.present = PathExists(root);
  if (!p.present) {
    p.detail = "absent";
    return p;
  }
  std::string provider;
  Status s = TsmProbeProvider(root, &provider);
  if (!s.ok()) {
    p.detail = s.message;
    p.sys_errno = s.sys_errno;
    return p;
  }
  p.usable = provider == want;  // refined per platform by the caller
  p.detail = "provider " + provider;
  return p;
}

}  // namespace

DevicePaths DevicePaths::Defaults() {
  return DevicePaths{kTsmReportRoot, kSevGuestPath, kTdxGuestPath, kTdxMeasurementsDir, kNsmPath};
}

std::vector<PlatformProbe> DetectPlatforms(const DevicePaths& paths) {
  std::vector<PlatformProbe> out;
  // One probe entry serves both TSM platforms: the provider says which one it is.
  InterfaceProbe tsm_tdx = ProbeTsm(paths.tsm_root, "tdx_guest");
  InterfaceProbe tsm_snp = tsm_tdx;
  tsm_tdx.usable = tsm_tdx.detail == "provider tdx_guest";
  tsm_snp.usable = tsm_snp.detail == "provider sev_guest";

  PlatformProbe tdx{"tdx", false, {tsm_tdx, ProbeNode(paths.tdx_guest)}};
  tdx.usable = tsm_tdx.usable;  // quotes only come through configfs-tsm
  out.push_back(tdx);

  PlatformProbe snp{"sev-snp", false, {tsm_snp, ProbeNode(paths.sev_guest)}};
  snp.usable = tsm_snp.usable || snp.interfaces[1].usable;
  out.push_back(snp);

  PlatformProbe nitro{"nitro", false, {ProbeNode(paths.nsm)}};
  nitro.usable = nitro.interfaces[0].usable;
  out.push_back(nitro);
  return out;
}

}  // namespace twi
