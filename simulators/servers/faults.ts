/**
 * Fault injection for the simulated collateral server: latency, rate limiting, server
 * errors, hanging and dropped connections, expired and tampered collateral — globally or
 * for request paths under a prefix — and the `--fault SPEC` syntax of
 * `twi simulate serve`.
 *
 * @internal
 * @module
 */

/** Faults that apply to one scope (every path, or the paths under one prefix). */
export interface FaultSet {
  /** Delay before anything else happens, in milliseconds. */
  readonly latencyMs?: number;
  /** Answer 429 with `Retry-After` (seconds, default 1); `count` times, or always. */
  readonly status429?: { readonly retryAfterSeconds?: number; readonly count?: number };
  /** Answer a 5xx status (default 503); `count` times, or always. */
  readonly status5xx?: { readonly status?: number; readonly count?: number };
  /** Accept the request and never answer (until the server closes). */
  readonly hang?: boolean;
  /** Serve collateral whose nextUpdate (CRLs, TCB Info, QE Identity) or notAfter (VCEK) has passed. */
  readonly expired?: boolean;
  /** Serve collateral with one byte of the signed JSON or DER changed (signatures then fail). */
  readonly tampered?: boolean;
  /** Close the connection without answering. */
  readonly down?: boolean;
}

/** Global faults, plus faults by path prefix (`'/vcek'`, `'/tdx'`, `'/sgx/certification/v4/pckcrl'`). */
export interface FaultConfig extends FaultSet {
  /** Per prefix; where several prefixes match a path, the longest decides each fault. */
  readonly paths?: Readonly<Record<string, FaultSet>>;
}

/** What to do with one request. */
export type FaultAction =
  | { readonly kind: 'serve' }
  | { readonly kind: 'down' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number };

/** The faults in force for one request. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly action: FaultAction;
  readonly expired: boolean;
  readonly tampered: boolean;
}

type Scope = readonly [key: string, faults: FaultSet];

/** Decides the faults of each request; counted faults (`count`) are consumed as they fire. */
export class FaultState {
  private readonly config: FaultConfig;
  private readonly used = new Map<string, number>();

  constructor(config: FaultConfig = {}) {
    checkFaults(config);
    this.config = config;
  }

  /** The scopes matching `path`, most specific first. */
  private scopes(path: string): Scope[] {
    const matching = Object.entries(this.config.paths ?? {})
      .filter(([prefix]) => path.startsWith(prefix))
      .sort(([a], [b]) => b.length - a.length);
    return [...matching, ['*', this.config]];
  }

  /** The most specific scope that sets `field`. */
  private pick<K extends keyof FaultSet>(scopes: Scope[], field: K): Scope | undefined {
    return scopes.find(([, f]) => f[field] !== undefined);
  }

  /** Fires a counted fault of `scope` if it has shots left. */
  private take(scope: Scope, field: string, count: number | undefined): boolean {
    const key = `${scope[0]}|${field}`;
    const used = this.used.get(key) ?? 0;
    if (count !== undefined && used >= count) return false;
    this.used.set(key, used + 1);
    return true;
  }

  private action(scopes: Scope[]): FaultAction {
    if (this.pick(scopes, 'down')?.[1].down) return { kind: 'down' };
    if (this.pick(scopes, 'hang')?.[1].hang) return { kind: 'hang' };
    const s429 = this.pick(scopes, 'status429');
    const f429 = s429?.[1].status429;
    if (s429 && f429 && this.take(s429, '429', f429.count)) {
      return { kind: 'status', status: 429, retryAfterSeconds: f429.retryAfterSeconds ?? 1 };
    }
    const s5xx = this.pick(scopes, 'status5xx');
    const f5xx = s5xx?.[1].status5xx;
    if (s5xx && f5xx && this.take(s5xx, '5xx', f5xx.count)) {
      return { kind: 'status', status: f5xx.status ?? 503 };
    }
    return { kind: 'serve' };
  }

  /** The decision for a request to `path` (its pathname, without the query). */
  decide(path: string): FaultDecision {
    const scopes = this.scopes(path);
    return {
      latencyMs: this.pick(scopes, 'latencyMs')?.[1].latencyMs ?? 0,
      action: this.action(scopes),
      expired: this.pick(scopes, 'expired')?.[1].expired ?? false,
      tampered: this.pick(scopes, 'tampered')?.[1].tampered ?? false,
    };
  }
}

function checkSet(f: FaultSet, where: string): void {
  const count = (v: number | undefined, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new TypeError(`${where}${name} must be a non-negative integer`);
    }
  };
  count(f.latencyMs, 'latencyMs');
  count(f.status429?.retryAfterSeconds, 'status429.retryAfterSeconds');
  count(f.status429?.count, 'status429.count');
  count(f.status5xx?.count, 'status5xx.count');
  const status = f.status5xx?.status;
  if (status !== undefined && (!Number.isInteger(status) || status < 500 || status > 599)) {
    throw new TypeError(`${where}status5xx.status must be in [500, 599]`);
  }
}

/** @throws TypeError for a malformed configuration. */
export function checkFaults(config: FaultConfig): void {
  checkSet(config, '');
  for (const [prefix, set] of Object.entries(config.paths ?? {})) {
    if (!prefix.startsWith('/')) throw new TypeError(`fault path '${prefix}' must start with '/'`);
    checkSet(set, `paths['${prefix}'].`);
  }
}

const FLAGS = new Set(['hang', 'expired', 'tampered', 'down']);

function uint(name: string, value: string | undefined, spec: string): number {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new TypeError(`fault '${spec}': ${name} must be a whole number`);
  }
  return Number(value);
}

function faultOf(kind: string, params: Map<string, string>, spec: string): FaultSet {
  const count = params.has('count') ? uint('count', params.get('count'), spec) : undefined;
  const withCount = <T extends object>(o: T) => (count === undefined ? o : { ...o, count });
  if (kind === 'latency') return { latencyMs: uint('latency', params.get('ms'), spec) };
  if (kind === '429') {
    const ra = params.get('retry-after');
    return {
      status429: withCount(
        ra === undefined ? {} : { retryAfterSeconds: uint('retry-after', ra, spec) },
      ),
    };
  }
  if (kind === '5xx') return { status5xx: withCount({}) };
  if (/^5\d\d$/.test(kind)) return { status5xx: withCount({ status: Number(kind) }) };
  if (FLAGS.has(kind)) return { [kind]: true };
  throw new TypeError(
    `fault '${spec}': unknown kind '${kind}' (latency, 429, 5xx, 500-599, hang, expired, tampered, down)`,
  );
}

/**
 * Parses one `--fault` SPEC: `KIND[:/PATH-PREFIX][:KEY=VALUE]…`.
 *
 * - `latency:MS` — delay every answer by MS milliseconds;
 * - `429[:retry-after=S][:count=N]` — answer 429 with `Retry-After: S` (default 1), N times
 *   (default: always);
 * - `5xx[:count=N]` or `500`…`599[:count=N]` — answer that status (`5xx` = 503);
 * - `hang`, `down`, `expired`, `tampered` — see {@link FaultSet}.
 *
 * A part starting with `/` limits the fault to paths under that prefix.
 *
 * @throws TypeError for a malformed SPEC.
 * @example
 * parseFaultSpec('429:/vcek:retry-after=2:count=3');
 * // { paths: { '/vcek': { status429: { retryAfterSeconds: 2, count: 3 } } } }
 */
export function parseFaultSpec(spec: string): FaultConfig {
  const [kind = '', ...parts] = spec.split(':');
  let path: string | undefined;
  const params = new Map<string, string>();
  for (const part of parts) {
    if (part.startsWith('/')) path = part;
    else if (/^\d+$/.test(part) && kind === 'latency') params.set('ms', part);
    else if (/^[a-z-]+=/.test(part))
      params.set(part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1));
    else throw new TypeError(`fault '${spec}': cannot read '${part}'`);
  }
  const set = faultOf(kind.toLowerCase(), params, spec);
  return path === undefined ? set : { paths: { [path]: set } };
}

/** Merges fault configurations; later ones override earlier ones field by field. */
export function mergeFaults(configs: readonly FaultConfig[]): FaultConfig {
  let merged: FaultConfig = {};
  for (const { paths, ...global } of configs) {
    const mergedPaths: Record<string, FaultSet> = { ...merged.paths };
    for (const [prefix, set] of Object.entries(paths ?? {})) {
      mergedPaths[prefix] = { ...mergedPaths[prefix], ...set };
    }
    merged = { ...merged, ...global, paths: mergedPaths };
  }
  checkFaults(merged);
  return merged;
}
