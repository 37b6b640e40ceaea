// /dev/tdx_guest (include/uapi/linux/tdx-guest.h, drivers/virt/coco/tdx-guest/tdx-guest.c)
// and the RTMR files of Documentation/ABI/testing/sysfs-devices-virtual-misc-tdx_guest.
#ifndef TWI_NATIVE_TEE_TDX_GUEST_H_
#define TWI_NATIVE_TEE_TDX_GUEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace twi {

constexpr const char* kTdxGuestPath = "/dev/tdx_guest";
constexpr const char* kTdxMeasurementsDir = "/sys/devices/virtual/misc/tdx_guest/measurements";

// TDX_CMD_GET_REPORT0: the 1024-byte TDREPORT_STRUCT for REPORTDATA.
Status TdxGetReport0(const std::string& path, const uint8_t report_data[64],
                     std::vector<uint8_t>* tdreport);

// Extends RTMR `index` (0-3) with a 48-byte digest: one 48-byte write at offset 0
// of rtmr<index>:sha384 (partial writes are EINVAL per the ABI document).
Status TdxExtendRtmr(const std::string& dir, int index, const uint8_t digest[48]);

// Reads RTMR `index` (48 bytes).
Status TdxReadRtmr(const std::string& dir, int index, std::vector<uint8_t>* value);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_TDX_GUEST_H_
