// configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm-report,
// drivers/virt/coco/guest/report.c): one entry per request, created and removed here.
#ifndef TWI_NATIVE_TEE_CONFIGFS_TSM_H_
#define TWI_NATIVE_TEE_CONFIGFS_TSM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace twi {

constexpr const char* kTsmReportRoot = "/sys/kernel/config/tsm/report";

struct TsmReportRequest {
  std::string root = kTsmReportRoot;
  std::string expected_provider;  // "tdx_guest" / "sev_guest"; empty accepts any
  uint8_t inblob[64] = {};        // always exactly 64 bytes (both in-tree providers insist)
  bool want_auxblob = false;      // SNP certificate table
  int max_attempts = 3;           // generation races / EBUSY before giving up with kBusy
};

struct TsmReport {
  std::string provider;
  std::vector<uint8_t> outblob;
  std::vector<uint8_t> auxblob;  // empty when not asked for or not provided
  uint64_t generation = 0;
  int attempts = 0;
};

// Largest outblob accepted: the kernel's TSM_REPORT_OUTBLOB_MAX grew from 32 KiB to
// 16 MiB; DICE-based TDX quotes exceed 8 KiB. 1 MiB bounds the buffer.
constexpr size_t kTsmOutblobMax = 1 << 20;
constexpr size_t kTsmAuxblobMax = 1 << 20;

// Runs the whole sequence (mkdir, provider, generation, inblob, outblob, auxblob,
// generation, rmdir); the entry is removed on every path. Callers in one process are
// serialised; other processes are kept apart by the entry's unique name.
Status TsmGetReport(const TsmReportRequest& req, TsmReport* out);

// The provider behind configfs-tsm, found by creating and removing a probe entry.
Status TsmProbeProvider(const std::string& root, std::string* provider);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_CONFIGFS_TSM_H_
