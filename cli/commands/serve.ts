/**
 * `twi serve`: runs the verifier service (challenge, attest, appraise, JWKS, bundle) on a
 * loopback port until SIGINT or SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { loadCorimKeys } from '../../endorsements/corim/load.js';
import { builderTrust } from '../../provenance/builder-config.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { loadPolicy } from '../../verifier/policy/loader.js';
import { createService } from '../../service/service.js';
import { decodeKek, KekError } from '../../service/store/kek.js';
import { openStore, parseStoreUrl } from '../../service/store/open.js';
import { readKekFile } from '../../service/store/kek-file.js';
import {
  securePrivateDir,
  secureSqliteFiles,
  type ModeFix,
} from '../../service/store/file-modes.js';
import { intOption } from '../args.js';
import { readInputFile } from '../io.js';

/** A PEM file named on the command line, through the CLI's bounded reader (one-line errors). */
const readText = (path: string): string => Buffer.from(readInputFile(path)).toString('utf8');
const readJson = (path: string | undefined): unknown =>
  path === undefined ? undefined : JSON.parse(readFileSync(path, 'utf8'));
import type { ServiceCaOptions } from '../../service/ca-keys.js';
import {
  addLimitOptions,
  fetchGuardFromFlags,
  limitsFromFlags,
  type ServeLimitFlags,
} from './serve-limits.js';

interface ServeCliOptions extends ServeLimitFlags {
  port?: string;
  host?: string;
  store?: string;
  data?: string;
  trustAnchors?: string;
  policy?: string;
  pcsUrl?: string;
  kdsUrl?: string;
  trustDomain?: string;
  issuer?: string;
  adminTokenFile?: string;
  builderKeys?: string;
  sigstoreTrustedRoot?: string;
  corimKey?: string[];
  bundleRefreshHint?: string;
  syncInterval?: string;
  noncePurgeInterval?: string;
  kekFile?: string;
  caCert?: string;
  caChain?: string;
  caKey?: string;
  caAlg?: string;
  certLifetime?: string;
}

/**
 * The CA options: the operator's intermediate from `--ca-cert`, `--ca-chain` and `--ca-key`
 * (certificate and key both or neither), `--ca-alg` of a generated root, `--cert-lifetime`.
 */
function caFromFlags(o: ServeCliOptions): ServiceCaOptions {
  if ((o.caCert === undefined) !== (o.caKey === undefined)) {
    throw new TypeError('--ca-cert and --ca-key go together');
  }
  if (o.caChain !== undefined && o.caCert === undefined) {
    throw new TypeError('--ca-chain needs --ca-cert and --ca-key');
  }
  if (o.caAlg !== undefined && o.caAlg !== 'ES256' && o.caAlg !== 'ES384') {
    throw new TypeError('--ca-alg must be ES256 or ES384');
  }
  return {
    ...(o.caAlg !== undefined && { alg: o.caAlg }),
    ...(o.certLifetime !== undefined && {
      certLifetimeSeconds: intOption('--cert-lifetime', o.certLifetime, 1, 86_400),
    }),
    ...(o.caCert !== undefined &&
      o.caKey !== undefined && {
        intermediate: {
          certificate: readText(o.caCert),
          privateKey: readText(o.caKey),
          ...(o.caChain !== undefined && { chain: [readText(o.caChain)] }),
        },
      }),
  };
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The admin token from its file (trimmed); an empty file is refused. */
function readAdminToken(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const token = readFileSync(file, 'utf8').trim();
  if (token === '') throw new Error(`--admin-token-file ${file} is empty`);
  return token;
}

/**
 * The KEK: `--kek-file`, else `TWI_KEK`, else none (an SQLite store then uses the `kek` file
 * beside the database, generated on first start; a PostgreSQL store is refused).
 */
function resolveKek(kekFile: string | undefined, storeUrl: string): Buffer | undefined {
  if (kekFile !== undefined) return readKekFile(kekFile);
  const env = process.env['TWI_KEK'];
  if (env !== undefined && env !== '') return decodeKek(env, 'TWI_KEK');
  if (parseStoreUrl(storeUrl).kind === 'postgres') {
    throw new KekError(
      'ERR_KEK_MISSING',
      'a PostgreSQL store needs a KEK: give --kek-file FILE or set TWI_KEK (32 bytes, base64url)',
    );
  }
  return undefined;
}

/** Tightens the data directory and the SQLite files, saying what was too open. */
function secureFiles(data: string | undefined, storeUrl: string): void {
  const fixes: ModeFix[] = data === undefined ? [] : securePrivateDir(data);
  const target = parseStoreUrl(storeUrl);
  if (target.kind === 'sqlite' && target.file !== ':memory:') {
    fixes.push(...secureSqliteFiles(target.file));
  }
  for (const f of fixes) {
    process.stderr.write(
      `twi: ${f.path} was mode ${f.was.toString(8)}, now ${f.now.toString(8)}; ` +
        'keys stored by earlier versions were readable: rotate them\n',
    );
  }
}

async function runServe(o: ServeCliOptions): Promise<number> {
  const port = o.port === undefined ? 8443 : intOption('--port', o.port, 0, 65535);
  const host = o.host ?? '127.0.0.1';
  const data = o.data ?? '.twi';
  const adminToken = readAdminToken(o.adminTokenFile);
  const storeUrl = o.store ?? `sqlite:${join(data, 'twi.db')}`;
  const kek = resolveKek(o.kekFile, storeUrl);
  secureFiles(o.store === undefined ? data : undefined, storeUrl);
  const store = await openStore(storeUrl, kek === undefined ? {} : { kek });
  kek?.fill(0);
  const anchors = loadAnchorStore(o.trustAnchors === undefined ? [] : [o.trustAnchors]);
  const provider =
    o.pcsUrl || o.kdsUrl
      ? createEndorsementStack({
          anchors,
          ...(o.pcsUrl !== undefined && { pcsUrl: o.pcsUrl }),
          ...(o.kdsUrl !== undefined && { kdsUrl: o.kdsUrl }),
          fetchGuard: fetchGuardFromFlags(o),
        })
      : undefined;
  try {
    const app = await createService({
      store,
      anchors,
      ...(o.policy !== undefined && { policy: loadPolicy(o.policy) }),
      ...(provider && { provider }),
      issuer: o.issuer ?? `http://${host}:${port}`,
      trustDomain: o.trustDomain ?? 'twi.local',
      limits: limitsFromFlags(o),
      ca: caFromFlags(o),
      ...(adminToken !== undefined && { adminToken }),
      provenance: {
        ...builderTrust(readJson(o.builderKeys), readJson(o.sigstoreTrustedRoot)),
        corimKeys: loadCorimKeys(o.corimKey ?? []),
      },
      ...(o.bundleRefreshHint !== undefined && {
        bundleRefreshHintSeconds: intOption(
          '--bundle-refresh-hint',
          o.bundleRefreshHint,
          1,
          86_400,
        ),
      }),
      ...(o.syncInterval !== undefined && {
        syncIntervalMs: intOption('--sync-interval', o.syncInterval, 0, 3_600_000),
      }),
      ...(o.noncePurgeInterval !== undefined && {
        noncePurgeIntervalMs: intOption(
          '--nonce-purge-interval',
          o.noncePurgeInterval,
          0,
          86_400_000,
        ),
      }),
    });
    await app.listen({ host, port });
    const addr = app.server.address();
    const real = addr && typeof addr === 'object' ? addr.port : port;
    process.stdout.write(`twi: verifier listening on http://${host}:${real}\n`);
    await untilSignal();
    await app.close();
  } finally {
    await store.close();
  }
  return 0;
}

/** @internal */
export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the verifier service (challenge, attest, appraise, JWKS, SPIFFE bundle)')
    .option('--port <n>', 'port to listen on; 0 picks a free one (default 8443)')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--store <url>', 'store URL: sqlite:FILE or postgres://… (default sqlite:DATA/twi.db)')
    .option('--data <dir>', 'data directory, created 0700 (default .twi)')
    .option(
      '--kek-file <file>',
      'key-encryption key sealing stored private keys: 32 bytes, raw, hex or base64(url) ' +
        '(default: TWI_KEK, else DIR/kek beside an SQLite store, generated on first start)',
    )
    .option('--trust-anchors <dir>', 'extra roots (e.g. a simulator PKI) beside the vendor roots')
    .option('--policy <file>', 'appraisal policy, JSON or YAML (default: the built-in policy)')
    .option('--pcs-url <url>', "tdx: fetch collateral from this PCS (it wins over the attester's)")
    .option('--kds-url <url>', 'sev-snp: fetch VCEKs, chains and CRLs (always) from this AMD KDS')
    .option('--trust-domain <domain>', 'SPIFFE trust domain of issued WITs (default twi.local)')
    .option('--issuer <url>', 'issuer URL in the OpenID configuration (default the listen URL)')
    .option('--admin-token-file <file>', 'enable /v1/admin/* with the bearer token in this file')
    .option(
      '--builder-keys <file>',
      'JSON array of builder keys DSSE provenance must be signed with',
    )
    .option('--sigstore-trusted-root <file>', 'Sigstore trusted_root.json for Sigstore bundles')
    .option('--corim-key <file...>', 'keys signed CoRIM supply-chain records must verify with')
    .option('--bundle-refresh-hint <s>', 'spiffe_refresh_hint of the bundle, seconds (default 300)')
    .option(
      '--sync-interval <ms>',
      "poll the store for other instances' changes (default 2000; 0: off)",
    )
    .option(
      '--nonce-purge-interval <ms>',
      'delete expired nonces this often (default 60000; 0: off)',
    )
    .option('--ca-cert <file>', "the operator's intermediate CA certificate, PEM (with --ca-key)")
    .option('--ca-chain <file>', 'its issuers, PEM, nearest first (default: none)')
    .option('--ca-key <file>', "the intermediate's private key, PEM (EC P-256 or P-384)")
    .option('--ca-alg <alg>', 'algorithm of a generated root CA: ES256 (default) or ES384')
    .option('--cert-lifetime <s>', 'lifetime of X.509 workload certificates (default 3600)');
  addLimitOptions(serve).action(async (opts: ServeCliOptions) => {
    process.exitCode = await runServe(opts);
  });
}
