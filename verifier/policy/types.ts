/**
 * The appraisal policy model: what a policy file states once it has been validated and
 * normalised by {@link loadPolicy} (module `./policy-loader.js`). Keys keep the spelling of
 * the policy file and of the verified claims (snake_case); reference values are always lists
 * of lowercase hex strings.
 *
 * @module
 */
import type { TcbStatus } from '../platforms/tdx/verify/tcb-status.js';
import type { Tier } from './ar4si.js';

/** Names of the platforms a policy can allow. */
export type PolicyPlatform = 'tdx' | 'sev-snp' | 'nitro';

/** The tiers a policy may assign to a TCB status. */
export type TcbTier = Exclude<Tier, 'none'>;

/** Accepted values of one measurement: lowercase hex, any one of them matches. */
export type Reference = readonly string[];

/** Named TDATTRIBUTES bits a policy can pin (TDX module `td_param_attributes_t`). */
export type TdAttributeFlag = 'sept_ve_disable' | 'pks' | 'kl' | 'perfmon';

/** TDATTRIBUTES constraints: a masked value and/or named bits. */
export interface TdAttributesRule {
  /** Hex of the 8 raw bytes as in the claims (little-endian); compared under `mask`. */
  readonly value?: string;
  /** Hex of 8 bytes; defaults to all ones when `value` is set. */
  readonly mask?: string;
  /** Required state of named bits. DEBUG is governed by {@link Policy.allow_debug}. */
  readonly flags: Readonly<Partial<Record<TdAttributeFlag, boolean>>>;
}

/** TDX reference values (SPEC-DIGEST B1.2, B1.3, B2). */
export interface TdxReferences {
  readonly mrtd?: Reference;
  readonly rtmr0?: Reference;
  readonly rtmr1?: Reference;
  readonly rtmr2?: Reference;
  readonly rtmr3?: Reference;
  readonly mrseam?: Reference;
  readonly mrconfigid?: Reference;
  readonly mrowner?: Reference;
  readonly mrownerconfig?: Reference;
  readonly mrservicetd?: Reference;
  /**
   * Allowed shim digests (SHA-384): the `shim` claim, present only when the event log replayed
   * to RTMR0-3; evidence without it fails the check (`ERR_CLAIM_MISSING`).
   */
  readonly shim?: Reference;
  readonly xfam?: Reference;
  readonly td_attributes?: TdAttributesRule;
  /** Allowed FMSPCs (6 bytes, hex). */
  readonly fmspcs?: Reference;
  /**
   * Collateral (TCB Info and QE identity) whose `tcbEvaluationDataNumber` is lower is
   * refused (`ERR_COLLATERAL_BELOW_MINIMUM`), wherever it came from.
   */
  readonly min_tcb_evaluation_data_number?: number;
}

/** Named SEV-SNP POLICY bits a policy can pin (SPEC-DIGEST B3.2). */
export type SnpPolicyFlag =
  | 'smt'
  | 'migrate_ma'
  | 'single_socket'
  | 'cxl_allow'
  | 'mem_aes_256_xts'
  | 'rapl_dis'
  | 'ciphertext_hiding_dram'
  | 'page_swap_disable';

/** SEV-SNP guest POLICY constraints. DEBUG is governed by {@link Policy.allow_debug}. */
export interface SnpPolicyRule {
  readonly flags: Readonly<Partial<Record<SnpPolicyFlag, boolean>>>;
  /** Minimum ABI_MAJOR the guest policy must require. */
  readonly abi_major_min?: number;
  /** Minimum ABI_MINOR (compared only when ABI_MAJOR equals `abi_major_min`). */
  readonly abi_minor_min?: number;
}

/** Components of a TCB_VERSION (SPEC-DIGEST B3.4); `fmc` exists on Turin and later. */
export type SnpTcbComponent = 'bl' | 'tee' | 'snp' | 'ucode' | 'fmc';

/** VMPL constraint: an explicit list, or an upper bound. */
export type VmplRule = { readonly allowed: readonly number[] } | { readonly max: number };

/** SEV-SNP reference values (SPEC-DIGEST B3.1, E2). */
export interface SnpReferences {
  readonly measurement?: Reference;
  readonly host_data?: Reference;
  readonly id_key_digest?: Reference;
  readonly author_key_digest?: Reference;
  readonly policy?: SnpPolicyRule;
  readonly min_tcb?: Readonly<Partial<Record<SnpTcbComponent, number>>>;
  readonly vmpl?: VmplRule;
  readonly guest_svn_min?: number;
  readonly chip_ids?: Reference;
  /** Allowed product names as the verifier reports them (e.g. `Milan`, `Genoa`, `Turin`). */
  readonly products?: readonly string[];
}

/** Nitro reference values: PCR index (decimal string) → accepted values. */
export interface NitroReferences {
  readonly pcrs?: Readonly<Record<string, Reference>>;
}

/** One workload registration, normalised (hex lowercased, single values turned into lists). */
export interface Registration {
  /** Short, unique name of the entry (recorded in the EAR and the ledger). */
  readonly id: string;
  /** The identifier issued: a SPIFFE ID or a WIMSE identifier. */
  readonly identifier: string;
  readonly platform: PolicyPlatform;
  /** Names the attester may append as a last path segment (none when empty). */
  readonly workloads: readonly string[];
  readonly mrtd?: Reference;
  readonly rtmr0?: Reference;
  readonly rtmr1?: Reference;
  readonly rtmr2?: Reference;
  readonly rtmr3?: Reference;
  readonly mrconfigid?: Reference;
  readonly mrowner?: Reference;
  readonly mrownerconfig?: Reference;
  /** TDX: the replayed shim digest (the `shim` claim). */
  readonly shim?: Reference;
  readonly measurement?: Reference;
  readonly host_data?: Reference;
  readonly id_key_digest?: Reference;
  readonly author_key_digest?: Reference;
  readonly pcr0?: Reference;
  readonly pcr1?: Reference;
  readonly pcr2?: Reference;
  readonly pcr8?: Reference;
  /**
   * Agent mode: selectors the caller an agent identified must all have (sorted). An entry with
   * selectors matches only agent requests, one without only requests that are not.
   */
  readonly selectors?: readonly string[];
}

/**
 * The agents trusted to request credentials for the workloads they serve (`agents:`), by the
 * measurement that covers the agent's code on each platform.
 */
export interface AgentReferences {
  /** TDX: the replayed shim digest (the `shim` claim). */
  readonly tdx?: { readonly shim: Reference };
  /** SEV-SNP: the launch measurement of the image that contains the agent. */
  readonly 'sev-snp'?: { readonly measurement: Reference };
  /** Nitro: PCR0 of the enclave image that contains the agent. */
  readonly nitro?: { readonly pcr0: Reference };
}

/** A validated, normalised appraisal policy. */
export interface Policy {
  /** Identifier reported in `ear_appraisal_policy_ids`. */
  readonly id: string;
  readonly description?: string;
  /** Platforms whose evidence may be affirmed. */
  readonly platforms: readonly PolicyPlatform[];
  /** Debug TEEs become a warning (configuration 32) instead of contraindicated. Default false. */
  readonly allow_debug: boolean;
  /** Tier for every TCB status (defaults merged with the file's `tcb.accept`). */
  readonly tcb: { readonly tiers: Readonly<Record<TcbStatus, TcbTier>> };
  readonly tdx?: TdxReferences;
  readonly 'sev-snp'?: SnpReferences;
  readonly nitro?: NitroReferences;
  /** Workload registrations: which identifier which measurements get (none: all derived). */
  readonly registrations: readonly Registration[];
  /** The attester may append a `workload` name to a derived identifier. Default false. */
  readonly allow_unregistered_workload_names: boolean;
  /** Evidence that matches no registration gets no credential. Default false. */
  readonly require_registration: boolean;
  /** Agents trusted for agent-mode requests (none: every agent request is refused). */
  readonly agents?: AgentReferences;
}
