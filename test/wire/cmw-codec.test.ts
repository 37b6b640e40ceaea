/**
 * The JSON CMW codec (`wire/cmw-codec.ts`) against RFC 9999 / draft-ietf-rats-msg-wrap-23: the
 * draft's JSON examples decode to the bytes they spell and encode back unchanged; `ind` is
 * optional, combined bits come back as a set and unregistered bits are refused; collections
 * nest up to MAX_CMW_DEPTH with the item bound counted over the whole tree; `__cmwc_t` is an
 * absolute URI or an OID; every malformed input is refused with its own code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CMWC_TYPE_KEY,
  cmwRecords,
  decodeCmw,
  encodeCmw,
  IND_APPRAISAL_POLICY,
  IND_ATTESTATION_RESULTS,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  IND_REFERENCE_VALUES,
  IND_REGISTERED,
  indicatorsOf,
  isCmwCollectionType,
  MAX_CMW_DEPTH,
  MAX_CMW_ITEMS,
  MAX_CMW_LABEL_CHARS,
  MAX_CMW_MEDIA_TYPE_CHARS,
  MAX_CMW_TYPE_CHARS,
  MAX_CMW_VALUE_CHARS,
  type CmwCollectionNode,
  type CmwItem,
} from '../../wire/cmw-codec.js';
import { WireError } from '../../wire/errors.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// The draft's JSON examples, re-typed as data (draft-ietf-rats-msg-wrap-23 §5; the same
// files are cddl/*.json in its repository).
/** §5.1 "JSON-encoded Record" (cmw-example-1.json). */
const RECORD_5_1 = ['application/vnd.example.rats-conceptual-msg', 'I0faVQ'];
/** cmw-example-2.json: a record whose media type carries an `eat_profile` parameter. */
const RECORD_PROFILED = [
  'application/eat+cwt; eat_profile="tag:psacertified.org,2023:psa#tfm"',
  'I0faVQ',
];
/** §5.6 "JSON-encoded Collection" (collection-example-2.json). */
const COLLECTION_5_6 = {
  __cmwc_t: 'tag:example.com,2024:another-composite-attester',
  'attester A': ['application/eat-ucs+json', 'e30K', 4],
  'attester B': ['application/eat-ucs+cbor', 'oA', 4],
};
/** §5.7 "Use in JWT" (eat-example-1.json): the `cmw` claim of a JWT Claims Set. */
const JWT_CLAIMS_5_7 = {
  cmw: {
    __cmwc_t: 'tag:example.com,2024:another-composite-attester',
    'attester A': ['application/eat-ucs+json', 'e30K', 4],
    'attester B': ['application/eat-ucs+cbor', 'oA', 4],
  },
  iss: 'evidence collection daemon',
  exp: 1300819380,
};
/**
 * §5.4 "CBOR-encoded Record with explicit CM indicator" and attester C of §5.5 "CBOR-encoded
 * Collection", in their JSON form (same type, the byte string as base64url, same `ind`).
 */
const RECORD_5_4_AS_JSON = [
  'application/rim+cose',
  Buffer.from(hex('d28440a044d901f5a040')).toString('base64url'),
  3,
];
const RECORD_5_5_C_AS_JSON = ['application/eat+jwt', 'Li4u', 8];

function refuses(json: unknown, code: string, message?: RegExp): void {
  assert.throws(
    () => decodeCmw(json),
    (err: unknown) => {
      assert.ok(err instanceof WireError, String(err));
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

/** A chain of `levels` collections, the innermost holding one record. */
function nested(levels: number, record: unknown = RECORD_5_1): unknown {
  let node: unknown = record;
  for (let i = levels; i >= 1; i--) node = { [`level-${i}`]: node };
  return node;
}

describe('JSON CMW codec', { timeout: 30_000 }, () => {
  it('decodes the draft examples to the bytes they spell (§5.1, §5.4, §5.5, §5.6, §5.7)', () => {
    const record = decodeCmw(RECORD_5_1) as CmwItem;
    assert.equal(record.kind, 'record');
    assert.equal(record.mediaType, 'application/vnd.example.rats-conceptual-msg');
    assert.deepEqual(record.bytes, hex('2347da55')); // the CBOR examples' h'2347da55'
    assert.equal(record.ind, undefined);
    assert.equal(record.indicators.size, 0);

    const coll = decodeCmw(COLLECTION_5_6) as CmwCollectionNode;
    assert.equal(coll.kind, 'collection');
    assert.equal(coll.type, 'tag:example.com,2024:another-composite-attester');
    assert.deepEqual([...coll.members.keys()], ['attester A', 'attester B']);
    const [a, b] = cmwRecords(coll);
    assert.deepEqual(a!.bytes, text('{}\n'));
    assert.deepEqual(b!.bytes, hex('a0')); // an empty CBOR map
    assert.deepEqual(a!.path, ['attester A']);
    assert.deepEqual([...a!.indicators], ['evidence']);

    const claim = decodeCmw(JWT_CLAIMS_5_7.cmw) as CmwCollectionNode;
    assert.deepEqual(claim, coll);

    const rim = decodeCmw(RECORD_5_4_AS_JSON) as CmwItem;
    assert.equal(rim.ind, IND_REFERENCE_VALUES | IND_ENDORSEMENTS);
    assert.deepEqual(rim.indicators, new Set(['reference-values', 'endorsements']));
    assert.deepEqual(rim.bytes, hex('d28440a044d901f5a040'));
    const ar = decodeCmw(RECORD_5_5_C_AS_JSON) as CmwItem;
    assert.deepEqual([...ar.indicators], ['attestation-results']);
    assert.deepEqual(ar.bytes, text('...'));
  });

  it('keeps media-type parameters and compares essences case-insensitively', () => {
    const r = decodeCmw(RECORD_PROFILED) as CmwItem;
    assert.equal(r.mediaType, RECORD_PROFILED[0]);
    assert.equal(r.essence, 'application/eat+cwt');
    assert.deepEqual([...r.parameters], [['eat_profile', 'tag:psacertified.org,2023:psa#tfm']]);
    const upper = decodeCmw(['Application/EAT+CWT;EAT_PROFILE=x', 'AA']) as CmwItem;
    assert.equal(upper.essence, 'application/eat+cwt');
    assert.equal(upper.mediaType, 'Application/EAT+CWT;EAT_PROFILE=x');
    assert.equal(upper.parameters.get('eat_profile'), 'x');
  });

  it('encodes back exactly what it decoded (round trips)', () => {
    for (const json of [
      RECORD_5_1,
      RECORD_PROFILED,
      COLLECTION_5_6,
      RECORD_5_4_AS_JSON,
      RECORD_5_5_C_AS_JSON,
      nested(MAX_CMW_DEPTH),
    ]) {
      assert.deepEqual(encodeCmw(decodeCmw(json)), json);
    }
    const bytes = new Uint8Array(randomBytes(257));
    const tree = {
      [CMWC_TYPE_KEY]: '1.3.6.1.4.1.99999.7',
      cpu: { gpu: ['application/octet-stream', Buffer.from(bytes).toString('base64url'), 31] },
      nic: ['text/plain; charset=utf-8', 'AQ'],
    };
    const decoded = decodeCmw(tree);
    assert.deepEqual(encodeCmw(decoded), tree);
    assert.deepEqual(cmwRecords(decoded)[0]!.bytes, bytes);
    assert.deepEqual(cmwRecords(decoded)[0]!.path, ['cpu', 'gpu']);
  });

  it('takes every combination of registered ind bits and refuses unregistered ones', () => {
    const names = ['reference-values', 'endorsements', 'evidence', 'attestation-results'];
    assert.deepEqual(
      [IND_REFERENCE_VALUES, IND_ENDORSEMENTS, IND_EVIDENCE, IND_ATTESTATION_RESULTS],
      [1, 2, 4, 8],
    );
    assert.equal(IND_APPRAISAL_POLICY, 16);
    assert.equal(IND_REGISTERED, 31);
    for (let ind = 1; ind <= IND_REGISTERED; ind++) {
      const r = decodeCmw(['application/x', 'AA', ind]) as CmwItem;
      assert.equal(r.ind, ind);
      const expected = [...names, 'appraisal-policy'].filter((_, bit) => ind & (1 << bit));
      assert.deepEqual([...r.indicators], expected);
      assert.deepEqual(r.indicators, indicatorsOf(ind));
    }
    // RFC 9999 §3.1: any value from 1 to 2^32-1 is a valid bitmap, but only the five
    // registered bits are acceptable for now.
    for (const ind of [32, 33, 64, 2 ** 31, 2 ** 32 - 1]) {
      refuses(['application/x', 'AA', ind], 'ERR_CMW_IND_UNREGISTERED', /bit/);
    }
    for (const ind of [0, -4, 4.5, 2 ** 32, '4', null, true, [4], Number.NaN]) {
      refuses(['application/x', 'AA', ind], 'ERR_CMW_IND_INVALID');
    }
  });

  it(`nests collections ${MAX_CMW_DEPTH} deep and refuses one level more`, () => {
    const deepest = decodeCmw(nested(MAX_CMW_DEPTH));
    const [record] = cmwRecords(deepest);
    assert.equal(record!.path.length, MAX_CMW_DEPTH);
    assert.equal(record!.label, `level-${MAX_CMW_DEPTH}`);
    refuses(
      nested(MAX_CMW_DEPTH + 1),
      'ERR_CMW_TOO_DEEP',
      /CMW level-1\/level-2\/level-3\/level-4:/,
    );
    // Deeper still is refused the same way, without walking the rest.
    refuses(nested(10_000), 'ERR_CMW_TOO_DEEP');
  });

  it(`counts the ${MAX_CMW_ITEMS}-item bound over the whole tree`, () => {
    const inner: Record<string, unknown> = {};
    for (let i = 0; i < MAX_CMW_ITEMS - 2; i++) inner[`r${i}`] = RECORD_5_1;
    const full = { top: RECORD_5_1, inner }; // 2 + (MAX - 2) members
    assert.equal(cmwRecords(decodeCmw(full)).length, MAX_CMW_ITEMS - 1);
    refuses({ ...full, more: RECORD_5_1 }, 'ERR_CMW_TOO_MANY_ITEMS');
    refuses({ top: RECORD_5_1, inner: { ...inner, more: RECORD_5_1 } }, 'ERR_CMW_TOO_MANY_ITEMS');
  });

  it('takes an absolute URI or a dotted-decimal OID as __cmwc_t and nothing else', () => {
    const good = [
      'tag:twi.dev,2026:evidence',
      'tag:example.com,2024:composite-attester',
      'https://example.com/cmw/evidence?v=1',
      'urn:ietf:params:rats:cmw',
      'http://[2001:db8::1]:8080/x',
      'x:',
      '1.3.6.1.5.5.7.1.35',
      '2.999',
      '0',
    ];
    for (const type of good) {
      assert.ok(isCmwCollectionType(type), type);
      const c = decodeCmw({ [CMWC_TYPE_KEY]: type, a: RECORD_5_1 }) as CmwCollectionNode;
      assert.equal(c.type, type);
    }
    const bad: unknown[] = [
      '',
      'evidence',
      '/relative/path',
      '//example.com/x',
      'tag:twi.dev,2026:evidence#frag', // absolute-URI has no fragment (RFC 3986 §4.3)
      'https://exa mple.com/',
      'https://example.com/%zz',
      '1ab:x',
      '3.1',
      '1.02',
      '1..2',
      '1.2.',
      `tag:${'a'.repeat(MAX_CMW_TYPE_CHARS)}`,
      7,
      null,
      ['tag:x'],
    ];
    for (const type of bad) {
      if (typeof type === 'string') assert.equal(isCmwCollectionType(type), false, type);
      refuses({ [CMWC_TYPE_KEY]: type, a: RECORD_5_1 }, 'ERR_CMW_TYPE_INVALID', /__cmwc_t/);
    }
    // A nested collection's type is checked too.
    refuses({ outer: { [CMWC_TYPE_KEY]: 'nope', a: RECORD_5_1 } }, 'ERR_CMW_TYPE_INVALID', /outer/);
  });

  it('refuses each malformed input with its own code', () => {
    const long = (n: number): string => 'A'.repeat(n);
    const cases: [unknown, string][] = [
      [null, 'ERR_CMW_INVALID'],
      ['x', 'ERR_CMW_INVALID'],
      [4, 'ERR_CMW_INVALID'],
      [[], 'ERR_CMW_INVALID'],
      [['application/x'], 'ERR_CMW_INVALID'],
      [['application/x', 'AA', 4, 'extra'], 'ERR_CMW_INVALID'],
      [['application/x', 42], 'ERR_CMW_INVALID'],
      [{ a: 'application/x' }, 'ERR_CMW_INVALID'],
      [{ a: null }, 'ERR_CMW_INVALID'],
      [{}, 'ERR_CMW_EMPTY'],
      [{ [CMWC_TYPE_KEY]: 'tag:x' }, 'ERR_CMW_EMPTY'],
      [{ a: {} }, 'ERR_CMW_EMPTY'],
      [{ [long(MAX_CMW_LABEL_CHARS + 1)]: RECORD_5_1 }, 'ERR_CMW_LABEL_TOO_LONG'],
      [[64999, 'I0faVQ'], 'ERR_CMW_MEDIA_TYPE_INVALID'], // a CoAP C-F: CBOR only (§3.1)
      [['', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['application', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['application/x; p', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['application/x; p="open', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['application/x; p=a; P=b', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['#cmw-c2j-tunnel', 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'], // tunnels left the draft in -09
      [[`application/${long(MAX_CMW_MEDIA_TYPE_CHARS)}`, 'AA'], 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [['application/x', ''], 'ERR_CMW_VALUE_INVALID'],
      [['application/x', 'AA=='], 'ERR_CMW_VALUE_INVALID'],
      [['application/x', 'AA+/'], 'ERR_CMW_VALUE_INVALID'],
      [['application/x', 'AAAAA'], 'ERR_CMW_VALUE_INVALID'],
      [['application/x', 'AB'], 'ERR_CMW_VALUE_INVALID'], // stray bits: not canonical
      [['application/x', long(MAX_CMW_VALUE_CHARS + 4)], 'ERR_CMW_VALUE_TOO_LONG'],
      [['application/x', 'AA', 0], 'ERR_CMW_IND_INVALID'],
      [['application/x', 'AA', 64], 'ERR_CMW_IND_UNREGISTERED'],
      [{ [CMWC_TYPE_KEY]: 'no', a: RECORD_5_1 }, 'ERR_CMW_TYPE_INVALID'],
      [nested(MAX_CMW_DEPTH + 1), 'ERR_CMW_TOO_DEEP'],
    ];
    for (const [json, code] of cases) refuses(json, code);
    // The error names where in the tree the fault is.
    refuses({ a: { b: ['application/x', 'AA='] } }, 'ERR_CMW_VALUE_INVALID', /CMW a\/b:/);
  });
});
