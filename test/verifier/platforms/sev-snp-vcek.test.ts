/**
 * AMD VCEK/VLEK extensions of every real SEV-SNP sample against the manifest, and the
 * profile rules of spec digest C2.3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAmdPki } from '../../../simulators/pki/amd.js';
import {
  parseVcekExtensions,
  productFromCertificate,
} from '../../../verifier/platforms/sev-snp/collateral/vcek-extensions.js';
import type { VcekTcb } from '../../../verifier/platforms/sev-snp/collateral/vcek-extensions.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const samples = haveVectors ? loadManifest().samples.filter((s) => s.platform === 'sev-snp') : [];

const OID_SUFFIX: Record<string, keyof VcekTcb> = {
  '3.1': 'blSpl',
  '3.2': 'teeSpl',
  '3.3': 'snpSpl',
  '3.4': 'spl4',
  '3.5': 'spl5',
  '3.6': 'spl6',
  '3.7': 'spl7',
  '3.8': 'ucodeSpl',
  '3.9': 'fmcSpl',
};

for (const s of samples) {
  test(`${s.name}: key certificate extensions equal the manifest`, { skip }, () => {
    const vlek = s.files.vlek !== undefined;
    const cert = parseCertificateDer(readVector(vlek ? s.files.vlek! : s.files.vcek!));
    const ext = parseVcekExtensions(cert);
    const keyCert = s.key_cert as {
      cn: string;
      product_ext: string;
      tcb_ext: Record<string, number>;
    };
    assert.equal(ext.keyKind, vlek ? 'VLEK' : 'VCEK');
    assert.equal(ext.productName, keyCert.product_ext);
    assert.equal(productFromCertificate(cert), keyCert.product_ext.split('-')[0]);
    const got: Record<string, number> = {};
    for (const [suffix, key] of Object.entries(OID_SUFFIX)) {
      if (ext.tcb[key] !== undefined) got[suffix] = ext.tcb[key]!;
    }
    assert.deepEqual(got, keyCert.tcb_ext);
    if (vlek) {
      assert.equal(ext.hwId, undefined);
      assert.match(ext.cspId!, /^CN=/);
    } else {
      assert.equal(ext.cspId, undefined);
      assert.equal(ext.hwId!.length, ext.productName === 'Turin' ? 8 : 64);
    }
    const chain = parsePemChain(readVector(s.files.ca_chain!));
    assert.equal(chain[0]!.subjectCn, cert.issuerCn);
  });
}

test('a VCEK report hwID matches the report CHIP_ID where the report has one', { skip }, () => {
  for (const s of samples.filter((x) => x.files.vcek && x.files.report)) {
    const ext = parseVcekExtensions(parseCertificateDer(readVector(s.files.vcek!)));
    const report = readVector(s.files.report!);
    // CHIP_ID lives at 0x1A0 (64 bytes) of the ATTESTATION_REPORT (spec digest B3.1).
    assert.deepEqual(ext.hwId, report.slice(0x1a0, 0x1a0 + 64), s.name);
  }
});

test('profile: non-AMD subjects and mixed hwID/cspId are refused', () => {
  const amd = createAmdPki({
    seed: 'twi-vcek-tests',
    product: 'Genoa',
    notBefore: new Date('2022-01-01T00:00:00Z'),
  });
  const tcb = { bl: 10, tee: 0, snp: 23, ucode: 84 };
  const vcek = parseCertificateDer(amd.issueVcek({ hwid: new Uint8Array(64).fill(1), tcb }).der);
  const ext = parseVcekExtensions(vcek);
  assert.deepEqual(
    [ext.tcb.blSpl, ext.tcb.teeSpl, ext.tcb.snpSpl, ext.tcb.ucodeSpl],
    [10, 0, 23, 84],
  );
  assert.equal(productFromCertificate(vcek), 'Genoa');
  const ask = parseCertificateDer(amd.ask.der);
  assert.throws(
    () => parseVcekExtensions(ask),
    (e: unknown) => (e as { code?: string }).code === 'ERR_CERT_PROFILE',
  );
  const withoutHwId = {
    ...vcek,
    extensions: new Map([...vcek.extensions].filter(([oid]) => !oid.endsWith('3704.1.4'))),
  };
  assert.throws(
    () => parseVcekExtensions(withoutHwId),
    (e: unknown) => (e as { code?: string }).code === 'ERR_CERT_PROFILE',
  );
  const noProduct = {
    ...vcek,
    extensions: new Map([...vcek.extensions].filter(([oid]) => !oid.endsWith('3704.1.2'))),
  };
  assert.equal(productFromCertificate(noProduct), 'Genoa');
  const vlek = parseCertificateDer(amd.issueVlek({ tcb, cspId: 'CN=example.test' }).der);
  assert.equal(parseVcekExtensions(vlek).cspId, 'CN=example.test');
});
