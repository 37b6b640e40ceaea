/**
 * `twi serve`: runs the verifier service (challenge, attest, appraise, JWKS, bundle) on a
 * loopback port until SIGINT or SIGTERM.
 */
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { loadCorimKeys } from '../../endorsements/corim/load.js';
import { builderTrust } from '../../provenance/builder-config.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { loadPolicy } from '../../verifier/policy/loader.js';
import { createService } from '../../service/service.js';
import { earProfileOption } from '../../verifier/ear/profiles.js';
import { decodeKek, KekError } from '../../service/store/kek.js';
import { openStore, parseStoreUrl } from '../../service/store/open.js';
import { readKekFile } from '../../service/store/kek-file.js';
import { readServiceTls, type ServiceTls } from '../../service/tls.js';
import { ensureDevTls } from '../../service/dev-tls.js';
import {
  securePrivateDir,
  secureSqliteFiles,
  type ModeFix,
} from '../../service/store/file-modes.js';
import { intOption } from '../args.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  prettyLogStream,
  type LogFormat,
} from '../../service/log-format.js';
import { applyConfigFile } from './serve-config.js';
import { CliError, listenError, pathError, readFlagFile, readInputFile } from '../io.js';

/** A PEM file named on the command line, through the CLI's bounded reader (one-line errors). */
const readText = (path: string): string => Buffer.from(readInputFile(path)).toString('utf8');

/** A JSON file named by `flag`; unreadable or malformed files are one-line errors. */
function readJson(flag: string, path: string | undefined): unknown {
  if (path === undefined) return undefined;
  const text = Buffer.from(readFlagFile(flag, path)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(
      'ERR_INPUT_INVALID',
      `${path}: not JSON: ${(err as Error).message} (${flag})`,
    );
  }
}

/** The provenance trust of `--builder-keys` and `--sigstore-trusted-root`. */
function builderTrustFromFlags(o: ServeCliOptions): ReturnType<typeof builderTrust> {
  const keys = readJson('--builder-keys', o.builderKeys);
  const root = readJson('--sigstore-trusted-root', o.sigstoreTrustedRoot);
  try {
    return builderTrust(keys, root);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const named = [
      ...(o.builderKeys !== undefined ? [`--builder-keys ${o.builderKeys}`] : []),
      ...(o.sigstoreTrustedRoot !== undefined
        ? [`--sigstore-trusted-root ${o.sigstoreTrustedRoot}`]
        : []),
    ];
    throw new CliError('ERR_INPUT_INVALID', `${err.message} (${named.join(', ')})`);
  }
}

/** `--host`: an IP address or a host name (the issuer URL is made from it). */
function hostOption(host: string): string {
  const name =
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  if (isIP(host) !== 0 || (name.test(host) && !/^[\d.]+$/.test(host))) return host;
  throw new CliError(
    'ERR_BAD_HOST',
    `${JSON.stringify(host)} is not an IP address or host name (--host)`,
  );
}

/** `--data`: refused early when it names something other than a directory. */
function checkDataDir(data: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(data).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // created 0700 below
    throw pathError(err, 'cannot use', data, '--data');
  }
  if (!isDir) throw new CliError('ERR_PATH', `${data} is not a directory (--data)`);
}

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
  logOrigin?: string;
  logOid?: string;
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
  earProfile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  devTls?: boolean;
  consolePublic?: boolean;
  logLevel?: string;
  logFormat?: string;
  config?: string;
}

/** `--log-level` and `--log-format`, checked; the service's logger options. */
function logFromFlags(o: ServeCliOptions): {
  logLevel?: string;
  logStream?: { write(line: string): void };
} {
  if (o.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(o.logLevel)) {
    throw new TypeError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (o.logFormat !== undefined && !(LOG_FORMATS as readonly string[]).includes(o.logFormat)) {
    throw new TypeError(`--log-format must be one of ${LOG_FORMATS.join(', ')}`);
  }
  const format = (o.logFormat ?? 'json') as LogFormat;
  return {
    ...(o.logLevel !== undefined && { logLevel: o.logLevel }),
    ...(format === 'pretty' && { logStream: prettyLogStream(process.stdout) }),
  };
}

/**
 * The TLS material from `--tls-cert`/`--tls-key` (both or neither) and `--tls-client-ca`, or
 * the development certificate of `--dev-tls` (made or reused under DATA/dev-tls); `undefined`
 * for plain HTTP.
 */
async function tlsFromFlags(o: ServeCliOptions, data: string): Promise<ServiceTls | undefined> {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new TypeError('--tls-cert and --tls-key go together');
  }
  if (o.devTls && o.tlsCert !== undefined) {
    throw new TypeError('--dev-tls and --tls-cert exclude each other');
  }
  if (o.tlsClientCa !== undefined && o.tlsCert === undefined && !o.devTls) {
    throw new TypeError('--tls-client-ca needs --tls-cert and --tls-key (or --dev-tls)');
  }
  if (o.tlsCert !== undefined && o.tlsKey !== undefined) {
    return readServiceTls({
      cert: o.tlsCert,
      key: o.tlsKey,
      ...(o.tlsClientCa !== undefined && { clientCa: o.tlsClientCa }),
    });
  }
  if (!o.devTls) return undefined;
  const dev = await ensureDevTls(data);
  process.stdout.write(
    `twi: development TLS certificate ${dev.created ? 'created' : 'reused'}: ` +
      `trust ${dev.caFile} (curl --cacert ${dev.caFile})\n`,
  );
  return readServiceTls({
    cert: dev.certFile,
    key: dev.keyFile,
    ...(o.tlsClientCa !== undefined && { clientCa: o.tlsClientCa }),
  });
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

/** A host for a URL: an IPv6 address in brackets. */
const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

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
  const token = Buffer.from(readFlagFile('--admin-token-file', file, 4096))
    .toString('utf8')
    .trim();
  if (token === '') {
    throw new CliError(
      'ERR_ADMIN_TOKEN',
      `${file} is empty: write the token in it (--admin-token-file)`,
    );
  }
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
  const log = logFromFlags(o);
  const port = o.port === undefined ? 8443 : intOption('--port', o.port, 0, 65535);
  const host = hostOption(o.host ?? '127.0.0.1');
  const data = o.data ?? '.twi';
  checkDataDir(data);
  const adminToken = readAdminToken(o.adminTokenFile);
  const provenanceTrust = builderTrustFromFlags(o);
  const storeUrl = o.store ?? `sqlite:${join(data, 'twi.db')}`;
  const kek = resolveKek(o.kekFile, storeUrl);
  const tls = await tlsFromFlags(o, data);
  const scheme = tls ? 'https' : 'http';
  try {
    secureFiles(o.store === undefined ? data : undefined, storeUrl);
  } catch (err) {
    throw o.store === undefined
      ? pathError(err, 'cannot prepare', data, '--data')
      : pathError(err, 'cannot prepare', storeUrl, '--store');
  }
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
      ...(o.policy !== undefined && { policy: loadPolicy(o.policy, { source: 'file' }) }),
      ...(provider && { provider }),
      issuer: o.issuer ?? `${scheme}://${urlHost(host)}:${port}`,
      ...(tls && { tls }),
      trustDomain: o.trustDomain ?? 'twi.local',
      limits: limitsFromFlags(o),
      ca: caFromFlags(o),
      ...(adminToken !== undefined && { adminToken }),
      ...(o.consolePublic && { consoleReadOnly: true }),
      ...log,
      ...(o.earProfile !== undefined && {
        earProfile: earProfileOption(o.earProfile, '--ear-profile'),
      }),
      provenance: {
        ...provenanceTrust,
        corimKeys: loadCorimKeys(o.corimKey ?? []),
        ...(o.logOrigin !== undefined && { checkpointOrigin: o.logOrigin }),
        ...(o.logOid !== undefined && { logOid: o.logOid }),
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
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close().catch(() => undefined);
      throw listenError(err, host, port, '--port', '--host');
    }
    const addr = app.server.address();
    const real = addr && typeof addr === 'object' ? addr.port : port;
    process.stdout.write(`twi: verifier listening on ${scheme}://${urlHost(host)}:${real}\n`);
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
    .option(
      '--issuer <url>',
      'issuer URL in the OpenID configuration (default the listen URL, https with TLS)',
    )
    .option('--admin-token-file <file>', 'enable /v1/admin/* with the bearer token in this file')
    .option(
      '--builder-keys <file>',
      'JSON array of builder keys DSSE provenance must be signed with',
    )
    .option('--sigstore-trusted-root <file>', 'Sigstore trusted_root.json for Sigstore bundles')
    .option('--corim-key <file...>', 'keys signed CoRIM supply-chain records must verify with')
    .option(
      '--log-origin <name>',
      'origin of the log checkpoints (default <issuer host>/twi/provenance)',
    )
    .option('--log-oid <oid>', "the log's OID: tree heads also carry RFC 9162 TransItems")
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
    .option('--cert-lifetime <s>', 'lifetime of X.509 workload certificates (default 3600)')
    .option('--ear-profile <name>', 'EAR profile when a request names none: draft or veraison')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate, PEM, then its chain')
    .option('--tls-key <file>', "the TLS certificate's private key, PEM (with --tls-cert)")
    .option(
      '--tls-client-ca <file>',
      'CA certificates, PEM: /v1/admin/* and /v1/revoke then need a client certificate they issued',
    )
    .option(
      '--dev-tls',
      'serve HTTPS with a localhost certificate from a throw-away CA, kept in DATA/dev-tls (development)',
    );
  serve
    .option(
      '--console-public',
      'answer the admin GETs (policy, keys, revocations, appraisals, credentials) without the token',
    )
    .option('--log-level <level>', `${LOG_LEVELS.join('|')} (default info)`)
    .option('--log-format <format>', 'json (default) or pretty: one readable line per entry')
    .option('--config <file>', 'YAML file of these flags (kebab or camelCase keys); flags win');
  addLimitOptions(serve).action(async (_opts: ServeCliOptions, cmd: Command) => {
    const config = cmd.getOptionValue('config') as string | undefined;
    if (config !== undefined) applyConfigFile(cmd, config);
    process.exitCode = await runServe(cmd.opts<ServeCliOptions>());
  });
}
