/**
 * PCK certificate SGX extensions beyond the real samples (all Platform CA): Processor CA
 * certificates from the simulated Intel PKI, and malformed or incomplete extensions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import * as der from '../../helpers/asn1.js';
import {
  OID_SGX_EXTENSIONS,
  parsePckExtensions,
  pckCaKind,
} from '../../../verifier/platforms/tdx/collateral/pck-extensions.js';
import { parseCertificateDer } from '../../../common/x509/certificate.js';
import type { Certificate } from '../../../common/x509/certificate.js';

const profileError = (e: unknown): boolean =>
  (e as { code?: string }).code === 'ERR_CERT_PROFILE' &&
  (e as { subject?: string }).subject === 'Intel SGX PCK Certificate';

const intel = createIntelPki({
  seed: 'twi-pck-tests',
  notBefore: new Date('2024-01-01T00:00:00Z'),
});
const cpusvn = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 255];
const fmspc = Uint8Array.from([0x00, 0x90, 0x6e, 0xa1, 0x00, 0x00]);

test('a Processor CA PCK certificate: Standard type, no platform extras', () => {
  const cert = parseCertificateDer(
    intel.issuePck({ ca: 'processor', cpusvn, pcesvn: 13, fmspc }).der,
  );
  const ext = parsePckExtensions(cert);
  assert.equal(pckCaKind(cert), 'processor');
  assert.deepEqual([...ext.tcb.sgxTcbComponents], cpusvn);
  assert.equal(ext.tcb.pceSvn, 13);
  assert.equal(ext.fmspc, '00906ea10000');
  assert.equal(ext.pceId, '0000');
  assert.equal(ext.sgxType, 'Standard');
  assert.equal(ext.platformInstanceId, undefined);
  assert.equal(ext.configuration, undefined);
});

test('a Platform CA PCK certificate carries instance id and configuration', () => {
  const cert = parseCertificateDer(
    intel.issuePck({
      ca: 'platform',
      cpusvn,
      pcesvn: 13,
      fmspc,
      configuration: { dynamicPlatform: false, cachedKeys: true, smtEnabled: false },
    }).der,
  );
  const ext = parsePckExtensions(cert);
  assert.equal(pckCaKind(cert), 'platform');
  assert.equal(ext.sgxType, 'Scalable');
  assert.deepEqual(ext.configuration, {
    dynamicPlatform: false,
    cachedKeys: true,
    smtEnabled: false,
  });
});

const base = parseCertificateDer(intel.issuePck({ ca: 'platform', cpusvn, pcesvn: 13, fmspc }).der);

function withSgxValue(value: Uint8Array | undefined): Certificate {
  const exts = new Map(base.extensions);
  if (value === undefined) exts.delete(OID_SGX_EXTENSIONS);
  else exts.set(OID_SGX_EXTENSIONS, { oid: OID_SGX_EXTENSIONS, critical: false, value });
  return { ...base, extensions: exts };
}

const entry = (n: string, value: der.Asn1) =>
  der.sequence(der.oid(`${OID_SGX_EXTENSIONS}.${n}`), value);

function tcbEntry(count = 16): der.Asn1 {
  const comps = Array.from({ length: count }, (_, i) => entry(`2.${i + 1}`, der.integer(1)));
  return entry(
    '2',
    der.sequence(
      ...comps,
      entry('2.17', der.integer(11)),
      entry('2.18', der.octets(new Uint8Array(16))),
    ),
  );
}

function sgxValue(over: {
  fmspc?: Uint8Array;
  tcb?: der.Asn1;
  type?: number;
  omitPceId?: boolean;
}): Uint8Array {
  return der.toDer(
    der.sequence(
      entry('1', der.octets(new Uint8Array(16))),
      over.tcb ?? tcbEntry(),
      ...(over.omitPceId ? [] : [entry('3', der.octets(new Uint8Array(2)))]),
      entry('4', der.octets(over.fmspc ?? new Uint8Array(6))),
      entry('5', der.enumerated(over.type ?? 0)),
    ),
  );
}

test('the hand-built minimal extension parses', () => {
  const ext = parsePckExtensions(withSgxValue(sgxValue({})));
  assert.equal(ext.fmspc, '000000000000');
  assert.equal(ext.tcb.pceSvn, 11);
});

test('missing, malformed or odd SGX extensions are profile errors naming the certificate', () => {
  assert.throws(() => parsePckExtensions(withSgxValue(undefined)), profileError);
  assert.throws(() => parsePckExtensions(withSgxValue(Uint8Array.of(0x30, 0x05, 1))), profileError);
  assert.throws(
    () => parsePckExtensions(withSgxValue(sgxValue({ fmspc: new Uint8Array(5) }))),
    profileError,
  );
  assert.throws(
    () => parsePckExtensions(withSgxValue(sgxValue({ tcb: tcbEntry(15) }))),
    profileError,
  );
  assert.throws(() => parsePckExtensions(withSgxValue(sgxValue({ type: 7 }))), profileError);
  assert.throws(
    () => parsePckExtensions(withSgxValue(sgxValue({ omitPceId: true }))),
    profileError,
  );
  const duplicate = der.toDer(
    der.sequence(
      entry('1', der.octets(new Uint8Array(16))),
      entry('1', der.octets(new Uint8Array(16))),
    ),
  );
  assert.throws(() => parsePckExtensions(withSgxValue(duplicate)), profileError);
  const rootLike = { ...base, issuerCn: 'Intel SGX Root CA' };
  assert.throws(() => pckCaKind(rootLike), profileError);
});
