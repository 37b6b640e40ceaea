/**
 * The service's issuing CA (service/ca-keys.ts, docs/x509.md "The service's CA"): a self-signed
 * ES256 root is made once and stored with its key sealed under the KEK (never plaintext in the
 * database), a restart reuses it, a root near its end is replaced and the old one stays in the
 * bundle until its last certificate has expired, and an operator intermediate (made with
 * `openssl`, skipped with a message when absent) is stored once, published by its root anchor
 * and issues what `openssl verify` accepts with the chain.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  bundlePem,
  caNeedsReload,
  loadOrCreateCa,
  publishedCas,
  x509SvidJwk,
} from '../../service/ca-keys.js';
import { serviceBundle } from '../../service/admin-state.js';
import { earDigest, issueWorkloadCertificate } from '../../service/ca/profile.js';
import { isSealed } from '../../service/store/kek.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { NO_OPENSSL, OPENSSL, openssl } from './ca/fixtures.js';
import { newKeyPair } from '../../common/key-pair.js';

const T0 = new Date('2025-06-01T00:00:00Z');
const DAY = 24 * 3600 * 1000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe('the generated root CA', { timeout: 120_000 }, () => {
  let dir: string;
  let store: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-x509-ca-'));
    store = await openStore('sqlite:' + join(dir, 'twi.db'));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('made once, ES256, stored sealed; a restart reuses it', async () => {
    const first = await loadOrCreateCa(store, T0, 'example.org');
    assert.equal(first.ca.alg, 'ES256');
    const again = await loadOrCreateCa(store, at(DAY), 'example.org');
    assert.equal(again.kid, first.kid);
    assert.equal((await store.caKeys.list()).length, 1);
    assert.ok(!(await caNeedsReload(store, first, at(DAY), 3600)));

    const raw = new Database(join(dir, 'twi.db'), { readonly: true });
    const rows = raw.prepare('SELECT kid, private_key_pem FROM ca_keys').all() as {
      kid: string;
      private_key_pem: string;
    }[];
    raw.close();
    assert.equal(rows.length, 1);
    assert.ok(isSealed(rows[0]!.private_key_pem), 'the CA key is sealed at rest');
    assert.doesNotMatch(rows[0]!.private_key_pem, /PRIVATE KEY/);
    const stored = (await store.caKeys.list())[0]!;
    assert.match(stored.privateKeyPem, /BEGIN PRIVATE KEY/, 'and opens back under the KEK');
  });

  test('near its end it is replaced; the old CA stays published one certificate lifetime', async () => {
    const validity = 10 * DAY;
    const options = { rootValiditySeconds: validity / 1000, certLifetimeSeconds: 3600 };
    const cas0 = await store.caKeys.list();
    const old = await loadOrCreateCa(store, at(2 * DAY), 'example.org', options);
    assert.equal(old.kid, cas0[0]!.kid, 'a one-year root is still good');

    // The one-year root is replaced at T0 + 330 days (less than a tenth left).
    const when = at(330 * DAY);
    assert.ok(await caNeedsReload(store, old, when, 3600));
    const fresh = await loadOrCreateCa(store, when, 'example.org', options);
    assert.notEqual(fresh.kid, old.kid);
    const all = await store.caKeys.list();
    assert.deepEqual(
      publishedCas(all, at(330 * DAY + 1000), 3600).map((c) => c.kid),
      [old.kid, fresh.kid],
      'both while a certificate of the old CA may be valid',
    );
    assert.deepEqual(
      publishedCas(all, at(330 * DAY + 3601 * 1000), 3600).map((c) => c.kid),
      [fresh.kid],
      'then only the new one',
    );

    const during = await serviceBundle({
      store,
      now: () => at(330 * DAY + 1000),
      witLifetimeSeconds: 3600,
      certLifetimeSeconds: 3600,
    });
    const later = await serviceBundle({
      store,
      now: () => at(330 * DAY + 3601 * 1000),
      witLifetimeSeconds: 3600,
      certLifetimeSeconds: 3600,
    });
    assert.equal(during.keys.filter((k) => k.use === 'x509-svid').length, 2);
    assert.equal(later.keys.filter((k) => k.use === 'x509-svid').length, 1);
    assert.ok(later.spiffe_sequence > during.spiffe_sequence, 'a retirement moves the sequence');
    assert.equal(
      bundlePem(publishedCas(all, at(330 * DAY + 1000), 3600)).match(/BEGIN/g)?.length,
      2,
    );
  });
});

function shell(script: string, outputs: string[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'twi-x509-ca-'));
  try {
    execFileSync('sh', ['-ec', script], { cwd: dir, stdio: 'pipe' });
    return Object.fromEntries(outputs.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('an operator intermediate', { timeout: 120_000, skip: NO_OPENSSL }, () => {
  let dir: string;
  let store: Store;
  let files: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-x509-op-'));
    store = await openStore('sqlite:' + join(dir, 'twi.db'));
    if (!OPENSSL) return;
    files = shell(
      `
cat > ext.cnf <<'EOF2'
[int]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \\
  -subj '/O=Operator/CN=Operator Root' -days 30 \\
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key -out int.csr -subj "/CN=int"
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 10 \\
  -extfile ext.cnf -extensions int -out int.pem
`,
      ['root.pem', 'int.pem', 'int.key'],
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('stored once, published by its root, issues what openssl verify accepts', async () => {
    const now = new Date();
    const intermediate = {
      certificate: files['int.pem']!,
      chain: [files['root.pem']!],
      privateKey: files['int.key']!,
    };
    const ca = await loadOrCreateCa(store, now, 'example.org', { intermediate });
    const again = await loadOrCreateCa(store, now, 'example.org', { intermediate });
    assert.equal(again.kid, ca.kid);
    const stored = await store.caKeys.list();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.source, 'operator');

    const jwk = x509SvidJwk(stored[0]!);
    const anchor = new X509Certificate(Buffer.from((jwk.x5c as string[])[0]!, 'base64'));
    assert.ok(anchor.raw.equals(new X509Certificate(files['root.pem']!).raw), 'x5c = the root');
    const pem = bundlePem(publishedCas(stored, now, 3600));

    const leafKey = newKeyPair('ec', { namedCurve: 'prime256v1' });
    const issued = await issueWorkloadCertificate(ca.ca, {
      publicKey: leafKey.publicKey,
      workloadId: 'spiffe://example.org/op',
      jti: 'op-jti',
      earSha256: earDigest('ear'),
      now,
    });
    assert.equal(issued.chain.length, 3, 'leaf, intermediate, root');
    const out = openssl(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'int.pem', 'leaf.pem'], {
      'bundle.pem': pem,
      'int.pem': files['int.pem']!,
      'leaf.pem': issued.pem,
    });
    assert.match(out, /leaf\.pem: OK/);
  });
});
