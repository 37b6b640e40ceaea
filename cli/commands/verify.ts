/**
 * `twi verify FILE [...]`: parse, verify and appraise evidence with the collateral and
 * policy given, and sign the result as an EAR. Exit status: 0 affirming, 1 warning,
 * 2 contraindicated, 3 could not appraise (usage, unreadable or malformed input).
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { jwkThumbprint } from '../../wire/binding.js';
import { loadPolicy } from '../../verifier/policy/loader.js';
import { defaultPolicy } from '../../verifier/policy/normalize.js';
import type { Tier } from '../../verifier/policy/ar4si.js';
import { buildEar } from '../../verifier/ear/claims.js';
import { generateEarKey, signEar, type EarAlg } from '../../verifier/ear/jwt.js';
import { earProfileOption } from '../../verifier/ear/profiles.js';
import { toVeraisonEar } from '../../verifier/ear/veraison.js';
import {
  appraiseEvidence,
  appraiseEvidenceWithProvider,
  type EvidenceReport,
} from '../../verifier/pipeline.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { isPlatformName, type PlatformName } from '../../verifier/platforms/registry.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { SuppliedEndorsements } from '../../verifier/verify/types.js';
import { collect, hexOption, instantOption, readPublicKey } from '../args.js';
import { applyCorimFiles } from '../../endorsements/corim/load.js';
import { inCliWords, printJson, readInputFile } from '../io.js';
import {
  applyReferenceOptions,
  referenceOptions,
  type ReferenceOptions,
} from './verify-references.js';

interface VerifyCliOptions extends ReferenceOptions {
  platform?: string;
  collateral?: string;
  vcek?: string;
  caChain?: string;
  crl?: string;
  at?: string;
  policy?: string;
  nonce?: string;
  reportData?: string;
  publicKey?: string;
  trustAnchors?: string;
  earKey?: string;
  earKeyOut?: string;
  pcsUrl?: string;
  pccs?: boolean;
  kdsUrl?: string;
  cache?: string;
  offline?: boolean;
  allowMissingCrl?: boolean;
  corim?: string[];
  corimKey?: string[];
  json?: boolean;
  earProfile?: string;
}

/** True when the collateral the files do not carry should come from the provider stack. */
function usesProvider(o: VerifyCliOptions): boolean {
  return Boolean(o.pcsUrl || o.kdsUrl || o.cache || o.offline);
}

/** The verifier identity written into every EAR. @internal */
export const TWI_VERIFIER_ID = { developer: 'https://twi.dev', build: 'twi 0.1.0' };

const EXIT_BY_TIER: Record<Tier, number> = {
  affirming: 0,
  warning: 1,
  contraindicated: 2,
  none: 3,
};

/** The first existing path among candidates derived from the evidence file name. */
function beside(file: string, suffixes: readonly [string, string][]): string | undefined {
  for (const [from, to] of suffixes) {
    const candidate = from && file.endsWith(from) ? file.slice(0, -from.length) + to : file + to;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Endorsement files: as given, or found beside the evidence (`twi simulate` and vector names). */
function endorsementFiles(file: string, o: VerifyCliOptions): Record<string, string | undefined> {
  if (usesProvider(o)) {
    // With a provider stack the collateral comes from it, unless a file is named explicitly.
    return { collateral: o.collateral, keyCert: o.vcek, caChain: o.caChain, crl: o.crl };
  }
  return {
    collateral:
      o.collateral ??
      beside(file, [
        ['', '.collateral.json'],
        ['.quote.bin', '.collateral.json'],
      ]),
    keyCert:
      o.vcek ??
      beside(file, [
        ['', '.vcek.der'],
        ['', '.vlek.der'],
        ['.report.bin', '.vcek.der'],
        ['.report.bin', '.vlek.der'],
      ]),
    caChain:
      o.caChain ??
      beside(file, [
        ['', '.ca-chain.pem'],
        ['.report.bin', '.ca-chain.pem'],
      ]),
    crl: o.crl,
  };
}

function loadEndorsements(files: Record<string, string | undefined>): SuppliedEndorsements {
  const read = (f: string | undefined): Uint8Array | undefined =>
    f ? readInputFile(f) : undefined;
  const collateral = read(files.collateral);
  const keyCert = read(files.keyCert);
  const caChain = read(files.caChain);
  const crl = read(files.crl);
  return {
    ...(collateral && { tdxCollateral: collateral }),
    ...(keyCert && { snpKeyCert: keyCert }),
    ...(caChain && { snpCaChain: caChain }),
    ...(crl && { snpCrl: crl }),
  };
}

function earSigningKey(path: string | undefined): {
  key: KeyObject;
  alg: EarAlg;
  kid: string;
  ephemeral: boolean;
} {
  if (path === undefined) {
    const k = generateEarKey('ES256');
    return { key: k.privateKey, alg: 'ES256', kid: k.kid, ephemeral: true };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(Buffer.from(readInputFile(path, 64 * 1024)));
  } catch (err) {
    throw new TypeError(`--ear-key ${path}: not a private key: ${(err as Error).message}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const alg: EarAlg | undefined =
    curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : undefined;
  if (!alg)
    throw new TypeError('--ear-key must be an EC P-256 (ES256) or P-384 (ES384) private key');
  const kid = Buffer.from(jwkThumbprint(key.export({ format: 'jwk' }))).toString('base64url');
  return { key, alg, kid, ephemeral: false };
}

/** The public half of the EAR signing key as a JWK carrying its `kid`, `alg` and `use`. */
function earPublicJwk(signer: { key: KeyObject; alg: EarAlg; kid: string }): JsonWebKey {
  const jwk = createPublicKey(signer.key).export({ format: 'jwk' });
  return { ...jwk, kid: signer.kid, alg: signer.alg, use: 'sig' };
}

/** Writes the EAR public key: SPKI PEM when the file name ends in `.pem`, else the JWK. */
function writeEarKey(path: string, key: KeyObject, jwk: JsonWebKey): void {
  const text = /\.pem$/i.test(path)
    ? createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString()
    : JSON.stringify(jwk, null, 2) + '\n';
  writeFileSync(path, text, { mode: 0o644 });
}

interface EarOutput {
  jwt: string;
  alg: EarAlg;
  kid: string;
  ephemeral: boolean;
  jwk: JsonWebKey;
}

function printHuman(
  report: EvidenceReport,
  files: Record<string, string | undefined>,
  ear: EarOutput,
  policyId: string,
): void {
  const lines = [
    `platform: ${report.platform}`,
    `verified: ${report.verified}`,
    ...(report.tcbStatus ? [`tcb_status: ${report.tcbStatus}`] : []),
    ...(report.advisoryIds.length ? [`advisory_ids: ${report.advisoryIds.join(', ')}`] : []),
    `status: ${report.status}`,
    ...Object.entries(files)
      .filter(([, f]) => f)
      .map(([k, f]) => `endorsement ${k}: ${f}`),
    ...report.appraisal.notes.map((n) => `note: ${n}`),
    ...report.errors.map((e) => `error: ${e.code}: ${inCliWords(e.message)}`),
    `policy: ${policyId}`,
    `ear_key: ${ear.alg} kid ${ear.kid}${ear.ephemeral ? ' (ephemeral)' : ''}`,
    `ear_public_key: ${JSON.stringify(ear.jwk)}`,
    `ear_jwt: ${ear.jwt}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function runVerify(file: string, o: VerifyCliOptions): Promise<number> {
  if (o.platform !== undefined && !isPlatformName(o.platform)) {
    throw new TypeError(`--platform must be tdx, sev-snp or nitro, not ${o.platform}`);
  }
  const now = o.at === undefined ? new Date() : instantOption('--at', o.at);
  const earProfile =
    o.earProfile === undefined ? 'draft' : earProfileOption(o.earProfile, '--ear-profile');
  const key = o.publicKey === undefined ? undefined : readPublicKey(o.publicKey);
  const files = endorsementFiles(file, o);
  const policy = applyReferenceOptions(
    applyCorimFiles(o.policy === undefined ? undefined : loadPolicy(o.policy, { source: 'file' }), {
      files: o.corim ?? [],
      keyFiles: o.corimKey ?? [],
      now,
    }),
    o,
  );
  const anchors = loadAnchorStore(o.trustAnchors === undefined ? [] : [o.trustAnchors]);
  if (o.offline && (o.pcsUrl || o.kdsUrl))
    throw new TypeError('--offline excludes --pcs-url and --kds-url');
  if (o.offline && !o.cache)
    throw new TypeError('--offline needs --cache DIR (where imported bundles live)');
  const input = {
    evidence: readInputFile(file),
    ...(o.platform !== undefined && { platform: o.platform as PlatformName }),
    endorsements: loadEndorsements(files),
    now,
    anchors,
    cache: createVerificationCache(),
    ...(policy && { policy }),
    expectations: {
      ...(o.nonce !== undefined && { nonce: hexOption('--nonce', o.nonce, 64) }),
      ...(o.reportData !== undefined && {
        reportData: hexOption('--report-data', o.reportData, 64),
      }),
      ...(key && { jkt: jwkThumbprint(key.jwk) }),
    },
  };
  const provided = usesProvider(o)
    ? await appraiseEvidenceWithProvider({
        ...input,
        provider: createEndorsementStack({
          anchors,
          ...(o.pcsUrl !== undefined && { pcsUrl: o.pcsUrl }),
          ...(o.pccs && { pccs: true }),
          ...(o.kdsUrl !== undefined && { kdsUrl: o.kdsUrl }),
          ...(o.cache !== undefined && { cacheDir: o.cache }),
          ...(o.offline && { offline: true }),
          crlPolicy: o.allowMissingCrl ? 'allow-missing' : 'require',
        }),
      })
    : undefined;
  const report = provided ?? appraiseEvidence(input);
  const signer = earSigningKey(o.earKey);
  const ear = buildEar({
    appraisals: { [report.platform]: report.appraisal },
    verifierId: TWI_VERIFIER_ID,
    iat: Math.floor(now.getTime() / 1000),
    ...(o.nonce !== undefined && { nonce: hexOption('--nonce', o.nonce, 64) }),
  });
  const earClaims = earProfile === 'veraison' ? toVeraisonEar(ear) : ear;
  const earJwt = await signEar(earClaims, { key: signer.key, alg: signer.alg, kid: signer.kid });
  const earJwk = earPublicJwk(signer);
  const policyId = (policy ?? defaultPolicy()).id;
  if (o.earKeyOut !== undefined) writeEarKey(o.earKeyOut, signer.key, earJwk);
  if (o.json) {
    printJson({
      platform: report.platform,
      verified: report.verified,
      tcb_status: report.tcbStatus ?? null,
      advisory_ids: report.advisoryIds,
      status: report.status,
      errors: report.errors,
      claims: report.claims,
      ear: earClaims,
      ear_jwt: earJwt,
      ear_key: { alg: signer.alg, kid: signer.kid, ephemeral: signer.ephemeral, jwk: earJwk },
      policy_id: policyId,
      endorsements: Object.fromEntries(Object.entries(files).filter(([, f]) => f)),
      endorsements_used: (provided?.endorsementsUsed ?? []).map((e) => ({
        kind: e.request.kind,
        sha256: e.sha256,
        source: e.source,
        next_update: e.nextUpdate.toISOString(),
      })),
      endorsement_notes: provided?.endorsementNotes ?? [],
    });
  } else {
    printHuman(
      report,
      files,
      { jwt: earJwt, alg: signer.alg, kid: signer.kid, ephemeral: signer.ephemeral, jwk: earJwk },
      policyId,
    );
  }
  return EXIT_BY_TIER[report.status];
}

/** @internal */
export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description(
      'verify and appraise evidence; exit 0 affirming, 1 warning, 2 contraindicated, 3 error',
    )
    .argument('<file>', 'evidence file (TDX quote, SEV-SNP report, Nitro attestation document)')
    .option('--platform <platform>', 'tdx | sev-snp | nitro (detected when omitted)')
    .option(
      '--collateral <file>',
      'tdx: QuoteCollateralV3 JSON (default FILE.collateral.json if present)',
    )
    .option(
      '--vcek <file>',
      'sev-snp: VCEK or VLEK certificate, DER or PEM (default FILE.vcek.der)',
    )
    .option(
      '--ca-chain <file>',
      'sev-snp: ASK/ASVK (+ARK) PEM (default FILE.ca-chain.pem; built-in otherwise)',
    )
    .option('--crl <file>', 'sev-snp: AMD KDS CRL (DER), checked when given')
    .option('--at <iso8601>', 'instant to verify at (default now)')
    .option('--policy <file>', 'appraisal policy, JSON or YAML (default: the built-in policy)')
    .option(
      '--corim <file>',
      'CoRIM reference values merged into the policy (repeatable)',
      collect,
      [],
    )
    .option(
      '--corim-key <file>',
      'key (PEM, JWK, JWK set) CoRIMs must be signed by (repeatable)',
      collect,
      [],
    )
    .option('--nonce <hex>', 'nonce the evidence must carry (REPORT_DATA / Nitro nonce)')
    .option('--report-data <hex>', 'exact REPORT_DATA (Nitro: user_data) the evidence must carry')
    .option('--public-key <file>', 'workload key bound with --nonce (twi binding)')
    .option(
      '--trust-anchors <dir>',
      "extra roots (e.g. a simulator PKI's DIR/roots) beside the vendor roots",
    )
    .option('--pcs-url <url>', 'tdx: fetch collateral from this Intel PCS (or PCCS with --pccs)')
    .option('--pccs', 'the --pcs-url is an Intel PCCS')
    .option('--kds-url <url>', 'sev-snp: fetch VCEKs, chains and CRLs from this AMD KDS')
    .option('--cache <dir>', 'keep verified collateral in DIR and use it while it is fresh')
    .option('--offline', 'use only the --cache DIR (e.g. an imported bundle), never the network')
    .option('--allow-missing-crl', 'go on without an AMD CRL that cannot be had (default: fail)')
    .option(
      '--ear-key <file>',
      'EC private key (PEM) to sign the EAR with (default: an ephemeral ES256 key)',
    )
    .option(
      '--ear-key-out <file>',
      'write the EAR public key to FILE: SPKI PEM if FILE ends in .pem, else a JWK',
    )
    .option('--ear-profile <name>', 'profile of the EAR: draft (default) or veraison')
    .option('--json', 'print the result as JSON');
  referenceOptions(cmd).action(async (file: string, opts: VerifyCliOptions) => {
    process.exitCode = await runVerify(file, opts);
  });
}
