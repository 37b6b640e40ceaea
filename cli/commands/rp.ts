/**
 * `twi rp verify --wit FILE|TOKEN --wpt FILE|TOKEN --aud URL (--jwks URL|FILE | --issuer URL
 * [--cacert FILE]) [--at ISO] [--json]`: checks a WIT + WPT pair as a relying party would; with
 * `--issuer` the WIT's `iss` must equal it, and without `--jwks` the keys are found by OpenID
 * discovery from the issuer URL.
 * `twi rp verify-cert --cert FILE --bundle URL|FILE [--allow ID]... [--at ISO] [--json]`: checks
 * an X.509 workload certificate (chain) as a mutual-TLS relying party would.
 * Exit 0 accepted, 2 rejected (the code is printed), 3 usage error or unreadable input
 * (including an unreachable JWKS or bundle).
 */
import type { Command } from 'commander';
import { MtlsError, WimseError } from '../../wimse/errors.js';
import { fetchIssuerJwks } from '../../wimse/discovery.js';
import { staticJwks } from '../../wimse/jwks.js';
import type { Jwks } from '../../wimse/jwks.js';
import { createMemoryReplayCache } from '../../wimse/replay.js';
import { verifyWorkloadRequest } from '../../wimse/request.js';
import { parseAllowList, verifyPeerCertificate } from '../../wimse/x509-peer.js';
import type { X509Bundle } from '../../wimse/x509-peer.js';
import { collect, instantOption } from '../args.js';
import { fetchNamed, InputFileError, printJson, readInputFile } from '../io.js';

/** Exit code of a rejected credential pair. @internal */
export const EXIT_REJECTED = 2;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWKS_BYTES = 256 * 1024;

interface RpVerifyOptions {
  wit: string;
  wpt: string;
  aud: string;
  jwks?: string;
  issuer?: string;
  cacert?: string;
  at?: string;
  trustDomain?: string[];
  json?: boolean;
}

/** The JSON document `twi rp verify --json` prints. @internal */
export interface RpVerifyResult {
  accepted: boolean;
  workload_id?: string;
  trust_domain?: string;
  wit_jti?: string;
  code?: string;
  message?: string;
}

/** A compact token given inline, or the trimmed content of the file naming it. */
function tokenArg(value: string): string {
  if (COMPACT_JWS.test(value)) return value;
  return Buffer.from(readInputFile(value, 64 * 1024))
    .toString('utf8')
    .trim();
}

async function loadJwks(source: string, flag: string): Promise<Jwks> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const res = await fetchNamed(source, { signal: AbortSignal.timeout(10_000) }, flag);
    if (!res.ok) throw new InputFileError(`${source}: HTTP ${res.status} (${flag})`);
    text = await res.text();
    if (text.length > MAX_JWKS_BYTES) throw new InputFileError(`${source}: JWKS too large`);
  } else {
    text = Buffer.from(readInputFile(source, MAX_JWKS_BYTES)).toString('utf8');
  }
  try {
    return JSON.parse(text) as Jwks;
  } catch {
    throw new InputFileError(`${source}: not JSON`);
  }
}

/**
 * The key set of `--jwks`, else of `--issuer` (discovery, trusting `--cacert` when given). With
 * both, the keys come from `--jwks` and `--issuer` only pins the WIT's `iss`.
 */
async function keySet(opts: RpVerifyOptions): Promise<Jwks> {
  if (opts.jwks === undefined && opts.issuer === undefined) {
    throw new TypeError('give --jwks or --issuer');
  }
  if (opts.cacert !== undefined && (opts.issuer === undefined || opts.jwks !== undefined)) {
    throw new TypeError('--cacert goes with --issuer (and no --jwks)');
  }
  if (opts.jwks !== undefined) return loadJwks(opts.jwks, '--jwks');
  const ca =
    opts.cacert === undefined
      ? undefined
      : Buffer.from(readInputFile(opts.cacert, 256 * 1024)).toString('utf8');
  return fetchIssuerJwks(opts.issuer!, ca === undefined ? {} : { ca });
}

/** Verifies a WIT/WPT pair; rejections come back as `accepted: false` with their code. @internal */
export async function rpVerify(opts: RpVerifyOptions): Promise<RpVerifyResult> {
  const now = opts.at === undefined ? new Date() : instantOption('--at', opts.at);
  const headers = {
    'workload-identity-token': tokenArg(opts.wit),
    'workload-proof-token': tokenArg(opts.wpt),
  };
  const jwks = staticJwks(await keySet(opts));
  try {
    const who = await verifyWorkloadRequest(headers, {
      jwks,
      now,
      expectedAudience: opts.aud,
      replayCache: createMemoryReplayCache({ maxEntries: 16 }),
      ...(opts.trustDomain ? { trustDomains: opts.trustDomain } : {}),
      ...(opts.issuer !== undefined && { issuer: opts.issuer }),
    });
    return {
      accepted: true,
      workload_id: who.workloadId,
      trust_domain: who.trustDomain,
      ...(who.witJti ? { wit_jti: who.witJti } : {}),
    };
  } catch (err) {
    if (!(err instanceof WimseError) || err.retryable) throw err;
    return { accepted: false, code: err.code, message: err.message };
  }
}

interface RpVerifyCertOptions {
  cert: string;
  bundle: string;
  allow?: string[];
  at?: string;
  json?: boolean;
}

/** The JSON document `twi rp verify-cert --json` prints. @internal */
export interface RpVerifyCertResult {
  accepted: boolean;
  workload_id?: string;
  trust_domain?: string;
  jti?: string;
  serial?: string;
  not_after?: string;
  code?: string;
  message?: string;
}

/** The certificates of a PEM bundle, or one DER certificate. */
function certificateChain(path: string): Uint8Array[] {
  const bytes = readInputFile(path, 256 * 1024);
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.includes('-----BEGIN')) return [bytes];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----/g;
  const chain = [...text.matchAll(re)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
  );
  if (chain.length === 0) throw new InputFileError(`${path}: no PEM certificate`);
  return chain;
}

/**
 * Verifies a workload certificate against a bundle's X.509 authorities; rejections come back as
 * `accepted: false` with their code. Without `--allow` any certified identifier is accepted.
 *
 * @internal
 */
export async function rpVerifyCert(opts: RpVerifyCertOptions): Promise<RpVerifyCertResult> {
  const now = opts.at === undefined ? new Date() : instantOption('--at', opts.at);
  const chain = certificateChain(opts.cert);
  const bundle = (await loadJwks(opts.bundle, '--bundle')) as X509Bundle;
  // Without --allow the identity is reported whatever it is: the caller decides.
  const allow = opts.allow?.length ? parseAllowList(opts.allow) : { anyId: true };
  try {
    const peer = verifyPeerCertificate(chain, { bundle, allow, now });
    return {
      accepted: true,
      workload_id: peer.workloadId,
      trust_domain: peer.trustDomain,
      ...(peer.jti !== undefined ? { jti: peer.jti } : {}),
      serial: peer.serial,
      not_after: peer.notAfter.toISOString(),
    };
  } catch (err) {
    if (!(err instanceof MtlsError)) throw err;
    return { accepted: false, code: err.code, message: err.message };
  }
}

/** @internal */
export function registerRp(program: Command): void {
  const rp = program
    .command('rp')
    .description('relying-party tools for WIMSE workload credentials');
  rp.command('verify')
    .description('verify a Workload Identity Token and its Workload Proof Token')
    .requiredOption('--wit <file|token>', 'the WIT (compact JWT, or a file holding it)')
    .requiredOption('--wpt <file|token>', 'the WPT (compact JWT, or a file holding it)')
    .requiredOption('--aud <url>', 'this service: the audience the WPT must name')
    .option('--jwks <url|file>', "the issuer's JWKS or SPIFFE bundle (or --issuer)")
    .option(
      '--issuer <url>',
      "the WIT's required iss; without --jwks, the keys are found by OpenID discovery from it",
    )
    .option(
      '--cacert <file>',
      'with --issuer: CA certificates (PEM) to trust instead of the system ones',
    )
    .option('--at <iso>', 'verify at this instant instead of now')
    .option('--trust-domain <domain...>', 'accepted trust domains (any when omitted)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: RpVerifyOptions) => {
      const result = await rpVerify(opts);
      if (opts.json) printJson(result);
      else if (result.accepted) {
        process.stdout.write(`accepted: ${result.workload_id} (jti ${result.wit_jti ?? '-'})\n`);
      } else process.stdout.write(`rejected: ${result.code}: ${result.message}\n`);
      process.exitCode = result.accepted ? 0 : EXIT_REJECTED;
    });
  rp.command('verify-cert')
    .description('verify an X.509 workload certificate (chain) against a SPIFFE bundle')
    .requiredOption('--cert <file>', 'the certificate, PEM (leaf first, then intermediates) or DER')
    .requiredOption('--bundle <url|file>', "the issuer's SPIFFE bundle (x509-svid authorities)")
    .option(
      '--allow <id>',
      'accepted identifier, or trust domain (no path); repeatable (any when omitted)',
      collect,
    )
    .option('--at <iso>', 'verify at this instant instead of now')
    .option('--json', 'print the result as JSON')
    .action(async (opts: RpVerifyCertOptions) => {
      const result = await rpVerifyCert(opts);
      if (opts.json) printJson(result);
      else if (result.accepted) {
        process.stdout.write(
          `accepted: ${result.workload_id}\n  jti: ${result.jti ?? '-'}\n` +
            `  serial: ${result.serial}\n  not after: ${result.not_after}\n`,
        );
      } else process.stdout.write(`rejected: ${result.code}: ${result.message}\n`);
      process.exitCode = result.accepted ? 0 : EXIT_REJECTED;
    });
}
