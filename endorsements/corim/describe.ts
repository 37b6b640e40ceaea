/**
 * What a CoRIM asserts, in platform terms ("SEV-SNP MEASUREMENT one of [..]", "TDX RTMR1 =
 * …"): the JSON document and text lines `twi corim inspect` prints.
 *
 * @internal
 * @module
 */
import { decodeSnpTcb } from '../../verifier/platforms/sev-snp/abi/tcb.js';
import { isTwiError } from '../../common/errors.js';
import { idText } from './ids.js';
import { hex } from './map-kit.js';
import { corimIdText, corimToPolicy } from './policy.js';
import type { CorimReferences } from './policy.js';
import { platformOfClass, SNP_MKEY, SNP_MKEY_NAMES } from './profiles.js';
import type { CorimPlatform } from './profiles.js';
import type {
  DecodedCorim,
  Digest,
  Environment,
  Measurement,
  ReferenceTriple,
  Validity,
} from './types.js';

const LABEL: Readonly<Record<CorimPlatform, string>> = {
  tdx: 'TDX',
  'sev-snp': 'SEV-SNP',
  nitro: 'Nitro',
};

/** One reference triple as `twi corim inspect` shows it. */
export interface TripleDescription {
  readonly platform: CorimPlatform | null;
  readonly environment: Record<string, string | number>;
  readonly statements: readonly string[];
}

/** The JSON document of `twi corim inspect --json`. */
export interface CorimDescription {
  readonly id: string;
  readonly profile: string | null;
  readonly validity: { readonly not_before: string | null; readonly not_after: string } | null;
  readonly signature:
    | { readonly signed: false }
    | {
        readonly signed: true;
        readonly alg: string;
        readonly kid: string | null;
        readonly signer: string | null;
        readonly verified: boolean;
      };
  readonly comids: readonly {
    readonly tag_id: string;
    readonly tag_version: number | null;
    readonly other_triples: readonly string[];
    readonly reference_triples: readonly TripleDescription[];
  }[];
  /** The reference values twi derives, or why it cannot. */
  readonly policy:
    CorimReferences | { readonly error: { readonly code: string; readonly message: string } };
}

const oneOf = (values: readonly string[]): string =>
  values.length === 1 ? `= ${values[0]}` : `one of [${values.join(', ')}]`;

const digestText = (ds: readonly Digest[]) => oneOf(ds.map((d) => hex(d.value)));

function fieldName(platform: CorimPlatform | null, m: Measurement): string {
  if (m.mkey === undefined) return '(no mkey)';
  if (platform === 'sev-snp' && typeof m.mkey === 'number')
    return SNP_MKEY_NAMES[m.mkey] ?? `mkey ${m.mkey}`;
  if (typeof m.mkey === 'string') return platform === 'tdx' ? m.mkey.toUpperCase() : m.mkey;
  return idText(m.mkey);
}

function svnText(platform: CorimPlatform | null, m: Measurement): string {
  const svn = m.mval.svn!;
  const [op, n] = 'min' in svn ? ['>=', svn.min] : ['=', svn.exact];
  const tcb =
    platform === 'sev-snp' && (m.mkey === SNP_MKEY.REPORTED_TCB || m.mkey === SNP_MKEY.CURRENT_TCB);
  return tcb
    ? `${op} 0x${n.toString(16).padStart(16, '0')} ${JSON.stringify(decodeSnpTcb(n))}`
    : `${op} ${n}`;
}

function valueTexts(platform: CorimPlatform | null, m: Measurement): string[] {
  const v = m.mval;
  const out: string[] = [];
  if (v.digests) out.push(digestText(v.digests));
  if (v.rawValue) {
    const r = v.rawValue;
    out.push(
      'int' in r ? `= ${r.int}` : `= ${hex(r.bytes)}${r.mask ? ` under mask ${hex(r.mask)}` : ''}`,
    );
  }
  if (v.svn) out.push(svnText(platform, m));
  if (v.intRange !== undefined) {
    const r = v.intRange;
    out.push(typeof r === 'number' ? `= ${r}` : `in [${r.min ?? '-inf'}, ${r.max ?? '+inf'}]`);
  }
  if (v.version) out.push(`version ${v.version.version}`);
  if (v.name) out.push(`name ${v.name}`);
  if (v.flags) out.push(`flags ${JSON.stringify(v.flags)}`);
  if (v.unsupported?.length) out.push(`(unsupported keys ${v.unsupported.join(', ')})`);
  return out;
}

function registerName(platform: CorimPlatform | null, id: number | string): string {
  if (platform === 'tdx') return `RTMR${id}`;
  if (platform === 'nitro') return `PCR${id}`;
  return `register ${id}`;
}

function statements(platform: CorimPlatform | null, t: ReferenceTriple): string[] {
  const label = platform ? LABEL[platform] : 'environment';
  const out: string[] = [];
  if (platform === 'sev-snp' && t.environment.instance && 'bytes' in t.environment.instance) {
    out.push(`${label} CHIP_ID = ${hex(t.environment.instance.bytes)}`);
  }
  for (const m of t.measurements) {
    for (const r of m.mval.integrityRegisters ?? []) {
      out.push(`${label} ${registerName(platform, r.id)} ${digestText(r.digests)}`);
    }
    for (const text of valueTexts(platform, m))
      out.push(`${label} ${fieldName(platform, m)} ${text}`);
  }
  return out;
}

function environmentOf(e: Environment): Record<string, string | number> {
  const c = e.class ?? {};
  const out: Record<string, string | number | undefined> = {
    class_id: c.classId && idText(c.classId),
    vendor: c.vendor,
    model: c.model,
    layer: c.layer,
    index: c.index,
    instance: e.instance && idText(e.instance),
    group: e.group && idText(e.group),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number
  >;
}

const validityOf = (v: Validity | undefined) =>
  v
    ? { not_before: v.notBefore?.toISOString() ?? null, not_after: v.notAfter.toISOString() }
    : null;

function policyOf(decoded: DecodedCorim): CorimDescription['policy'] {
  try {
    return corimToPolicy(decoded);
  } catch (err) {
    if (!isTwiError(err)) throw err;
    return { error: { code: err.code, message: err.message } };
  }
}

/**
 * Describes a decoded CoRIM for people: identity, profile, validity, signature, and every
 * reference triple's environment and values in platform terms; plus the policy twi derives.
 *
 * @example
 * ```ts
 * const d = describeCorim(decodeCorim(bytes, { now }));
 * d.comids[0].reference_triples[0].statements; // ['TDX MRTD = 91eb…', 'TDX RTMR1 = 0084…']
 * ```
 */
export function describeCorim(decoded: DecodedCorim): CorimDescription {
  const { corim, signature: s } = decoded;
  return {
    id: corimIdText(corim),
    profile: corim.profile
      ? 'uri' in corim.profile
        ? corim.profile.uri
        : `oid:${corim.profile.oid}`
      : null,
    validity: validityOf(corim.validity),
    signature: s
      ? {
          signed: true,
          alg: s.alg,
          kid: s.kid ?? null,
          signer: s.signer?.name ?? null,
          verified: s.verified,
        }
      : { signed: false },
    comids: corim.comids.map((c) => ({
      tag_id: typeof c.tagId === 'string' ? c.tagId : idText(c.tagId),
      tag_version: c.tagVersion ?? null,
      other_triples: c.otherTriples ?? [],
      reference_triples: c.referenceTriples.map((t) => {
        const platform = platformOfClass(t.environment.class?.classId) ?? null;
        return {
          platform,
          environment: environmentOf(t.environment),
          statements: statements(platform, t),
        };
      }),
    })),
    policy: policyOf(decoded),
  };
}

/** Text lines of a description (the human output of `twi corim inspect`). */
export function describeCorimText(d: CorimDescription): string[] {
  const sig = d.signature.signed
    ? `signed ${d.signature.alg}${d.signature.signer ? ` by "${d.signature.signer}"` : ''}, ${d.signature.verified ? 'verified' : 'NOT verified (no trusted key given)'}`
    : 'unsigned';
  const lines = [`corim: ${d.id}`, `profile: ${d.profile ?? '(none)'}`, `signature: ${sig}`];
  if (d.validity)
    lines.push(`validity: ${d.validity.not_before ?? '-'} .. ${d.validity.not_after}`);
  d.comids.forEach((c, i) => {
    lines.push(`comid[${i}]: ${c.tag_id}${c.tag_version === null ? '' : ` v${c.tag_version}`}`);
    if (c.other_triples.length) lines.push(`  not read: ${c.other_triples.join(', ')}`);
    c.reference_triples.forEach((t, j) => {
      const env = Object.entries(t.environment)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      lines.push(
        `  reference-triple[${j}] ${t.platform ? LABEL[t.platform] : '(not a TEE twi appraises)'}: ${env}`,
      );
      for (const s of t.statements) lines.push(`    ${s}`);
    });
  });
  if ('error' in d.policy) lines.push(`policy: ${d.policy.error.code}: ${d.policy.error.message}`);
  return lines;
}
