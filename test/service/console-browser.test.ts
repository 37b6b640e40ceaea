/**
 * The operator console in a real browser: Debian's chromium driven by playwright-core against
 * a service with simulated attestations (two TDX credentials issued, one debug TD refused).
 * Checks the landing page and its links, the CSP and framing headers of `/` and `/ui/*`, that
 * nothing is loaded from another origin and no CSP violation is reported, the read views
 * without a token (they explain that the token is needed), then with the admin token (kept in
 * sessionStorage only): the refusal in words with its code, the EAR decoded, the credentials
 * with a revoke button whose use makes a relying party following the bundle refuse the WIT,
 * provenance with the inclusion proof and tree-head signature checked in the page (and a
 * tampered record shown invalid), a key rotation from the page seen on the live bundle stream,
 * registrations and policy. Screenshots go to `test-output/screenshots/` (git-ignored).
 * Skipped, saying why, when `/usr/bin/chromium` is missing (`.ci/run` installs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { canonicalBytes } from '../../common/canonical-json.js';
import { leafHash } from '../../provenance/merkle.js';
import { bundleTrust, verifyWit, watchBundle, type BundleWatch } from '../../wimse/rp.js';
import {
  attestWit,
  evidenceCmw,
  NOW,
  startTestService,
  timeToReject,
  workloadKey,
  type IssuedWit,
  type TestService,
} from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`;
const TOKEN = 'console-admin-token-0123456789';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('operator console in chromium', { skip: SKIP }, () => {
  let service: TestService;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let watch: BundleWatch;
  let issued: IssuedWit[];
  let refusedAt: number;
  const foreign: string[] = [];
  const cspReports: string[] = [];

  const shot = (name: string): Promise<Buffer> =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const text = (selector: string): Promise<string> => page.locator(selector).innerText();
  const sequenceAbove = (n: number) =>
    page.waitForFunction(`Number(document.querySelector('#live').dataset.sequence) > ${n}`);
  const view = async (hash: string): Promise<void> => {
    await page.goto('about:blank');
    await page.goto(`${service.base}/ui/#${hash}`);
    await page.locator(`#${hash.split('/')[0]}-out:not([aria-busy])`).waitFor();
  };

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    service = await startTestService({ seed: 'twi-console', clock: () => NOW, adminToken: TOKEN });
    issued = [
      await attestWit(service.base, service.pki),
      await attestWit(service.base, service.pki),
    ];
    // A debug TD: the default policy refuses it.
    const key = workloadKey();
    const c = await fetch(service.base + '/v1/challenge', { method: 'POST' });
    const { nonce } = (await c.json()) as { nonce: string };
    const evidence = evidenceCmw(service.pki, 'tdx', nonce, key, { debug: true });
    const refused = await fetch(service.base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, evidence, key: key.jwk }),
    });
    refusedAt = refused.status;
    watch = watchBundle(service.base + '/v1/bundle/events', { minBackoffMs: 20 });
    await watch.ready;
    profile = mkdtempSync(join(tmpdir(), 'twi-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(30_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => {
      if (!r.url().startsWith(service.base + '/')) foreign.push(r.url());
    });
    page.on('console', (m) => {
      if (/content security policy/i.test(m.text())) cspReports.push(m.text());
    });
    page.on('dialog', (d) => void d.accept());
  });

  after(async () => {
    await context?.close();
    watch?.close();
    await service?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('the landing page says what the service is and links the console and the published documents', async () => {
    const r = await page.goto(service.base + '/');
    assert.equal(r?.status(), 200);
    const csp = r?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(await page.locator('h1').innerText(), 'twi attestation verifier');
    const links = await page
      .locator('main a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const href of [
      '/ui/',
      '/openapi.json',
      '/.well-known/jwks.json',
      '/.well-known/openid-configuration',
      '/v1/bundle',
    ]) {
      assert.ok(links.includes(href), `landing page links ${href}`);
    }
    await shot('landing');
  });

  test('console files carry the CSP; unknown files are a 404 problem', async () => {
    for (const path of ['/ui/', '/ui/app.js', '/ui/console.css', '/ui/merkle.js']) {
      const r = await fetch(service.base + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
    }
    assert.match(
      (await fetch(service.base + '/ui/app.js')).headers.get('content-type')!,
      /javascript/,
    );
    const missing = await fetch(service.base + '/ui/../package.json');
    assert.equal(missing.status, 404);
    const nope = await fetch(service.base + '/ui/secrets.js');
    assert.equal(nope.status, 404);
    assert.equal(((await nope.json()) as { code: string }).code, 'ERR_NOT_FOUND');
  });

  test('without the token, an admin view explains that the token is needed', async () => {
    await view('appraisals');
    assert.match(
      await text('#appraisals-out'),
      /needs the admin token.*ERR_ADMIN_UNAUTHENTICATED/s,
    );
    assert.match(await text('#live'), /Bundle sequence \d+/);
  });

  test('with the token (sessionStorage only), the appraisals show the refusal in words', async () => {
    assert.equal(refusedAt, 403);
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#appraisals-out table').waitFor();
    const stored = await page.evaluate(
      '({ session: sessionStorage.getItem("twi.adminToken"), local: localStorage.length })',
    );
    assert.deepEqual(stored, { session: TOKEN, local: 0 });
    const out = await text('#appraisals-out');
    assert.match(out, /3 appraisals, 1 refused/);
    assert.match(out, /Contraindicated: refused/);
    assert.match(out, /ERR_APPRAISAL_CONTRAINDICATED/);
    assert.equal(await page.locator('#appraisals-out tbody tr').count(), 3);
    // Every violation of the refused appraisal is shown with its message, not only its code.
    const r = await fetch(service.base + '/v1/admin/appraisals', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { appraisals } = (await r.json()) as {
      appraisals: { status: string; violations: { code: string; message: string }[] }[];
    };
    const refused = appraisals.find((a) => a.status === 'contraindicated');
    assert.ok(refused && refused.violations.length > 0);
    for (const v of refused.violations) {
      assert.ok(out.includes(v.message), `violation shown in words: ${v.message}`);
    }
    for (const jti of issued.map((w) => w.jti)) assert.ok(out.includes(jti), jti);
    const ear = page.locator('#appraisals-out details').first();
    await ear.locator('summary').click();
    assert.match(await ear.innerText(), /"ear[._]status"/);
    assert.match(
      await ear.innerText(),
      /instance-identity: (affirming|contraindicated|warning|no claim)/,
    );
    await shot('appraisals');
  });

  test('revoking a credential from the page makes a relying party refuse it', async () => {
    const trust = bundleTrust(watch);
    const verify = (wit: string) =>
      verifyWit(wit, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: NOW });
    const [a, b] = issued as [IssuedWit, IssuedWit];
    await verify(a.wit);
    await view('credentials');
    const before = Number(await page.locator('#live').getAttribute('data-sequence'));
    assert.equal(await page.locator('#credentials-out tbody tr').count(), 2);
    assert.match(await text('#credentials-out'), /Not revoked/);
    await page.getByRole('button', { name: `Revoke ${a.jti}` }).click();
    await page.locator('#message.info').waitFor();
    assert.match(await text('#message'), new RegExp(`Credential ${a.jti} revoked`));
    await page.getByText('Revoked (in the bundle)').waitFor();
    await sequenceAbove(before);
    assert.equal(await page.getByRole('button', { name: `Revoke ${a.jti}` }).count(), 0);
    assert.equal(await page.getByRole('button', { name: `Revoke ${b.jti}` }).count(), 1);
    await timeToReject(() => verify(a.wit), 'ERR_WIT_REVOKED');
    await verify(b.wit);
    await shot('credentials');
  });

  test('provenance: the inclusion proof is checked in the page, and a tampered record fails', async () => {
    const jti = issued[1]!.jti;
    await view(`provenance/${encodeURIComponent(jti)}`);
    const result = await text('#proof-result');
    assert.match(result, /Inclusion proof valid/);
    assert.match(result, /Tree head signature valid/);
    const answer = (await (await fetch(`${service.base}/v1/provenance/${jti}`)).json()) as {
      record: unknown;
    };
    const expected = Buffer.from(leafHash(canonicalBytes(answer.record))).toString('hex');
    assert.ok((await text('#provenance-out')).includes(expected), 'leaf hash computed in the page');
    await shot('provenance');
    await page.route('**/v1/provenance/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { record: Record<string, unknown> };
      body.record.sub = 'spiffe://example.org/someone-else';
      await route.fulfill({ response, json: body });
    });
    try {
      await view(`provenance/${encodeURIComponent(jti)}`);
      assert.match(await text('#proof-result'), /Inclusion proof INVALID/);
      await shot('provenance-tampered');
    } finally {
      await page.unroute('**/v1/provenance/*');
    }
  });

  test('rotating the signing key from the page shows the new key and moves the live sequence', async () => {
    await view('keys');
    const before = Number(await page.locator('#live').getAttribute('data-sequence'));
    assert.ok((await text('#keys-out')).includes(issued[0]!.kid));
    assert.match(await text('#keys-out'), /Certificate authorities/);
    await page.click('#rotate-key');
    await page.locator('#message.info').waitFor();
    const kid = /New signing key (\S+);/.exec(await text('#message'))?.[1];
    assert.ok(kid && kid !== issued[0]!.kid);
    await sequenceAbove(before);
    await page.locator('#keys-out').getByText(kid).first().waitFor();
    await shot('keys');
  });

  test('registrations and policy views render without error', async () => {
    await view('registrations');
    assert.match(await text('#registrations-out'), /Registrations|registration/);
    assert.doesNotMatch(await text('#registrations-out'), /ERR_/);
    await shot('registrations');
    await view('policy');
    assert.notEqual((await text('#policy-out')).trim(), '');
    assert.doesNotMatch(await text('#policy-out'), /ERR_/);
    await shot('policy');
  });

  test('with --console-public the read views work without a token; revoking still needs it', async () => {
    const open = await startTestService({
      seed: 'twi-console-public',
      clock: () => NOW,
      adminToken: TOKEN,
      consoleReadOnly: true,
    });
    const tab = await context.newPage();
    tab.on('dialog', (d) => void d.accept());
    try {
      const { jti } = await attestWit(open.base, open.pki);
      await tab.goto(`${open.base}/ui/#credentials`);
      await tab.locator('#credentials-out table').waitFor();
      assert.equal(await tab.evaluate('sessionStorage.length'), 0);
      assert.ok((await tab.locator('#credentials-out').innerText()).includes(jti));
      await tab.getByRole('button', { name: `Revoke ${jti}` }).click();
      await tab.locator('#message').getByText('ERR_ADMIN_UNAUTHENTICATED').waitFor();
      assert.match(await tab.locator('#credentials-out').innerText(), /Not revoked/);
      await tab.goto(`${open.base}/ui/#appraisals`);
      await tab.locator('#appraisals-out table').waitFor();
      assert.match(await tab.locator('#appraisals-out').innerText(), /Affirming: trustworthy/);
      await tab.screenshot({ path: join(SHOTS, 'console-public.png'), fullPage: true });
    } finally {
      await tab.close();
      await open.close();
    }
  });

  test('nothing came from another origin and no CSP violation was reported', () => {
    assert.deepEqual(foreign, []);
    assert.deepEqual(cspReports, []);
  });
});
