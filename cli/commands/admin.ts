/**
 * `twi admin`: the admin API of a running service (docs/service.md "Admin API" and "Admin read
 * API") from the command line. Every subcommand takes `--url` (default `TWI_URL`, else
 * `https://127.0.0.1:8443`, where `twi serve --dev-tls` listens), `--admin-token-file`
 * (default `TWI_ADMIN_TOKEN_FILE`), `--cacert FILE` (a CA to trust for https, e.g. the
 * development CA) and `--json` (the service's answer as it is; a table or `key: value` lines
 * otherwise). Plain http is accepted only on a loopback address: the token must not cross a
 * network in the clear. A refusal prints one line, `twi: ERR_…: detail`, and exits 3.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { TwiError } from '../../common/errors.js';
import { CORIM_MEDIA_TYPE, JSON_MEDIA_TYPE, YAML_MEDIA_TYPE } from '../../wire/media-types.js';
import { parsePolicyYamlDocument, policyYamlToJs } from '../../verifier/policy/yaml.js';
import { intOption } from '../args.js';
import { printJson, readInputFile } from '../io.js';

/** Default service URL when neither `--url` nor `TWI_URL` is given. @internal */
export const DEFAULT_ADMIN_URL = 'https://127.0.0.1:8443';
/** Largest answer read (bytes). */
const MAX_ANSWER_BYTES = 4 << 20;
const TIMEOUT_MS = 15_000;

/** A refusal from the service (its problem `code`) or a failure to reach it. @internal */
export class AdminCallError extends TwiError {
  constructor(
    override readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface AdminFlags {
  url?: string;
  adminTokenFile?: string;
  cacert?: string;
  json?: boolean;
  limit?: string;
}

type Json = Record<string, unknown>;

/** The service URL, checked: https, or http on a loopback address. */
function serviceUrl(flags: AdminFlags): URL {
  const text = flags.url ?? process.env['TWI_URL'] ?? DEFAULT_ADMIN_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`--url ${text} is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback =
    host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError(`--url must be https (http only on a loopback address): ${text}`);
  }
  return url;
}

function authorization(flags: AdminFlags): Record<string, string> {
  const file = flags.adminTokenFile ?? process.env['TWI_ADMIN_TOKEN_FILE'];
  if (file === undefined || file === '') return {};
  const token = Buffer.from(readInputFile(file, 4096)).toString('utf8').trim();
  if (token === '') throw new TypeError(`the admin token file ${file} is empty`);
  return { authorization: `Bearer ${token}` };
}

/** Reads an answer, bounded. */
function readAnswer(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) {
        res.destroy();
        reject(new AdminCallError('ERR_ANSWER_TOO_LARGE', `over ${MAX_ANSWER_BYTES} bytes`));
      } else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/**
 * One admin call; the JSON answer.
 *
 * @throws {AdminCallError} with the problem's code, or `ERR_SERVICE_UNREACHABLE`,
 *   `ERR_ANSWER_INVALID`.
 */
async function call(
  flags: AdminFlags,
  method: string,
  path: string,
  body?: { type: string; data: Uint8Array | string },
): Promise<Json> {
  const base = serviceUrl(flags);
  const url = new URL(path, base);
  const headers: Record<string, string> = { accept: JSON_MEDIA_TYPE, ...authorization(flags) };
  if (body) headers['content-type'] = body.type;
  const ca =
    flags.cacert === undefined
      ? undefined
      : Buffer.from(readInputFile(flags.cacert, 1 << 20)).toString('utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const req = send(
        url,
        { method, headers, timeout: TIMEOUT_MS, ...(ca !== undefined && { ca }) },
        (res) => {
          readAnswer(res)
            .then((buf) => resolve({ status: res.statusCode ?? 0, text: buf.toString('utf8') }))
            .catch(reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          err instanceof AdminCallError
            ? err
            : new AdminCallError(
                'ERR_SERVICE_UNREACHABLE',
                `${base.origin}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message}`,
              ),
        ),
      );
      req.end(body?.data);
    },
  );
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new AdminCallError('ERR_ANSWER_INVALID', `${method} ${path}: HTTP ${status}, not JSON`);
  }
  if (status < 200 || status >= 300) {
    const p = answer as { code?: unknown; detail?: unknown };
    throw new AdminCallError(
      typeof p.code === 'string' ? p.code : `ERR_HTTP_${status}`,
      typeof p.detail === 'string' ? p.detail : `${method} ${path}: HTTP ${status}`,
    );
  }
  return answer as Json;
}

/** Left-aligned columns with a header row; `-` for an empty cell. @internal */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c)))),
  ];
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? String(c) : String(c).padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `key: value` lines of a flat answer (nested values as JSON). */
function lines(answer: Json): string {
  return Object.entries(answer)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('\n')
    .concat('\n');
}

function out(flags: AdminFlags, answer: Json, human: (a: Json) => string = lines): void {
  if (flags.json) printJson(answer);
  else process.stdout.write(human(answer));
}

const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

function keysTable(a: Json): string {
  const keys = table(
    ['KID', 'ALG', 'STATE', 'CREATED', 'ENDS'],
    list(a.keys).map((k) => [k.kid, k.alg, k.state, k.created_at, k.revoked_at ?? k.retired_at]),
  );
  const ca = table(
    ['CA SERIAL', 'STATE', 'NOT AFTER', 'SUBJECT'],
    list(a.ca).map((c) => [c.serial, c.state, c.not_after, c.subject]),
  );
  return `${keys}\n${ca}\nbundle sequence: ${String(a.bundle_sequence)}\n`;
}

function revocationsTable(a: Json): string {
  const rows: unknown[][] = [
    ...list(a.credentials).map((c) => ['credential', c.jti, c.revoked_at]),
    ...list(a.certificates).map((c) => ['certificate', c.serial, c.revoked_at]),
    ...list(a.keys).map((k) => ['key', k.kid, k.revoked_at]),
    ...list(a.builds).map((b) => ['build', `${String(b.field)}=${String(b.value)}`, b.revoked_at]),
  ];
  return rows.length === 0 ? 'no revocations\n' : table(['KIND', 'ID', 'REVOKED AT'], rows);
}

function appraisalsTable(a: Json): string {
  const rows = list(a.appraisals).map((e) => [
    e.at,
    e.route,
    e.platform,
    e.status,
    e.tcb_status,
    e.workload_id ?? e.jti,
    list(e.violations)
      .map((v) => String(v.code))
      .join(','),
  ]);
  return table(['AT', 'ROUTE', 'PLATFORM', 'STATUS', 'TCB', 'WORKLOAD', 'VIOLATIONS'], rows);
}

function credentialsTable(a: Json): string {
  return table(
    ['JTI', 'WORKLOAD', 'ISSUED', 'EXPIRES', 'REVOKED', 'SERIAL'],
    list(a.credentials).map((c) => [
      c.jti,
      c.workload_id,
      c.issued_at,
      c.expires_at,
      c.revoked ? 'yes' : 'no',
      c.serial,
    ]),
  );
}

function registrationsTable(a: Json): string {
  const rows = list(a.registrations).map((r) => [r.id, r.identifier ?? r.spiffe_id]);
  return `source: ${String(a.source)}\n${table(['ID', 'IDENTIFIER'], rows)}`;
}

function buildsTable(a: Json): string {
  return table(
    ['FIELD', 'VALUE', 'REVOKED AT'],
    list(a.revoked_builds).map((b) => [b.field, b.value, b.revoked_at]),
  );
}

/** A policy or registrations file: YAML (JSON is YAML too) read with the policy's bounds. */
function readDocument(path: string): unknown {
  const text = Buffer.from(readInputFile(path, 256 * 1024)).toString('utf8');
  return policyYamlToJs(parsePolicyYamlDocument(text));
}

/** Adds the options every subcommand takes. */
function remote(cmd: Command): Command {
  return cmd
    .option('--url <url>', `service URL (default TWI_URL, else ${DEFAULT_ADMIN_URL})`)
    .option(
      '--admin-token-file <file>',
      'file holding the admin token (default TWI_ADMIN_TOKEN_FILE)',
    )
    .option('--cacert <file>', 'PEM CA certificates to trust for https (e.g. DATA/dev-tls/ca.pem)')
    .option('--json', "print the service's JSON answer");
}

const limitQuery = (flags: AdminFlags): string =>
  flags.limit === undefined ? '' : `?limit=${intOption('--limit', flags.limit, 1, 500)}`;

/** @internal */
export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description("a running service's admin API: policy, keys, revocations, appraisals, …");

  const policy = admin.command('policy').description('the appraisal policy');
  remote(policy.command('get').description('print the policy in force')).action(
    async (f: AdminFlags) => {
      const a = await call(f, 'GET', '/v1/admin/policy');
      out(f, a, (x) =>
        x.policy === null
          ? `source: ${String(x.source)} (the built-in policy)\n`
          : `source: ${String(x.source)}\nupdated_at: ${String(x.updated_at)}\n` +
            JSON.stringify(x.policy, null, 2) +
            '\n',
      );
    },
  );
  remote(
    policy.command('set <file>').description('replace the policy with a JSON or YAML file'),
  ).action(async (file: string, f: AdminFlags) => {
    const text = Buffer.from(readInputFile(file, 256 * 1024)).toString('utf8');
    const json = /\.json$/i.test(file);
    const body = { type: json ? JSON_MEDIA_TYPE : YAML_MEDIA_TYPE, data: text };
    out(f, await call(f, 'PUT', '/v1/admin/policy', body));
  });

  const refs = admin.command('reference-values').description('reference values (one CoRIM)');
  remote(refs.command('set <file>').description('replace them with a CoRIM file')).action(
    async (file: string, f: AdminFlags) => {
      const body = { type: CORIM_MEDIA_TYPE, data: readInputFile(file) };
      out(f, await call(f, 'PUT', '/v1/admin/reference-values', body));
    },
  );
  remote(refs.command('clear').description('clear them')).action(async (f: AdminFlags) =>
    out(f, await call(f, 'DELETE', '/v1/admin/reference-values')),
  );

  const regs = admin.command('registrations').description('workload registrations');
  remote(regs.command('get').description('print the registrations in force')).action(
    async (f: AdminFlags) =>
      out(f, await call(f, 'GET', '/v1/admin/registrations'), registrationsTable),
  );
  remote(
    regs
      .command('set <file>')
      .description('replace them: a JSON or YAML list, or {"registrations": [...]}'),
  ).action(async (file: string, f: AdminFlags) => {
    const doc = readDocument(file);
    const body = Array.isArray(doc) ? { registrations: doc } : doc;
    const data = JSON.stringify(body);
    out(f, await call(f, 'PUT', '/v1/admin/registrations', { type: JSON_MEDIA_TYPE, data }));
  });
  remote(regs.command('clear').description("forget them (the policy's apply)")).action(
    async (f: AdminFlags) => out(f, await call(f, 'DELETE', '/v1/admin/registrations')),
  );

  const keys = admin.command('keys').description('signing keys and issuing CAs');
  remote(keys.command('list').description('keys and CAs with their state')).action(
    async (f: AdminFlags) => out(f, await call(f, 'GET', '/v1/admin/keys'), keysTable),
  );
  remote(keys.command('rotate').description('make a new signing key')).action(
    async (f: AdminFlags) => out(f, await call(f, 'POST', '/v1/admin/keys/rotate')),
  );
  remote(keys.command('revoke <kid>').description('revoke a signing key')).action(
    async (kid: string, f: AdminFlags) =>
      out(f, await call(f, 'POST', `/v1/admin/keys/${encodeURIComponent(kid)}/revoke`)),
  );

  const ca = admin.command('ca').description('the generated root CA');
  remote(ca.command('rotate').description('make a new root CA')).action(async (f: AdminFlags) =>
    out(f, await call(f, 'POST', '/v1/admin/ca/rotate')),
  );

  const creds = admin.command('credentials').description('issued credentials');
  remote(
    creds
      .command('list')
      .description('newest first, from the store')
      .option('--limit <n>', 'at most this many, 1 to 500 (default 50)'),
  ).action(async (f: AdminFlags) =>
    out(f, await call(f, 'GET', `/v1/admin/credentials${limitQuery(f)}`), credentialsTable),
  );
  remote(creds.command('revoke <jti>').description('revoke a credential')).action(
    async (jti: string, f: AdminFlags) =>
      out(f, await call(f, 'POST', `/v1/admin/credentials/${encodeURIComponent(jti)}/revoke`)),
  );

  const certs = admin.command('certificates').description('X.509 workload certificates');
  remote(
    certs.command('revoke <serial>').description("revoke a certificate's credential (hex serial)"),
  ).action(async (serial: string, f: AdminFlags) =>
    out(f, await call(f, 'POST', `/v1/admin/certificates/${encodeURIComponent(serial)}/revoke`)),
  );

  remote(
    admin.command('revocations').description('revoked credentials, certificates, keys, builds'),
  ).action(async (f: AdminFlags) =>
    out(f, await call(f, 'GET', '/v1/admin/revocations'), revocationsTable),
  );
  remote(
    admin
      .command('appraisals')
      .description("the service instance's recent appraisals, newest first")
      .option('--limit <n>', 'at most this many, 1 to 500 (default 50)'),
  ).action(async (f: AdminFlags) =>
    out(f, await call(f, 'GET', `/v1/admin/appraisals${limitQuery(f)}`), appraisalsTable),
  );

  const builds = admin.command('builds').description('build revocations (twi provenance revoke)');
  remote(builds.command('list').description('build revocations in force')).action(
    async (f: AdminFlags) => out(f, await call(f, 'GET', '/v1/admin/revoked-builds'), buildsTable),
  );
  remote(
    builds
      .command('unrevoke')
      .description('lift one build revocation')
      .option('--commit <sha>', 'source commit')
      .option('--builder <id>', 'builder id')
      .option('--measurement <hex>', 'launch measurement')
      .option('--repository <uri>', 'source repository')
      .option('--record <digest>', 'supply-chain record digest'),
  ).action(async (f: AdminFlags & Record<string, string | undefined>) => {
    const fields = ['commit', 'builder', 'measurement', 'repository', 'record'];
    const given = fields.filter((k) => f[k] !== undefined);
    if (given.length !== 1) {
      throw new TypeError('give one of --commit, --builder, --measurement, --repository, --record');
    }
    const q = new URLSearchParams({ [given[0]!]: f[given[0]!]! });
    out(f, await call(f, 'DELETE', `/v1/admin/revoked-builds?${q.toString()}`));
  });
}
