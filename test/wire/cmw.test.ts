/**
 * The evidence CMW codec (`wire/cmw.ts`): what the shim encodes the service decodes, record by
 * record (the encoder's output is pinned); evidence and endorsements are found anywhere in a
 * nested collection, by `ind` (combined bits included) or, without one, by media-type essence
 * (parameters kept); every malformed collection and unknown media type is refused with its
 * stable code, and the input is bounded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CMWC_TYPE_KEY,
  decodeCmwCollection,
  decodeEvidenceCmw,
  encodeEvidenceCmw,
  ENDORSEMENT_MEDIA_TYPES,
  EVIDENCE_CMW_TYPE,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  MAX_CMW_DEPTH,
  MAX_CMW_ITEMS,
  MAX_CMW_LABEL_CHARS,
  MAX_CMW_VALUE_CHARS,
} from '../../wire/cmw.js';
import { WireError } from '../../wire/errors.js';
import {
  NITRO_ATTESTATION_MEDIA_TYPE,
  PKIX_CERT_MEDIA_TYPE,
  SEV_SNP_CERTS_MEDIA_TYPE,
  SEV_SNP_REPORT_MEDIA_TYPE,
  TDX_COLLATERAL_MEDIA_TYPE,
  TDX_QUOTE_MEDIA_TYPE,
} from '../../wire/media-types.js';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function refuses(cmw: unknown, code: string, message?: RegExp): void {
  assert.throws(
    () => decodeEvidenceCmw(cmw),
    (err: unknown) => {
      assert.ok(err instanceof WireError, String(err));
      assert.equal(err.code, code);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('evidence CMW', { timeout: 30_000 }, () => {
  it('decodes what it encodes: the evidence record and each endorsement by member', () => {
    const report = new Uint8Array(randomBytes(1184));
    const certs = new Uint8Array(randomBytes(700));
    const vcek = new Uint8Array(randomBytes(1300));
    const cmw = encodeEvidenceCmw({
      mediaType: SEV_SNP_REPORT_MEDIA_TYPE,
      evidence: report,
      endorsements: [
        { mediaType: SEV_SNP_CERTS_MEDIA_TYPE, bytes: certs },
        { mediaType: PKIX_CERT_MEDIA_TYPE, bytes: vcek },
      ],
    });
    assert.deepEqual(JSON.parse(JSON.stringify(cmw)), {
      [CMWC_TYPE_KEY]: EVIDENCE_CMW_TYPE,
      evidence: [SEV_SNP_REPORT_MEDIA_TYPE, b64u(report), IND_EVIDENCE],
      'endorsement-0': [SEV_SNP_CERTS_MEDIA_TYPE, b64u(certs), IND_ENDORSEMENTS],
      'endorsement-1': [PKIX_CERT_MEDIA_TYPE, b64u(vcek), IND_ENDORSEMENTS],
    });
    const decoded = decodeEvidenceCmw(JSON.parse(JSON.stringify(cmw)));
    assert.equal(decoded.type, EVIDENCE_CMW_TYPE);
    assert.equal(decoded.evidence.label, 'evidence');
    assert.equal(decoded.evidence.mediaType, SEV_SNP_REPORT_MEDIA_TYPE);
    assert.deepEqual(decoded.evidence.bytes, report);
    assert.deepEqual(decoded.endorsements, { snpCertTable: certs, snpKeyCert: vcek });
  });

  it('maps each endorsement media type to its supplied-endorsements member', () => {
    assert.deepEqual(ENDORSEMENT_MEDIA_TYPES, {
      [TDX_COLLATERAL_MEDIA_TYPE]: 'tdxCollateral',
      [PKIX_CERT_MEDIA_TYPE]: 'snpKeyCert',
      [SEV_SNP_CERTS_MEDIA_TYPE]: 'snpCertTable',
    });
    const collateral = new TextEncoder().encode('{"version":3}');
    const { endorsements } = decodeEvidenceCmw({
      q: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4],
      c: [TDX_COLLATERAL_MEDIA_TYPE, b64u(collateral), 2],
    });
    assert.deepEqual(endorsements, { tdxCollateral: collateral });
  });

  it('takes the collection type as optional and the labels as given', () => {
    const decoded = decodeEvidenceCmw({ nitro: [NITRO_ATTESTATION_MEDIA_TYPE, 'AAAA', 4] });
    assert.equal(decoded.type, undefined);
    assert.equal(decoded.evidence.label, 'nitro');
    assert.deepEqual(decoded.evidence.bytes, new Uint8Array(3));
  });

  it('finds records without ind by media type, anywhere in a nested collection', () => {
    const collateral = new TextEncoder().encode('{"version":3}');
    const { type, evidence, endorsements } = decodeEvidenceCmw({
      [CMWC_TYPE_KEY]: EVIDENCE_CMW_TYPE,
      host: {
        [CMWC_TYPE_KEY]: '1.3.6.1.4.1.99999.1',
        quote: [`${TDX_QUOTE_MEDIA_TYPE.toUpperCase()}; version="5"`, 'AAAA'],
        pcs: { collateral: [TDX_COLLATERAL_MEDIA_TYPE, b64u(collateral)] },
      },
    });
    assert.equal(type, EVIDENCE_CMW_TYPE);
    assert.deepEqual(evidence.path, ['host', 'quote']);
    assert.equal(evidence.essence, TDX_QUOTE_MEDIA_TYPE);
    assert.equal(evidence.parameters.get('version'), '5');
    assert.equal(evidence.ind, undefined);
    assert.deepEqual(endorsements, { tdxCollateral: collateral });
  });

  it('reads combined ind bits: the evidence bit wins, then the endorsements bit', () => {
    const { evidence, endorsements } = decodeEvidenceCmw({
      q: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', IND_EVIDENCE | IND_ENDORSEMENTS | 1],
      c: [TDX_COLLATERAL_MEDIA_TYPE, 'AQID', IND_ENDORSEMENTS | 1],
    });
    assert.equal(evidence.label, 'q');
    assert.deepEqual([...evidence.indicators], ['reference-values', 'endorsements', 'evidence']);
    assert.deepEqual(endorsements, { tdxCollateral: new Uint8Array([1, 2, 3]) });
  });

  it('refuses each malformed evidence collection with its own code (the service answers 400)', () => {
    const cases: [unknown, string, RegExp][] = [
      [null, 'ERR_CMW_INVALID', /JSON collection/],
      [[], 'ERR_CMW_INVALID', /JSON collection/],
      [[TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4], 'ERR_CMW_INVALID', /JSON collection/],
      ['x', 'ERR_CMW_INVALID', /JSON collection/],
      [{}, 'ERR_CMW_EMPTY', /member/],
      [{ [CMWC_TYPE_KEY]: EVIDENCE_CMW_TYPE }, 'ERR_CMW_EMPTY', /member/],
      [
        { [CMWC_TYPE_KEY]: 7, a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4] },
        'ERR_CMW_TYPE_INVALID',
        /__cmwc_t/,
      ],
      [
        { [CMWC_TYPE_KEY]: 'evidence', a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA'] },
        'ERR_CMW_TYPE_INVALID',
        /__cmwc_t/,
      ],
      [{ a: [TDX_QUOTE_MEDIA_TYPE] }, 'ERR_CMW_INVALID', /a record is/],
      [{ a: 'x' }, 'ERR_CMW_INVALID', /record .* or a collection/],
      [{ a: ['', 'AAAA', 4] }, 'ERR_CMW_MEDIA_TYPE_INVALID', /media type/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, 'AA==', 4] }, 'ERR_CMW_VALUE_INVALID', /unpadded base64url/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, '', 4] }, 'ERR_CMW_VALUE_INVALID', /unpadded base64url/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 0] }, 'ERR_CMW_IND_INVALID', /ind/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 36] }, 'ERR_CMW_IND_UNREGISTERED', /ind 36/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 1] }, 'ERR_CMW_RECORD_UNUSED', /a: ind 1 names neither/],
      [{ a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 8] }, 'ERR_CMW_RECORD_UNUSED', /neither/],
      [{ a: [TDX_COLLATERAL_MEDIA_TYPE, 'AAAA', 2] }, 'ERR_CMW_EVIDENCE_COUNT', /found 0/],
      [{ a: [TDX_COLLATERAL_MEDIA_TYPE, 'AAAA'] }, 'ERR_CMW_EVIDENCE_COUNT', /found 0/],
      [
        { a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4], b: { c: [NITRO_ATTESTATION_MEDIA_TYPE, 'AAAA'] } },
        'ERR_CMW_EVIDENCE_COUNT',
        /found 2/,
      ],
      [
        {
          a: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4],
          b: [TDX_COLLATERAL_MEDIA_TYPE, 'AAAA', 2],
          c: { d: [`${TDX_COLLATERAL_MEDIA_TYPE}; v=1`, 'BBBB'] },
        },
        'ERR_CMW_ENDORSEMENT_DUPLICATE',
        /c\/d: more than one application\/vnd\.twi\.tdx-collateral\+json record/,
      ],
    ];
    for (const [cmw, code, message] of cases) refuses(cmw, code, message);
  });

  it('refuses unknown evidence and endorsement media types with ERR_CMW_MEDIA_TYPE', () => {
    refuses({ a: ['application/octet-stream', 'AAAA', 4] }, 'ERR_CMW_MEDIA_TYPE', /evidence/);
    // Without ind, a media type that is neither evidence nor an endorsement has no role.
    refuses({ a: ['application/octet-stream', 'AAAA'] }, 'ERR_CMW_MEDIA_TYPE', /a: unsupported/);
    // Endorsement bit on an unknown type; evidence bit on an endorsement type.
    refuses(
      { q: [TDX_QUOTE_MEDIA_TYPE, 'AAAA'], b: ['text/x', 'AAAA', 2] },
      'ERR_CMW_MEDIA_TYPE',
      /endorsement/,
    );
    refuses({ q: [TDX_COLLATERAL_MEDIA_TYPE, 'AAAA', 4] }, 'ERR_CMW_MEDIA_TYPE', /evidence/);
    refuses(
      { a: [NITRO_ATTESTATION_MEDIA_TYPE, 'AAAA', 4], b: ['text/x', 'AAAA', 2] },
      'ERR_CMW_MEDIA_TYPE',
      /b: unsupported endorsement media type text\/x/,
    );
    // An evidence type the caller does not accept (e.g. a platform it has not registered).
    assert.throws(
      () =>
        decodeEvidenceCmw(
          { a: [NITRO_ATTESTATION_MEDIA_TYPE, 'AAAA', 4] },
          { evidenceMediaTypes: [TDX_QUOTE_MEDIA_TYPE] },
        ),
      { code: 'ERR_CMW_MEDIA_TYPE' },
    );
  });

  it('is bounded: items over the whole tree, depth, label length, value length', () => {
    const many: Record<string, unknown> = { e: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4] };
    for (let i = 1; i < MAX_CMW_ITEMS; i++) many[`x${i}`] = [TDX_COLLATERAL_MEDIA_TYPE, 'AAAA', 2];
    assert.equal(decodeCmwCollection(many).items.length, MAX_CMW_ITEMS);
    refuses(
      { ...many, one: [PKIX_CERT_MEDIA_TYPE, 'AAAA', 2] },
      'ERR_CMW_TOO_MANY_ITEMS',
      /more than/,
    );
    // The bound counts nested members too: the sub-collection is one of them.
    const { e, ...rest } = many;
    refuses({ e, sub: rest }, 'ERR_CMW_TOO_MANY_ITEMS', /more than/);
    let deep: unknown = { e: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4] };
    for (let i = 1; i < MAX_CMW_DEPTH; i++) deep = { [`l${i}`]: deep };
    assert.deepEqual(decodeEvidenceCmw(deep).evidence.path.length, MAX_CMW_DEPTH);
    refuses({ l0: deep }, 'ERR_CMW_TOO_DEEP', /nest/);
    const label = 'l'.repeat(MAX_CMW_LABEL_CHARS + 1);
    refuses({ [label]: [TDX_QUOTE_MEDIA_TYPE, 'AAAA', 4] }, 'ERR_CMW_LABEL_TOO_LONG', /label/);
    const value = 'A'.repeat(MAX_CMW_VALUE_CHARS + 4);
    refuses({ a: [TDX_QUOTE_MEDIA_TYPE, value, 4] }, 'ERR_CMW_VALUE_TOO_LONG', /value over/);
  });

  it('refuses to encode what it would not decode (caller misuse is a TypeError)', () => {
    assert.throws(
      () => encodeEvidenceCmw({ mediaType: TDX_QUOTE_MEDIA_TYPE, evidence: new Uint8Array() }),
      TypeError,
    );
    const endorsements = Array.from({ length: MAX_CMW_ITEMS }, () => ({
      mediaType: PKIX_CERT_MEDIA_TYPE,
      bytes: new Uint8Array(1),
    }));
    assert.throws(
      () =>
        encodeEvidenceCmw({
          mediaType: TDX_QUOTE_MEDIA_TYPE,
          evidence: new Uint8Array(1),
          endorsements,
        }),
      TypeError,
    );
  });
});
