// /dev/nsm, the AWS Nitro Secure Module (include/uapi/linux/nsm.h, drivers/misc/nsm.c).
#ifndef TWI_NATIVE_TEE_NSM_H_
#define TWI_NATIVE_TEE_NSM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cbor.h"
#include "status.h"

namespace twi {

constexpr const char* kNsmPath = "/dev/nsm";

struct NsmAttestationRequest {
  cbor::OptionalBytes user_data;   // ≤ 512 bytes
  cbor::OptionalBytes nonce;       // ≤ 512 bytes
  cbor::OptionalBytes public_key;  // 1..1024 bytes
};

// Sends the Attestation request with NSM_IOCTL_RAW and returns the COSE_Sign1 document.
// {"Error": "..."} answers are kFirmware with nsm_error set.
Status NsmGetAttestation(const std::string& path, const NsmAttestationRequest& req,
                         std::vector<uint8_t>* document);

}  // namespace twi

#endif  // TWI_NATIVE_TEE_NSM_H_
