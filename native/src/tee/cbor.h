// The few CBOR (RFC 8949) shapes the Nitro Secure Module speaks (serde's externally
// tagged enums, aws-nitro-enclaves-nsm-api src/api/mod.rs): an Attestation request and
// the Attestation or Error answer. Definite lengths only; every read is bounds-checked.
#ifndef TWI_NATIVE_TEE_CBOR_H_
#define TWI_NATIVE_TEE_CBOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace twi::cbor {

// An optional byte string field of the request (absent → CBOR null, as serde writes None).
struct OptionalBytes {
  bool present = false;
  std::vector<uint8_t> bytes;
};

// {"Attestation": {"user_data": ..., "nonce": ..., "public_key": ...}}
std::vector<uint8_t> EncodeAttestationRequest(const OptionalBytes& user_data,
                                              const OptionalBytes& nonce,
                                              const OptionalBytes& public_key);

struct NsmAnswer {
  bool is_error = false;
  std::string error;               // the ErrorCode name of {"Error": "..."}
  std::vector<uint8_t> document;   // {"Attestation": {"document": bstr}}
};

// Decodes an NSM response; truncation, trailing bytes, nesting deeper than 16 and
// unexpected shapes are kResponse.
Status DecodeAttestationResponse(const uint8_t* data, size_t len, NsmAnswer* out);

}  // namespace twi::cbor

#endif  // TWI_NATIVE_TEE_CBOR_H_
