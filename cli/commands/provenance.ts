/**
 * `twi provenance add|show|verify|checkpoint|query|revoke|lift|revoked-builds`: talks to a verifier service's provenance
 * API. `verify` checks the answer offline — the leaf hash recomputed from the record, the
 * inclusion proof, the tree-head signature against the published (or a pinned) log key.
 * `checkpoint` fetches the log's C2SP checkpoint and verifies it with the note key.
 * Exit 0 ok/verified, 2 proof failed, 3 usage error, unreadable input or a refused request.
 */
import type { Command } from 'commander';
import { CORIM_MEDIA_TYPE, JSON_MEDIA_TYPE } from '../../wire/media-types.js';
import { TwiError } from '../../common/errors.js';
import { ProvenanceError } from '../../provenance/errors.js';
import { verifyProvenanceAnswer, type ProvenanceAnswer } from '../../provenance/verify-answer.js';
import type { PublishedLogKey } from '../../provenance/tree-head.js';
import { verifyCheckpoint } from '../../provenance/checkpoint.js';
import { NoteError } from '../../provenance/signed-note.js';
import { fetchNamed, printJson, readInputFile } from '../io.js';
import { queryLines, showLines } from './provenance-format.js';

/** Exit code when a proof does not verify. @internal */
export const EXIT_PROOF_FAILED = 2;

const MAX_ANSWER_BYTES = 4 << 20;

/** A problem the service answered with (its `code` kept). @internal */
export class ServiceProblemError extends TwiError {
  override readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

interface Remote {
  url: string;
  adminTokenFile?: string;
  json?: boolean;
}

function adminHeader(o: Remote): Record<string, string> {
  if (o.adminTokenFile === undefined) throw new TypeError('--admin-token-file is required');
  const token = Buffer.from(readInputFile(o.adminTokenFile, 4096)).toString('utf8').trim();
  if (token === '') throw new TypeError(`${o.adminTokenFile} is empty`);
  return { authorization: `Bearer ${token}` };
}

async function call(o: Remote, path: string, init: RequestInit = {}): Promise<unknown> {
  const base = new URL(o.url);
  const res = await fetchNamed(
    new URL(path, base),
    { ...init, signal: AbortSignal.timeout(15_000) },
    '--url',
  );
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new ServiceProblemError('ERR_ANSWER_TOO_LARGE', path);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServiceProblemError('ERR_ANSWER_INVALID', `${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const p = body as { code?: string; detail?: string };
    throw new ServiceProblemError(p.code ?? `HTTP_${res.status}`, p.detail ?? `HTTP ${res.status}`);
  }
  return body;
}

async function callText(o: Remote, path: string): Promise<string> {
  const res = await fetchNamed(
    new URL(path, new URL(o.url)),
    { signal: AbortSignal.timeout(15_000) },
    '--url',
  );
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new ServiceProblemError('ERR_ANSWER_TOO_LARGE', path);
  if (!res.ok) throw new ServiceProblemError(`HTTP_${res.status}`, `${path}: HTTP ${res.status}`);
  return text;
}

async function checkpointCommand(o: Remote & { noteKey?: string }): Promise<number> {
  const vkey =
    o.noteKey === undefined
      ? await callText(o, '/v1/log/note-key')
      : Buffer.from(readInputFile(o.noteKey, 64 * 1024)).toString('utf8');
  const note = await callText(o, '/v1/log/checkpoint');
  try {
    const cp = verifyCheckpoint(note, [vkey.trim()]);
    const root = Buffer.from(cp.root).toString('base64');
    if (o.json)
      printJson({ verified: true, origin: cp.origin, tree_size: cp.size, root_hash: root });
    else
      process.stdout.write(
        `verified checkpoint\norigin: ${cp.origin}\ntree size: ${cp.size}\nroot hash: ${root}\n`,
      );
    return 0;
  } catch (err) {
    if (!(err instanceof NoteError)) throw err;
    if (o.json) printJson({ verified: false, code: err.code, message: err.message });
    else process.stdout.write(`not verified: ${err.code}: ${err.message}\n`);
    return EXIT_PROOF_FAILED;
  }
}

async function add(file: string, o: Remote): Promise<void> {
  const bytes = readInputFile(file, 256 * 1024);
  const isJson = Buffer.from(bytes.subarray(0, 1)).toString() === '{';
  const out = await call(o, '/v1/admin/provenance', {
    method: 'POST',
    headers: {
      ...adminHeader(o),
      'content-type': isJson ? JSON_MEDIA_TYPE : CORIM_MEDIA_TYPE,
    },
    body: Buffer.from(bytes),
  });
  if (o.json) printJson(out);
  else {
    const r = out as { digest: string; kind: string; leaf_index: number };
    process.stdout.write(`added ${r.kind} ${r.digest} (log leaf ${r.leaf_index})\n`);
  }
}

async function loadLogKey(o: Remote & { logKey?: string }): Promise<PublishedLogKey> {
  if (o.logKey === undefined) return (await call(o, '/v1/log/key')) as PublishedLogKey;
  const text = Buffer.from(readInputFile(o.logKey, 64 * 1024)).toString('utf8');
  try {
    return JSON.parse(text) as PublishedLogKey;
  } catch {
    throw new TypeError(`${o.logKey}: not a log key document (JSON from GET /v1/log/key)`);
  }
}

async function verifyCommand(jti: string, o: Remote & { logKey?: string }): Promise<number> {
  const key = await loadLogKey(o);
  const answer = (await call(o, `/v1/provenance/${encodeURIComponent(jti)}`)) as ProvenanceAnswer;
  try {
    const v = verifyProvenanceAnswer(answer, key, jti);
    const record = answer.record as {
      provenance?: { source_commit?: string; builder_id?: string }[];
    };
    const result = {
      verified: true,
      jti,
      leaf_index: answer.leaf_index,
      tree_size: v.treeSize,
      root_hash: Buffer.from(v.root).toString('base64'),
      log_id: key.log_id,
      provenance: record.provenance ?? [],
    };
    if (o.json) printJson(result);
    else
      process.stdout.write(
        `verified: ${jti} is leaf ${answer.leaf_index} of the signed tree of ${v.treeSize}\n`,
      );
    return 0;
  } catch (err) {
    if (!(err instanceof ProvenanceError)) throw err;
    if (o.json) printJson({ verified: false, jti, code: err.code, message: err.message });
    else process.stdout.write(`not verified: ${err.code}: ${err.message}\n`);
    return EXIT_PROOF_FAILED;
  }
}

interface Selectors extends Remote {
  commit?: string;
  builder?: string;
  measurement?: string;
  repository?: string;
  since?: string;
  until?: string;
  live?: boolean;
}

function selectorParams(o: Selectors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['commit', 'builder', 'measurement', 'repository', 'since', 'until'] as const) {
    if (o[k] !== undefined) out[k] = o[k]!;
  }
  if (Object.keys(out).length === 0) {
    throw new TypeError('give --commit, --builder, --measurement, --repository or --since/--until');
  }
  return out;
}

function withSelectors(cmd: Command): Command {
  return cmd
    .option('--commit <sha>', 'source commit (40 or 64 hex)')
    .option('--builder <id>', 'SLSA builder id')
    .option('--measurement <hex>', 'a measurement (MRTD, RTMR, MEASUREMENT, HOST_DATA, PCR) in hex')
    .option('--repository <uri>', 'source repository')
    .option('--since <iso>', 'issued at or after')
    .option('--until <iso>', 'issued before');
}

/** @internal */
export function registerProvenance(program: Command): void {
  const p = program
    .command('provenance')
    .description('supply-chain records and the transparency log');
  p.command('add <file>')
    .description('add a DSSE envelope (JSON) or a signed CoRIM (CBOR) through the admin API')
    .requiredOption('--url <url>', 'verifier service URL')
    .requiredOption('--admin-token-file <file>', 'file holding the admin bearer token')
    .option('--json', 'print the answer as JSON')
    .action(async (file: string, o: Remote) => add(file, o));
  p.command('show <jti>')
    .description("print a credential's provenance record, inclusion proof and signed tree head")
    .requiredOption('--url <url>', 'verifier service URL')
    .option('--json', "print the service's answer as JSON")
    .action(async (jti: string, o: Remote) => {
      const answer = await call(o, `/v1/provenance/${encodeURIComponent(jti)}`);
      if (o.json) printJson(answer);
      else process.stdout.write(showLines(answer as Record<string, unknown>).join('\n') + '\n');
    });
  p.command('verify <jti>')
    .description('verify the record, inclusion proof and tree-head signature offline')
    .requiredOption('--url <url>', 'verifier service URL')
    .option('--log-key <file>', 'pinned log key (JSON of GET /v1/log/key) instead of fetching it')
    .option('--json', 'print the result as JSON')
    .action(async (jti: string, o: Remote & { logKey?: string }) => {
      process.exitCode = await verifyCommand(jti, o);
    });
  p.command('checkpoint')
    .description("fetch the log's C2SP checkpoint and verify it with the log's note key")
    .requiredOption('--url <url>', 'verifier service URL')
    .option('--note-key <file>', 'pinned note verifier key (text of GET /v1/log/note-key)')
    .option('--json', 'print the result as JSON')
    .action(async (o: Remote & { noteKey?: string }) => {
      process.exitCode = await checkpointCommand(o);
    });
  withSelectors(p.command('query'))
    .description('credentials linked to a commit, builder, measurement, repository or time range')
    .requiredOption('--url <url>', 'verifier service URL')
    .option('--live', 'only credentials neither revoked nor expired')
    .option('--json', "print the service's answer as JSON")
    .action(async (o: Selectors) => {
      const q = new URLSearchParams({ ...selectorParams(o), ...(o.live && { live: 'true' }) });
      const answer = await call(o, `/v1/provenance?${q}`);
      if (o.json) printJson(answer);
      else
        process.stdout.write(
          queryLines(answer as { credentials?: Record<string, unknown>[] }).join('\n') + '\n',
        );
    });
  withSelectors(p.command('revoke'))
    .description(
      'revoke every live credential matching the selector and refuse that build new ones (admin API)',
    )
    .requiredOption('--url <url>', 'verifier service URL')
    .requiredOption('--admin-token-file <file>', 'file holding the admin bearer token')
    .option('--no-block', 'revoke the live credentials only; the build may attest again')
    .action(async (o: Selectors & { block: boolean }) => {
      const out = await call(o, '/v1/revoke', {
        method: 'POST',
        headers: { ...adminHeader(o), 'content-type': JSON_MEDIA_TYPE },
        body: JSON.stringify({ ...selectorParams(o), ...(!o.block && { block: false }) }),
      });
      printJson(out);
    });
  withSelectors(p.command('lift'))
    .description('lift a build revocation so the build can attest again (admin API)')
    .requiredOption('--url <url>', 'verifier service URL')
    .requiredOption('--admin-token-file <file>', 'file holding the admin bearer token')
    .action(async (o: Selectors) => {
      const q = new URLSearchParams(selectorParams(o));
      printJson(
        await call(o, `/v1/admin/revoked-builds?${q}`, {
          method: 'DELETE',
          headers: adminHeader(o),
        }),
      );
    });
  p.command('revoked-builds')
    .description('list the build revocations in force (admin API)')
    .requiredOption('--url <url>', 'verifier service URL')
    .requiredOption('--admin-token-file <file>', 'file holding the admin bearer token')
    .action(async (o: Remote) =>
      printJson(await call(o, '/v1/admin/revoked-builds', { headers: adminHeader(o) })),
    );
}
