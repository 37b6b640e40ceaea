// /dev/sev-guest (include/uapi/linux/sev-guest.h, drivers/virt/coco/sev-guest/sev-guest.c).
#ifndef TWI_NATIVE_TEE_SEV_GUEST_H_
#define TWI_NATIVE_TEE_SEV_GUEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace twi {

constexpr const char* kSevGuestPath = "/dev/sev-guest";

struct SnpReportResult {
  std::vector<uint8_t> report;  // the ATTESTATION_REPORT (MSG_REPORT_RSP header removed)
  std::vector<uint8_t> certs;   // extended report: GHCB cert table, trimmed to its extent
  uint32_t certs_buffer_len = 0;  // size of the buffer the last (successful) call used
  int attempts = 0;
};

struct SnpDerivedKeyRequest {
  uint32_t root_key_select = 0;  // 0 VCEK, 1 VMRK
  uint64_t guest_field_select = 0;
  uint32_t vmpl = 0;
  uint32_t guest_svn = 0;
  uint64_t tcb_version = 0;
};

// SNP_GET_REPORT with REPORT_DATA = user_data.
Status SnpGetReport(const std::string& path, const uint8_t user_data[64], uint32_t vmpl,
                    SnpReportResult* out);

// SNP_GET_EXT_REPORT: starts with a one-page certificate buffer and grows it to the
// length the host asks for (EIO with vmm_error INVALID_LEN), up to SEV_FW_BLOB_MAX_SIZE.
Status SnpGetExtReport(const std::string& path, const uint8_t user_data[64], uint32_t vmpl,
                       SnpReportResult* out);

// SNP_GET_DERIVED_KEY: writes the 32-byte key into `key` (caller-owned, secret memory).
// Every intermediate copy is wiped before returning.
Status SnpGetDerivedKey(const std::string& path, const SnpDerivedKeyRequest& req, uint8_t key[32]);

// Length of a GHCB certificate table (GHCB 2.03 §4.1.8.1): entries of 24 bytes
// {GUID, offset u32, length u32} up to an all-zero entry; returns max(offset + length)
// over entries, or 0 for an empty table, or `len` when the table does not parse.
size_t SnpCertTableExtent(const uint8_t* data, size_t len);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_SEV_GUEST_H_
