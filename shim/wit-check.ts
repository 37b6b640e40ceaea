/**
 * The shim's check of every WIT the verifier hands it, before it serves it (docs/shim.md
 * "Checking the WIT"): the relying-party check `verifyWit` against the trust bundle the shim
 * watches (signature by the bundle's `wit-svid` key of the WIT's `kid`, `typ`, `sub` in the
 * trust domain, `exp`, `jti` not in `revoked_jtis`), and `cnf.jwk` is the shim's own key, the
 * one it attested. A WIT that fails is not served; the renewal loop keeps the previous
 * still-valid credential and retries with backoff.
 *
 * @internal
 * @module
 */
import { jwkThumbprint } from '../wire/binding.js';
import { isTwiError } from '../common/errors.js';
import type { WatchedBundle } from '../wimse/bundle-watch.js';
import { WimseError } from '../wimse/errors.js';
import { staticJwks } from '../wimse/jwks.js';
import type { Jwks } from '../wimse/jwks.js';
import { verifyWit } from '../wimse/wit.js';
import type { VerifiedWit } from '../wimse/wit.js';
import { ShimError } from './errors.js';

/** Options of {@link createWitCheck}. */
export interface WitCheckOptions {
  /** The latest bundle the shim's watch received, if any. */
  readonly latestBundle: () => WatchedBundle | undefined;
  /**
   * The bundle when none has been received yet (e.g. the watch's first event raced against
   * `GET /v1/bundle`); it must reject (or time out) rather than wait forever.
   */
  readonly firstBundle: () => Promise<WatchedBundle>;
  /** The public JWK of the workload key the shim attested. */
  readonly publicJwk: Readonly<Record<string, unknown>>;
  /**
   * The trust domain the WIT's `sub` must be in. Without it the shim pins the trust domain of
   * the first WIT that passes, and later WITs must stay in it.
   */
  readonly trustDomain?: string;
  /** The clock (default `new Date()`). */
  readonly now?: () => Date;
}

/** The check, with the trust domain it holds WITs to. */
export interface WitCheck {
  /**
   * Verifies `wit` before it is served.
   *
   * @throws {ShimError} `ERR_SHIM_WIT_REJECTED`; the message names the failed check's code
   *   (e.g. `ERR_WIT_SIGNATURE`, `ERR_WIT_UNKNOWN_KEY`, `ERR_WIT_CNF`), never the token.
   */
  check(wit: string): Promise<VerifiedWit>;
  /** The trust domain given or pinned, `undefined` before the first WIT passed. */
  trustDomain(): string | undefined;
}

/** The bundle's keys that may sign WITs: `use: "wit-svid"` and not marked revoked. */
export function witSvidKeys(bundle: WatchedBundle): Jwks {
  const keys = (bundle.keys as readonly Record<string, unknown>[]).filter(
    (k) => k.use === 'wit-svid' && k.revoked !== true,
  );
  return { keys };
}

function thumbprintOf(jwk: Readonly<Record<string, unknown>>): string | undefined {
  try {
    return Buffer.from(jwkThumbprint(jwk)).toString('base64url');
  } catch {
    return undefined;
  }
}

function rejected(code: string, message: string, cause?: unknown): ShimError {
  return new ShimError('ERR_SHIM_WIT_REJECTED', `the WIT was refused (${code}): ${message}`, {
    ...(cause !== undefined && { cause }),
  });
}

async function bundleFor(o: WitCheckOptions): Promise<WatchedBundle> {
  const latest = o.latestBundle();
  if (latest) return latest;
  try {
    return await o.firstBundle();
  } catch (err) {
    throw new WimseError('ERR_JWKS_UNAVAILABLE', 'the trust bundle could not be had', {
      cause: err,
    });
  }
}

/**
 * A check of received WITs against the watched bundle.
 *
 * @example
 * ```ts
 * const witCheck = createWitCheck({ latestBundle: watch.latest, firstBundle, publicJwk });
 * const credential = await obtainCredential(round);
 * await witCheck.check(credential.wit); // throws ERR_SHIM_WIT_REJECTED: not served
 * ```
 */
export function createWitCheck(o: WitCheckOptions): WitCheck {
  let domain = o.trustDomain;
  const ownKey = thumbprintOf(o.publicJwk);
  if (ownKey === undefined) throw new TypeError('publicJwk is not a usable public JWK');
  return {
    async check(wit) {
      let verified: VerifiedWit;
      try {
        const bundle = await bundleFor(o);
        const revoked = new Set((bundle.revoked_jtis ?? []).filter((j) => typeof j === 'string'));
        verified = await verifyWit(wit, {
          jwks: staticJwks(witSvidKeys(bundle)),
          now: (o.now ?? (() => new Date()))(),
          ...(domain !== undefined && { trustDomains: [domain] }),
          isRevoked: (jti) => jti !== undefined && revoked.has(jti),
        });
      } catch (err) {
        if (!isTwiError(err)) throw err;
        throw rejected(err.code, err.message, err);
      }
      if (thumbprintOf(verified.claims.cnf.jwk) !== ownKey) {
        throw rejected('ERR_WIT_CNF', "cnf.jwk is not the shim's attested key");
      }
      domain ??= verified.trustDomain;
      return verified;
    },
    trustDomain: () => domain,
  };
}

/**
 * The first bundle, whichever comes first: the watch's first event or one `fetchOnce()`
 * (`GET /v1/bundle`); rejects after `timeoutMs` when neither arrives.
 */
export async function firstBundleOf(
  ready: Promise<WatchedBundle>,
  fetchOnce: () => Promise<WatchedBundle>,
  timeoutMs: number,
): Promise<WatchedBundle> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no trust bundle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.any([ready, fetchOnce()]), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
