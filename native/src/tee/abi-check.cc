// Cross-checks abi.h against the uapi headers of the build machine, where installed.
#include "abi.h"

#if __has_include(<linux/sev-guest.h>)
#include <linux/sev-guest.h>
static_assert(sizeof(struct snp_report_req) == sizeof(twi::abi::SnpReportReq), "snp_report_req");
static_assert(sizeof(struct snp_derived_key_req) == sizeof(twi::abi::SnpDerivedKeyReq),
              "snp_derived_key_req");
static_assert(sizeof(struct snp_guest_request_ioctl) == sizeof(twi::abi::SnpGuestRequestIoctl),
              "snp_guest_request_ioctl");
static_assert(sizeof(struct snp_ext_report_req) == sizeof(twi::abi::SnpExtReportReq),
              "snp_ext_report_req");
static_assert(SNP_GET_REPORT == twi::abi::kSnpGetReport, "SNP_GET_REPORT");
static_assert(SNP_GET_DERIVED_KEY == twi::abi::kSnpGetDerivedKey, "SNP_GET_DERIVED_KEY");
static_assert(SNP_GET_EXT_REPORT == twi::abi::kSnpGetExtReport, "SNP_GET_EXT_REPORT");
#endif

#if __has_include(<linux/tdx-guest.h>)
#include <linux/tdx-guest.h>
static_assert(sizeof(struct tdx_report_req) == sizeof(twi::abi::TdxReportReq), "tdx_report_req");
static_assert(TDX_CMD_GET_REPORT0 == twi::abi::kTdxCmdGetReport0, "TDX_CMD_GET_REPORT0");
#endif

#if __has_include(<linux/nsm.h>)
#include <linux/nsm.h>
static_assert(sizeof(struct nsm_raw) == sizeof(twi::abi::NsmRaw), "nsm_raw");
static_assert(NSM_IOCTL_RAW == twi::abi::kNsmIoctlRaw, "NSM_IOCTL_RAW");
static_assert(NSM_REQUEST_MAX_SIZE == twi::abi::kNsmRequestMax, "NSM_REQUEST_MAX_SIZE");
static_assert(NSM_RESPONSE_MAX_SIZE == twi::abi::kNsmResponseMax, "NSM_RESPONSE_MAX_SIZE");
#endif
