// Guest device ABIs, defined here so the build does not depend on the uapi
// headers installed on the build machine (linux/tdx-guest.h and linux/nsm.h are
// often absent). Each struct mirrors the named uapi header field for field; the
// sizes and ioctl numbers are asserted at compile time, and against the system
// header wherever it is installed.
#ifndef TWI_NATIVE_TEE_ABI_H_
#define TWI_NATIVE_TEE_ABI_H_

#include <linux/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace twi::abi {

// ---- include/uapi/linux/sev-guest.h -----------------------------------------
constexpr size_t kSnpUserDataSize = 64;  // SNP_REPORT_USER_DATA_SIZE

struct SnpReportReq {  // struct snp_report_req
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct SnpReportResp {  // struct snp_report_resp
  uint8_t data[4000];
};
struct SnpDerivedKeyReq {  // struct snp_derived_key_req
  uint32_t root_key_select;
  uint32_t rsvd;
  uint64_t guest_field_select;
  uint32_t vmpl;
  uint32_t guest_svn;
  uint64_t tcb_version;
};
struct SnpDerivedKeyResp {  // struct snp_derived_key_resp
  uint8_t data[64];
};
struct SnpGuestRequestIoctl {  // struct snp_guest_request_ioctl (not packed: 7 pad bytes)
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  union {
    uint64_t exitinfo2;
    struct {
      uint32_t fw_error;
      uint32_t vmm_error;
    } err;
  };
};
struct SnpExtReportReq {  // struct snp_ext_report_req
  SnpReportReq data;
  uint64_t certs_address;
  uint32_t certs_len;
};

constexpr unsigned long kSnpGetReport = _IOWR('S', 0x0, SnpGuestRequestIoctl);
constexpr unsigned long kSnpGetDerivedKey = _IOWR('S', 0x1, SnpGuestRequestIoctl);
constexpr unsigned long kSnpGetExtReport = _IOWR('S', 0x2, SnpGuestRequestIoctl);
constexpr uint32_t kSnpVmmErrInvalidLen = 1;  // SNP_GUEST_VMM_ERR_INVALID_LEN
constexpr uint32_t kSnpVmmErrBusy = 2;        // SNP_GUEST_VMM_ERR_BUSY
// drivers/virt/coco/sev-guest: SEV_FW_BLOB_MAX_SIZE, the largest certs_len accepted.
constexpr uint32_t kSnpCertsMax = 0x4000;
constexpr uint32_t kPageSize = 0x1000;

static_assert(sizeof(SnpReportReq) == 96, "snp_report_req is 96 bytes");
static_assert(sizeof(SnpReportResp) == 4000, "snp_report_resp is 4000 bytes");
static_assert(sizeof(SnpDerivedKeyReq) == 32, "snp_derived_key_req is 32 bytes");
static_assert(sizeof(SnpDerivedKeyResp) == 64, "snp_derived_key_resp is 64 bytes");
static_assert(sizeof(SnpGuestRequestIoctl) == 32, "snp_guest_request_ioctl is 32 bytes");
static_assert(offsetof(SnpGuestRequestIoctl, req_data) == 8, "req_data after 7 pad bytes");
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) == 0x18, "exitinfo2 at 0x18");
static_assert(sizeof(SnpExtReportReq) == 112, "snp_ext_report_req is 112 bytes");
static_assert(offsetof(SnpExtReportReq, certs_len) == 0x68, "certs_len at 0x68");
static_assert(kSnpGetReport == 0xC0205300UL, "SNP_GET_REPORT");
static_assert(kSnpGetDerivedKey == 0xC0205301UL, "SNP_GET_DERIVED_KEY");
static_assert(kSnpGetExtReport == 0xC0205302UL, "SNP_GET_EXT_REPORT");

// MSG_REPORT_RSP / MSG_KEY_RSP framing inside the response buffers (SEV-SNP
// firmware ABI 56860, tables "MSG_REPORT_RSP" and "MSG_KEY_RSP").
constexpr size_t kSnpReportRspHeader = 0x20;  // status u32, report_size u32, 24 reserved
constexpr size_t kSnpKeyRspKeyOffset = 0x20;  // status u32, 28 reserved, then the key
constexpr size_t kSnpDerivedKeySize = 32;

// ---- include/uapi/linux/tdx-guest.h -----------------------------------------
constexpr size_t kTdxReportDataLen = 64;  // TDX_REPORTDATA_LEN
constexpr size_t kTdxReportLen = 1024;    // TDX_REPORT_LEN

struct TdxReportReq {  // struct tdx_report_req
  uint8_t reportdata[kTdxReportDataLen];
  uint8_t tdreport[kTdxReportLen];
};
constexpr unsigned long kTdxCmdGetReport0 = _IOWR('T', 1, TdxReportReq);

static_assert(sizeof(TdxReportReq) == 1088, "tdx_report_req is 1088 bytes");
static_assert(kTdxCmdGetReport0 == 0xC4405401UL, "TDX_CMD_GET_REPORT0");

// Documentation/ABI/testing/sysfs-devices-virtual-misc-tdx_guest: RTMR writes are
// exactly one SHA-384 digest at offset 0.
constexpr size_t kTdxRtmrSize = 48;

// ---- include/uapi/linux/nsm.h ------------------------------------------------
constexpr size_t kNsmRequestMax = 0x1000;   // NSM_REQUEST_MAX_SIZE
constexpr size_t kNsmResponseMax = 0x3000;  // NSM_RESPONSE_MAX_SIZE

struct NsmIovec {  // struct nsm_iovec
  uint64_t addr;
  uint64_t len;
};
struct NsmRaw {  // struct nsm_raw
  NsmIovec request;
  NsmIovec response;
};
constexpr unsigned long kNsmIoctlRaw = _IOWR(0x0A, 0x0, NsmRaw);  // NSM_MAGIC 0x0A

static_assert(sizeof(NsmIovec) == 16, "nsm_iovec is 16 bytes");
static_assert(sizeof(NsmRaw) == 32, "nsm_raw is 32 bytes");
static_assert(kNsmIoctlRaw == 0xC0200A00UL, "NSM_IOCTL_RAW");

// aws-nitro-enclaves-nsm-api docs/attestation_process.md: input size limits.
constexpr size_t kNsmUserDataMax = 512;
constexpr size_t kNsmNonceMax = 512;
constexpr size_t kNsmPublicKeyMax = 1024;

}  // namespace twi::abi

#endif  // TWI_NATIVE_TEE_ABI_H_
