/**
 * `twi endorsements export|import|list`: move collateral between a directory cache and an
 * offline bundle, for verifiers without network access.
 *
 * The CLI's verify hook checks integrity only (body hash, dates): the verifier that later
 * loads the directory re-verifies each entry with the vendor verifiers, and the verify stage
 * checks collateral signatures on use.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { exportBundle, importBundle, type ImportedBundle } from '../../endorsements/bundle.js';
import { verifyIntegrity } from '../../endorsements/provider/codec.js';
import {
  createDirectoryStore,
  writeAtomic,
  type EndorsementStore,
} from '../../endorsements/provider/directory-store.js';
import { requestKey, type Endorsement } from '../../verifier/verify/endorsement-provider.js';
import { collect, instantOption, readPublicKey } from '../args.js';
import { pathError, printJson, readInputFile, systemError } from '../io.js';

const MAX_BUNDLE_BYTES = 64 << 20;

interface CommonOptions {
  cache: string;
  now?: string;
  json?: boolean;
}

/** One line of `twi endorsements list`. @internal */
export interface ListedEndorsement {
  key: string;
  source?: string;
  fetchedAt?: string;
  nextUpdate?: string;
  status: 'valid' | 'expired' | 'invalid';
  problem?: string;
}

function storeOf(dir: string): EndorsementStore {
  return createDirectoryStore(dir, { verify: verifyIntegrity });
}

function nowOf(o: CommonOptions): Date {
  return o.now === undefined ? new Date() : instantOption('--now', o.now);
}

/** Every entry of a directory cache, with its state at `now`. @internal */
export async function listCache(
  store: EndorsementStore,
  now: Date,
): Promise<{ listed: ListedEndorsement[]; entries: Endorsement[] }> {
  const listed: ListedEndorsement[] = [];
  const entries: Endorsement[] = [];
  for (const key of await store.keys()) {
    try {
      const e = await store.load(key, now);
      if (!e) continue;
      const valid = now.getTime() < e.nextUpdate.getTime();
      if (valid) entries.push(e);
      listed.push({
        key,
        source: e.source,
        fetchedAt: e.fetchedAt.toISOString(),
        nextUpdate: e.nextUpdate.toISOString(),
        status: valid ? 'valid' : 'expired',
      });
    } catch (err) {
      listed.push({ key, status: 'invalid', problem: (err as Error).message });
    }
  }
  return { listed, entries };
}

async function runExport(o: CommonOptions & { out: string; signKey?: string }): Promise<void> {
  const signingKey = o.signKey === undefined ? undefined : readPrivateKey(o.signKey);
  const now = nowOf(o);
  const { listed, entries } = await listCache(storeOf(o.cache), now);
  const bytes = await exportBundle(entries, { created: now, ...(signingKey && { signingKey }) });
  await writeAtomic(o.out, bytes).catch((err: unknown) => {
    throw systemError(err) ? pathError(err, 'cannot write', o.out, '--out') : err;
  });
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { sha256: string; kid?: string };
  const skipped = listed.filter((l) => l.status !== 'valid');
  const result = {
    out: o.out,
    exported: entries.length,
    skipped: skipped.map(({ key, status, problem }) => ({ key, status, problem })),
    sha256: doc.sha256,
    ...(doc.kid && { kid: doc.kid }),
  };
  if (o.json) return printJson(result);
  const lines = [`exported ${entries.length} endorsement(s) from ${o.cache} to ${o.out}`];
  for (const s of skipped) lines.push(`  skipped ${s.key}: ${s.problem ?? s.status}`);
  lines.push(`sha256 ${doc.sha256}` + (doc.kid ? `, signed by kid ${doc.kid}` : ', unsigned'));
  process.stdout.write(lines.join('\n') + '\n');
}

async function runImport(
  file: string,
  o: CommonOptions & { sha256?: string; trustKey?: string[] },
): Promise<void> {
  if (o.sha256 === undefined && (o.trustKey ?? []).length === 0) {
    throw new TypeError('import needs --sha256 HEX or --trust-key PEM: bundles are authenticated');
  }
  if (o.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.sha256)) {
    throw new TypeError(`--sha256 must be 64 hex digits, got ${JSON.stringify(o.sha256)}`);
  }
  const bundle: ImportedBundle = await importBundle(readInputFile(file, MAX_BUNDLE_BYTES), {
    ...(o.sha256 !== undefined && { expectedSha256: o.sha256 }),
    ...(o.trustKey && { trustedKeys: o.trustKey.map((p) => readPublicKey(p).key) }),
    verify: verifyIntegrity,
    now: nowOf(o),
  });
  const store = storeOf(o.cache);
  for (const e of bundle.entries) await store.save(e);
  const how = bundle.kid ? `signature by kid ${bundle.kid}` : 'pinned sha256';
  const result = {
    file,
    cache: o.cache,
    imported: bundle.entries.length,
    sha256: bundle.sha256,
    ...(bundle.kid && { kid: bundle.kid }),
    keys: bundle.entries.map((e) => requestKey(e.request)),
  };
  if (o.json) return printJson(result);
  const lines = [
    `imported ${bundle.entries.length} endorsement(s) from ${file} into ${o.cache}`,
    `sha256 ${bundle.sha256} (checked: ${how})`,
    ...result.keys.map((k) => `  ${k}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function runList(o: CommonOptions): Promise<void> {
  const { listed } = await listCache(storeOf(o.cache), nowOf(o));
  if (o.json) return printJson(listed);
  if (listed.length === 0) {
    process.stdout.write(`${o.cache}: no endorsements\n`);
    return;
  }
  const width = Math.max(...listed.map((l) => l.key.length));
  const lines = listed.map((l) =>
    [l.key.padEnd(width), (l.source ?? '-').padEnd(7), l.nextUpdate ?? '-', l.status]
      .concat(l.problem ? [l.problem] : [])
      .join('  '),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

function readPrivateKey(path: string): KeyObject {
  const pem = Buffer.from(readInputFile(path, 64 * 1024));
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new TypeError(`${path}: not a private key PEM: ${(err as Error).message}`);
  }
}

/** Registers `twi endorsements` and its subcommands. @internal */
export function registerEndorsements(program: Command): void {
  const cmd = program
    .command('endorsements')
    .description('move endorsements between a directory cache and offline bundles');
  cmd
    .command('export')
    .description('write the valid entries of a directory cache as a bundle')
    .requiredOption('--out <file>', 'bundle file to write')
    .requiredOption('--cache <dir>', 'directory cache to read')
    .option('--sign-key <pem>', 'EC P-256/P-384 private key PEM: sign the bundle')
    .option('--now <iso>', 'instant that decides which entries are still valid')
    .option('--json', 'print the result as JSON')
    .action((o: CommonOptions & { out: string; signKey?: string }) => runExport(o));
  cmd
    .command('import')
    .description('check a bundle (pinned sha256 or signature) and add it to a directory cache')
    .argument('<file>', 'bundle file')
    .requiredOption('--cache <dir>', 'directory cache to write')
    .option('--sha256 <hex>', 'the bundle sha256 to accept (printed by export)')
    .option('--trust-key <pem>', 'public key whose signature to accept (repeatable)', collect)
    .option('--now <iso>', 'instant the entries are checked at')
    .option('--json', 'print the result as JSON')
    .action((file: string, o: CommonOptions & { sha256?: string; trustKey?: string[] }) =>
      runImport(file, o),
    );
  cmd
    .command('list')
    .description('show the keys, sources and nextUpdate of a directory cache')
    .requiredOption('--cache <dir>', 'directory cache to read')
    .option('--now <iso>', 'instant that decides valid or expired')
    .option('--json', 'print the entries as JSON')
    .action((o: CommonOptions) => runList(o));
}
