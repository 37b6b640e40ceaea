/**
 * The CoRIM / CoMID data model (draft-ietf-rats-corim-11): what {@link decodeCorim} returns
 * and {@link buildCorim} encodes. Only the parts twi reads are modelled; extension keys of
 * the CDDL sockets are skipped when decoding. Byte values are `Uint8Array`, integers that
 * may exceed 2^53 (SVNs, TCB versions) are `bigint`.
 *
 * @internal
 * @module
 */

/** A tagged OID (`#6.111`), as dotted decimal. */
export interface OidId {
  readonly oid: string;
}

/** A UUID (`#6.37` where tagged), in the canonical 8-4-4-4-12 lowercase form. */
export interface UuidId {
  readonly uuid: string;
}

/** Opaque bytes (`#6.560` tagged-bytes). */
export interface BytesId {
  readonly bytes: Uint8Array;
}

/** A UEID (`#6.550`). */
export interface UeidId {
  readonly ueid: Uint8Array;
}

/** `$class-id-type-choice`: tagged OID, tagged UUID or tagged bytes. */
export type ClassId = OidId | UuidId | BytesId;

/** `$instance-id-type-choice` (the subset twi reads): UEID, UUID or tagged bytes. */
export type InstanceId = UeidId | UuidId | BytesId;

/** `$group-id-type-choice`: UUID or tagged bytes. */
export type GroupId = UuidId | BytesId;

/** `$measured-element-type-choice`: OID, UUID, unsigned integer or text. */
export type Mkey = OidId | UuidId | number | string;

/** `class-map`. */
export interface ClassMap {
  readonly classId?: ClassId;
  readonly vendor?: string;
  readonly model?: string;
  readonly layer?: number;
  readonly index?: number;
}

/** `environment-map`. */
export interface Environment {
  readonly class?: ClassMap;
  readonly instance?: InstanceId;
  readonly group?: GroupId;
}

/** One entry of a `digests-type`: a named-information / COSE algorithm and a value. */
export interface Digest {
  /** Algorithm identifier: an integer (7 = SHA-384) or a text name (`sha-384`). */
  readonly alg: number | string;
  readonly value: Uint8Array;
}

/** `svn-type-choice`: an exact SVN (`uint` or `#6.552`) or a minimum (`#6.553`). */
export type Svn = { readonly exact: bigint } | { readonly min: bigint };

/**
 * `$raw-value-type-choice`: tagged bytes (`#6.560`), a masked value (`#6.563 [value, mask]`,
 * or the deprecated `raw-value-mask` key 5), or an integer (the AMD SEV-SNP profile's VMPL).
 */
export type RawValue =
  { readonly bytes: Uint8Array; readonly mask?: Uint8Array } | { readonly int: number };

/** `int-range-type-choice`: one integer, or a range whose `null` ends are unbounded. */
export type IntRange = number | { readonly min: number | null; readonly max: number | null };

/** Names of the `flags-map` entries (keys 0..10). */
export const FLAG_NAMES = [
  'is-configured',
  'is-secure',
  'is-recovery',
  'is-debug',
  'is-replay-protected',
  'is-integrity-protected',
  'is-runtime-meas',
  'is-immutable',
  'is-tcb',
  'is-confidentiality-protected',
  'is-runtime-updatable',
] as const;

/** One `flags-map` entry name. */
export type FlagName = (typeof FLAG_NAMES)[number];

/** `version-map`. */
export interface VersionMap {
  readonly version: string;
  readonly scheme?: number;
}

/** One register of `integrity-registers`: its id (index or name) and accepted digests. */
export interface IntegrityRegister {
  readonly id: number | string;
  readonly digests: readonly Digest[];
}

/** `measurement-values-map` (the modelled keys). */
export interface MeasurementValues {
  readonly version?: VersionMap;
  readonly svn?: Svn;
  readonly digests?: readonly Digest[];
  readonly flags?: Readonly<Partial<Record<FlagName, boolean>>>;
  readonly rawValue?: RawValue;
  readonly name?: string;
  readonly integrityRegisters?: readonly IntegrityRegister[];
  readonly intRange?: IntRange;
  /** Keys present in the map that twi does not model (mac-addr, cryptokeys, extensions…). */
  readonly unsupported?: readonly (number | string)[];
}

/** `measurement-map` (`authorized-by` is not modelled). */
export interface Measurement {
  readonly mkey?: Mkey;
  readonly mval: MeasurementValues;
}

/** `reference-triple-record`: an environment and the measurements it must show. */
export interface ReferenceTriple {
  readonly environment: Environment;
  readonly measurements: readonly Measurement[];
}

/** `entity-map` of a CoRIM or CoMID. */
export interface Entity {
  readonly name: string;
  readonly regId?: string;
  readonly roles: readonly number[];
}

/** A CoMID (`concise-mid-tag`). */
export interface Comid {
  readonly language?: string;
  readonly tagId: string | UuidId;
  readonly tagVersion?: number;
  readonly entities?: readonly Entity[];
  readonly referenceTriples: readonly ReferenceTriple[];
  /** The other triple kinds present (`endorsed-triples`, …, `triples-map key N` for extensions), not read. */
  readonly otherTriples?: readonly string[];
}

/** A tag in `corim-map.tags` that is not a CoMID: its type and its bytes, kept as is. */
export interface OtherTag {
  readonly type: 'coswid' | 'cotl';
  readonly bytes: Uint8Array;
}

/** `validity-map`. */
export interface Validity {
  readonly notBefore?: Date;
  readonly notAfter: Date;
}

/** `$profile-type-choice`: a URI or an OID. */
export type Profile = { readonly uri: string } | OidId;

/** An unsigned CoRIM (`corim-map`). */
export interface Corim {
  readonly id: string | UuidId;
  readonly comids: readonly Comid[];
  readonly otherTags?: readonly OtherTag[];
  readonly profile?: Profile;
  readonly validity?: Validity;
  readonly entities?: readonly Entity[];
}

/** COSE algorithms twi signs and verifies CoRIMs with. */
export type CorimAlg = 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** What the COSE_Sign1 envelope of a signed CoRIM says and whether it was verified. */
export interface CorimSignature {
  readonly alg: CorimAlg;
  /** `kid` from the protected (or unprotected) header, as hex. */
  readonly kid?: string;
  /** `corim-meta` signer. */
  readonly signer?: { readonly name: string; readonly uri?: string };
  readonly signatureValidity?: Validity;
  /** True when a trusted key verified the signature. */
  readonly verified: boolean;
  /** Index in the trusted key list of the key that verified it. */
  readonly keyIndex?: number;
}

/** A decoded CoRIM: the content, and the signature envelope when it was signed. */
export interface DecodedCorim {
  readonly corim: Corim;
  readonly signature?: CorimSignature;
}
