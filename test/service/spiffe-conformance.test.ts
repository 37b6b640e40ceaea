/**
 * SPIFFE conformance of what the service publishes and issues (issue 16, item 4): the bundle of
 * `GET /v1/bundle` passes the SPIFFE bundle rules as go-spiffe's parser applies them (Trust
 * Domain and Bundle §4, X509-SVID §6.1, WIT-SVID §6.1: `use` and `kid` per SVID type, one `x5c`
 * for x509-svid, no `alg` nor other undefined member, sequence and refresh hint); a WIT from
 * `POST /v1/attest` passes go-spiffe's WIT-SVID checks (`exp/svid/witsvid`), verified with the
 * bundle key by real ECDSA, and carries `iss` = the issuer URL, which the RP checks; an Ed25519
 * key is refused for a SPIFFE ID with ERR_KEY_NOT_ALLOWED (before the nonce is spent) and
 * issued for a `wimse://` registration; an IPv4 trust domain works end to end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, X509Certificate, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { newKeyPair } from '../../common/key-pair.js';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import { parsePolicy } from '../../verifier/policy/loader.js';
import type { Policy } from '../../verifier/policy/types.js';
import { spiffeIdProblem, staticJwks, verifyWit, WimseError } from '../../wimse/rp.js';
import { NOW } from './harness.js';
import {
  challenge,
  cmwWith,
  fill,
  hex,
  openSite,
  sendAttest,
  type Answer,
  type Measurements,
  type Running,
  type Site,
} from './identity-fixtures.js';

const ISSUER = 'https://verifier.example';

/** go-spiffe `witsvid.allowedSignatureAlgorithms` = WIT-SVID §2.3 and §3.2 tables. */
const WIT_SVID_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
];

/** Members each key type defines (RFC 7518 §6.2.1, §6.3.1, RFC 8037 §2). */
const KEY_MEMBERS: Record<string, string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
};

const TDX_A: Measurements = { mrTd: fill(0x77), rtmr0: fill(0xa0) };
const TDX_B: Measurements = { mrTd: fill(0x77), rtmr0: fill(0xa1) };

async function startWith(site: Site, trustDomain: string, policy?: Policy): Promise<Running> {
  const store = await openStore('sqlite:' + site.dbPath);
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(site.dir, 'pki', 'roots')]),
    issuer: ISSUER,
    trustDomain,
    now: () => NOW,
    logLevel: 'silent',
    syncIntervalMs: 0,
    noncePurgeIntervalMs: 0,
    ...(policy && { policy }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  return {
    app,
    store,
    base: `http://127.0.0.1:${addr.port}`,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

type Jwk = Record<string, unknown>;

/**
 * go-spiffe `spiffebundle.Parse` (with go-jose's JWK decoding) and the bundle specifications,
 * as a list of violations: empty when the bundle is acceptable.
 */
function bundleViolations(doc: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (!Array.isArray(doc.keys)) return ['keys MUST be present (§4.1.3)'];
  for (const name of ['spiffe_sequence', 'spiffe_refresh_hint']) {
    const v = doc[name];
    if (!Number.isSafeInteger(v) || (v as number) < 0) out.push(`${name} SHOULD be an integer`);
  }
  const kids = new Set<string>();
  (doc.keys as Jwk[]).forEach((k, i) => {
    const members = KEY_MEMBERS[String(k.kty)];
    if (!members) return void out.push(`keys[${i}]: kty MUST be set (§4.2.1)`);
    const use = k.use;
    const defined = [...members, 'use'];
    if (use === 'x509-svid') {
      defined.push('x5c');
      if ('kid' in k) out.push(`keys[${i}]: x509-svid kid MUST NOT be set (X509-SVID §6.1)`);
      const x5c = k.x5c as unknown[];
      if (!Array.isArray(x5c) || x5c.length !== 1) {
        out.push(`keys[${i}]: expected a single certificate in x509-svid entry`);
      } else {
        const cert = new X509Certificate(Buffer.from(String(x5c[0]), 'base64'));
        const fromCert = cert.publicKey.export({ format: 'jwk' }) as Jwk;
        for (const m of members) {
          if (fromCert[m] !== k[m]) out.push(`keys[${i}]: x5c key does not match ${m}`);
        }
      }
    } else if (use === 'jwt-svid' || use === 'wit-svid') {
      defined.push('kid');
      if (typeof k.kid !== 'string' || k.kid === '') out.push(`keys[${i}]: keyID cannot be empty`);
      else if (kids.has(k.kid)) out.push(`keys[${i}]: kid ${k.kid} not unique (WIT-SVID §6.1)`);
      else kids.add(k.kid);
    } else {
      out.push(`keys[${i}]: use MUST be a known SVID type (§4.2.2), got ${String(use)}`);
    }
    for (const m of Object.keys(k)) {
      if (!defined.includes(m))
        out.push(`keys[${i}]: ${m} is defined neither by §4.2 nor the SVID`);
    }
  });
  return out;
}

/** The decoded parts of a compact JWS. */
function partsOf(token: string): { header: Jwk; claims: Jwk } {
  const [h, c] = token
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as unknown);
  return { header: h as Jwk, claims: c as Jwk };
}

/**
 * go-spiffe `witsvid.ParseAndValidate` as a list of violations: `alg`, `typ`, `kid`, `sub` (a
 * SPIFFE ID), `exp`, no `aud`, `cnf.jwk.alg` allowed, a public `cnf.jwk`, the time window, and
 * the signature under the bundle's `wit-svid` key named by `kid` (real ECDSA verification).
 */
function witSvidViolations(token: string, bundle: { keys: Jwk[] }, now: Date): string[] {
  const out: string[] = [];
  const { header, claims } = partsOf(token);
  if (!WIT_SVID_ALGS.includes(String(header.alg))) out.push(`alg ${String(header.alg)}`);
  if (header.typ !== 'wit+jwt') out.push('token header type must be "wit+jwt"');
  if (typeof header.kid !== 'string' || header.kid === '') out.push('token header missing key id');
  if (typeof claims.sub !== 'string' || claims.sub === '') out.push('token missing subject claim');
  else if (spiffeIdProblem(claims.sub)) out.push(`invalid subject: ${spiffeIdProblem(claims.sub)}`);
  if (typeof claims.exp !== 'number') out.push('token missing exp claim');
  if ('aud' in claims) out.push('WIT-SVID must not contain aud claim');
  const jwk = (claims.cnf as { jwk?: Jwk } | undefined)?.jwk;
  if (!jwk) out.push('token missing cnf.jwk');
  else {
    if (!WIT_SVID_ALGS.includes(String(jwk.alg))) out.push(`cnf.jwk alg ${String(jwk.alg)}`);
    if ('d' in jwk) out.push('cnf.jwk must be a public key');
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  }
  const t = now.getTime() / 1000;
  if (typeof claims.exp === 'number' && t > claims.exp) out.push('token has expired');
  if (typeof claims.nbf === 'number' && t < claims.nbf) out.push('token is not yet valid');
  const authority = bundle.keys.find((k) => k.use === 'wit-svid' && k.kid === header.kid);
  if (!authority) return [...out, `no WIT authority ${String(header.kid)}`];
  const key = createPublicKey({ key: authority as JsonWebKey, format: 'jwk' });
  const [h, c, s] = token.split('.');
  const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[String(header.alg)];
  const ok = verify(
    hash ?? 'sha256',
    Buffer.from(`${h}.${c}`),
    {
      key,
      dsaEncoding: 'ieee-p1363',
    },
    Buffer.from(s!, 'base64url'),
  );
  if (!ok) out.push('signature verification failed');
  return out;
}

async function attestWithKey(
  run: Running,
  site: Site,
  jwk: JsonWebKey,
  m: Measurements = {},
  nonce?: string,
): Promise<Answer & { token?: string; nonce: string }> {
  const n = nonce ?? (await challenge(run.base));
  const evidence = cmwWith(site.pki, 'tdx', n, jwk, new Uint8Array(0), m);
  const a = await sendAttest(run.base, { nonce: n, evidence, key: jwk });
  return { ...a, nonce: n, ...(typeof a.body.wit === 'string' && { token: a.body.wit }) };
}

const ecJwk = (): JsonWebKey =>
  newKeyPair('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const edJwk = (): JsonWebKey => newKeyPair('ed25519').publicKey.export({ format: 'jwk' });

async function bundleOf(run: Running): Promise<{ keys: Jwk[] } & Jwk> {
  const r = await fetch(run.base + '/v1/bundle');
  assert.equal(r.status, 200);
  return (await r.json()) as { keys: Jwk[] } & Jwk;
}

describe('SPIFFE bundle and WIT-SVID of the service', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-spiffe-conf');
    run = await startWith(site, 'example.org');
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('the bundle passes the go-spiffe bundle rules; wit-svid keys carry no alg', async () => {
    const bundle = await bundleOf(run);
    assert.deepEqual(bundleViolations(bundle), []);
    const uses = bundle.keys.map((k) => k.use).sort();
    assert.deepEqual(uses, ['wit-svid', 'x509-svid']);
    const wit = bundle.keys.find((k) => k.use === 'wit-svid')!;
    assert.deepEqual(Object.keys(wit).sort(), ['crv', 'kid', 'kty', 'use', 'x', 'y']);
    // The checker itself: each rule can fail.
    const withAlg = { ...bundle, keys: [{ ...wit, alg: 'ES256' }] };
    assert.match(bundleViolations(withAlg).join(), /alg is defined neither/);
    const twice = { ...bundle, keys: [wit, wit] };
    assert.match(bundleViolations(twice).join(), /not unique/);
    const noKid = { ...bundle, keys: [{ ...wit, kid: undefined }] };
    assert.match(bundleViolations(noKid).join(), /keyID cannot be empty/);
    const x509 = bundle.keys.find((k) => k.use === 'x509-svid')!;
    const twoCerts = { ...bundle, keys: [{ ...x509, x5c: [x509.x5c, x509.x5c].flat() }] };
    assert.match(bundleViolations(twoCerts).join(), /single certificate/);
    assert.match(bundleViolations({ ...bundle, keys: [{ ...x509, kid: 'k' }] }).join(), /kid/);
    assert.match(bundleViolations({ ...bundle, keys: [{ ...wit, use: undefined }] }).join(), /use/);
    assert.match(bundleViolations({ keys: [] }).join(), /spiffe_sequence/);
  });

  test('a WIT passes go-spiffe WIT-SVID validation against the bundle, with iss', async () => {
    const a = await attestWithKey(run, site, ecJwk());
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const bundle = await bundleOf(run);
    assert.deepEqual(witSvidViolations(a.token!, bundle, NOW), []);
    assert.equal(a.wit!.iss, ISSUER);
    // The checker itself fails on a forged signature.
    const [h, c, s] = a.token!.split('.');
    const flipped = Buffer.from(s!, 'base64url');
    flipped[0]! ^= 1;
    const forged = `${h}.${c}.${flipped.toString('base64url')}`;
    assert.deepEqual(witSvidViolations(forged, bundle, NOW), ['signature verification failed']);
  });

  test('the RP checks iss when it knows the issuer', async () => {
    const a = await attestWithKey(run, site, ecJwk());
    const jwks = staticJwks(await bundleOf(run));
    const ok = await verifyWit(a.token!, { jwks, now: NOW, issuer: ISSUER });
    assert.equal(ok.claims.iss, ISSUER);
    await assert.rejects(
      verifyWit(a.token!, { jwks, now: NOW, issuer: 'https://other.example' }),
      (err: unknown) => err instanceof WimseError && err.code === 'ERR_WIT_ISSUER',
    );
  });

  test('an Ed25519 key for a SPIFFE ID is refused with ERR_KEY_NOT_ALLOWED, nonce unspent', async () => {
    const ed = await attestWithKey(run, site, edJwk());
    assert.equal(ed.status, 400, JSON.stringify(ed.body));
    assert.equal(ed.body.code, 'ERR_KEY_NOT_ALLOWED');
    assert.match(String(ed.body.detail), /WIT-SVID/);
    const ec = await attestWithKey(run, site, ecJwk(), {}, ed.nonce);
    assert.equal(ec.status, 200, JSON.stringify(ec.body));
  });
});

describe('Ed25519 keys where a wimse:// identifier is registered', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-spiffe-wimse');
    const policy = parsePolicy({
      id: 'wimse-registration',
      registrations: [
        {
          id: 'ledger',
          identifier: 'wimse://example.org/ns/ledger',
          platform: 'tdx',
          mrtd: hex(TDX_A.mrTd!),
          rtmr0: hex(TDX_A.rtmr0!),
          rtmr1: hex(fill(0x11)),
          rtmr2: hex(fill(0x12)),
          rtmr3: hex(fill(0x13)),
        },
      ],
    });
    run = await startWith(site, 'example.org', policy);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('the wimse:// WIT binds the Ed25519 key as EdDSA; a derived SPIFFE ID is refused', async () => {
    const jwk = edJwk();
    const a = await attestWithKey(run, site, jwk, TDX_A);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.wit!.sub, 'wimse://example.org/ns/ledger');
    assert.deepEqual((a.wit!.cnf as { jwk: Jwk }).jwk, { ...jwk, alg: 'EdDSA' });
    const b = await attestWithKey(run, site, edJwk(), TDX_B);
    assert.equal(b.status, 400, JSON.stringify(b.body));
    assert.equal(b.body.code, 'ERR_KEY_NOT_ALLOWED');
  });
});

describe('an IPv4 trust domain (SPIFFE-ID §2.1)', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-spiffe-ipv4');
    run = await startWith(site, '192.168.1.1');
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('the service runs on it and issues valid WIT-SVIDs the RP accepts', async () => {
    const a = await attestWithKey(run, site, ecJwk());
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.match(String(a.wit!.sub), /^spiffe:\/\/192\.168\.1\.1\/tdx\/m\//);
    const bundle = await bundleOf(run);
    assert.deepEqual(witSvidViolations(a.token!, bundle, NOW), []);
    const ok = await verifyWit(a.token!, {
      jwks: staticJwks(bundle),
      now: NOW,
      trustDomains: ['192.168.1.1'],
    });
    assert.equal(ok.trustDomain, '192.168.1.1');
  });
});
