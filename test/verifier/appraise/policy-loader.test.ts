/**
 * Policy files: the documented examples, JSON and YAML text, schema errors named by path,
 * semantic rules, and the published schema copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { haveVectors, projectRoot } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { loadPolicy, parsePolicy } from '../../../verifier/policy/loader.js';
import { PolicyError } from '../../../verifier/policy/errors.js';
import { policySchema } from '../../../verifier/policy/schema.js';
import { isDebugSample, samples, verifiedOf } from './fixtures.js';

const example = (name: string) => join(projectRoot, 'docs', 'examples', name);

function policyError(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err;
  }
  assert.fail('expected a PolicyError');
}

test('docs/policy.schema.json is the exported schema', () => {
  const file = JSON.parse(readFileSync(join(projectRoot, 'docs', 'policy.schema.json'), 'utf8'));
  assert.deepEqual(file, JSON.parse(JSON.stringify(policySchema)));
});

test('the YAML example loads and affirms the samples it pins', { skip: !haveVectors }, () => {
  const policy = loadPolicy(example('policy.yaml'));
  assert.equal(policy.id, 'https://verifier.example/policies/production/2026-07');
  assert.deepEqual(policy.platforms, ['tdx', 'sev-snp', 'nitro']);
  assert.equal(policy.tcb.tiers.SWHardeningNeeded, 'affirming');
  assert.equal(policy.tcb.tiers.OutOfDate, 'warning');
  assert.equal(policy.tdx?.mrtd?.length, 2);
  for (const name of [
    'tdx-v4-dcapqvl-b0c06f-uptodate',
    'snp-v5-milan-gcp-teekit',
    'nitro-dstack-20251225-prod',
  ]) {
    const s = samples.find((x) => x.name === name)!;
    const a = appraise(verifiedOf(s), policy);
    assert.equal(
      a.status,
      'affirming',
      `${name}: ${a.violations.map((v) => v.message).join('; ')}`,
    );
    assert.equal(a.trustVector.executables, 2);
  }
  const debug = samples.find((s) => s.platform === 'nitro' && isDebugSample(s))!;
  assert.equal(appraise(verifiedOf(debug), policy).status, 'contraindicated');
});

test('the JSON example loads, by path and by file URL', () => {
  const policy = loadPolicy(example('policy.json'));
  assert.deepEqual(policy.platforms, ['tdx']);
  assert.equal(policy.tcb.tiers.OutOfDateConfigurationNeeded, 'contraindicated');
  assert.deepEqual(policy.tdx?.td_attributes?.flags, { sept_ve_disable: true });
  assert.deepEqual(loadPolicy(pathToFileURL(example('policy.json'))), policy);
});

test('YAML and JSON text give the same policy; hex is normalised to lowercase lists', () => {
  const mrtd = 'AB'.repeat(48);
  const yaml = loadPolicy(`id: p\ntdx:\n  mrtd: "${mrtd}"\n  xfam: 0000001000000000\n`);
  const json = loadPolicy(JSON.stringify({ id: 'p', tdx: { mrtd, xfam: '0000001000000000' } }));
  assert.deepEqual(yaml, json);
  assert.deepEqual(yaml.tdx?.mrtd, ['ab'.repeat(48)]);
  assert.deepEqual(yaml.tdx?.xfam, ['0000001000000000'], 'unquoted digits stay text');
  assert.ok(Object.isFrozen(yaml) && Object.isFrozen(yaml.tdx?.mrtd));
});

test('a format can be forced, and a text source read as a file', () => {
  assert.equal(loadPolicy('{"id": "x"}', { format: 'yaml' }).id, 'x');
  const dir = mkdtempSync(join(tmpdir(), 'twi-policy-'));
  try {
    const file = join(dir, 'policy');
    writeFileSync(file, 'id: from-file\n');
    assert.equal(loadPolicy(file, { source: 'file' }).id, 'from-file');
    const e = policyError(() => loadPolicy(join(dir, 'missing.yaml')));
    assert.equal(e.code, 'ERR_POLICY_UNREADABLE');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('schema errors name every path', () => {
  const e = policyError(() =>
    loadPolicy(
      JSON.stringify({
        tdx: { mrtd: 'zz', rtmr9: 'aa' },
        'sev-snp': { vmpl: [5], policy: { debug: true } },
        nitro: { pcrs: { 40: 'aa'.repeat(48) } },
        tcb: { accept: { OutOfDate: 'fine' } },
      }),
    ),
  );
  assert.equal(e.code, 'ERR_POLICY_INVALID');
  const paths = e.issues.map((i) => i.path);
  for (const p of [
    '(root)',
    'tdx.mrtd',
    'tdx.rtmr9',
    'sev-snp.vmpl',
    'sev-snp.policy.debug',
    'nitro.pcrs[40]',
    'tcb.accept.OutOfDate',
  ]) {
    assert.ok(
      paths.some((x) => x.startsWith(p)),
      `${p} in ${paths.join(', ')}`,
    );
  }
  assert.match(
    e.issues.find((i) => i.path === 'tdx.mrtd')!.message,
    /MRTD: 48 bytes as 96 hex digits/,
  );
  assert.equal(e.issues.find((i) => i.path === 'tdx.rtmr9')!.message, 'unknown property');
  assert.match(e.message, /^policy /);
});

test('syntax errors and semantic rules', () => {
  assert.equal(policyError(() => loadPolicy('{"id": ')).code, 'ERR_POLICY_INVALID');
  assert.match(policyError(() => loadPolicy('id: a\nid: b\n')).message, /YAML/);
  const revoked = policyError(() =>
    parsePolicy({ id: 'p', tcb: { accept: { Revoked: 'warning' } } }),
  );
  assert.equal(revoked.path, 'tcb.accept.Revoked');
  const mask = policyError(() =>
    parsePolicy({ id: 'p', tdx: { td_attributes: { mask: '00'.repeat(8) } } }),
  );
  assert.equal(mask.path, 'tdx.td_attributes');
  assert.throws(() => loadPolicy(42 as never), TypeError);
});

test('the default policy', () => {
  const p = defaultPolicy();
  assert.equal(p.id, 'tag:twi.dev,2026:policy/default');
  assert.equal(p.allow_debug, false);
  assert.deepEqual(p.platforms, ['tdx', 'sev-snp', 'nitro']);
  assert.equal(p.tcb.tiers.UpToDate, 'affirming');
  assert.equal(p.tcb.tiers.ConfigurationAndSWHardeningNeeded, 'warning');
  assert.equal(p.tcb.tiers.Revoked, 'contraindicated');
  assert.equal(p.tdx, undefined);
});
