/**
 * RFC 9162 forms of the signed tree head: OID log ids encode as DER content octets (known
 * OIDs, bounds of `LogID<2..127>`, malformed OIDs refused); with an OID, a tree head carries
 * a `signed_tree_head_v2` TransItem whose tree head bytes are the JSON head's and whose DER
 * ECDSA signature verifies independently with node:crypto; `verifyTreeHead` checks it against
 * the published OID and refuses another OID, a missing one, or a tampered signature; without
 * an OID the JSON head keeps its fields.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import {
  decodeSignedTreeHeadV2,
  logIdOfOid,
  SIGNED_TREE_HEAD_V2,
} from '../../provenance/trans-item.js';
import {
  generateLogKey,
  publishLogKey,
  signTreeHead,
  treeHeadData,
  verifyTreeHead,
} from '../../provenance/tree-head.js';

const OID = '1.3.6.1.4.1.11129.2.4.2';
const ROOT = new Uint8Array(createHash('sha256').update('r').digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const code = { code: 'ERR_PROVENANCE_PROOF_INVALID' };

describe('RFC 9162 log id and signed_tree_head_v2', () => {
  test('OID log ids are DER content octets', () => {
    assert.equal(hex(logIdOfOid(OID)), '2b06010401d679020402');
    assert.equal(hex(logIdOfOid('1.2.840.113549')), '2a864886f70d');
    assert.equal(hex(logIdOfOid('2.999.3')), '883703');
    for (const bad of [
      '1',
      '1.2',
      '3.1.2',
      '1.40.1',
      '1.2.03',
      '1..2',
      'a.b',
      `1.2${'.1'.repeat(127)}`,
    ]) {
      assert.throws(() => logIdOfOid(bad), TypeError, bad);
    }
  });

  test('the TransItem carries the same head with a DER signature', () => {
    const { key } = generateLogKey();
    const head = signTreeHead(key, 7, ROOT, 1_700_000_000_000, OID);
    const item = decodeSignedTreeHeadV2(new Uint8Array(Buffer.from(head.sth!, 'base64')));
    assert.equal(Buffer.from(head.sth!, 'base64').readUInt16BE(0), SIGNED_TREE_HEAD_V2);
    assert.equal(hex(item.logId), hex(logIdOfOid(OID)));
    const data = treeHeadData(1_700_000_000_000, 7, ROOT);
    assert.equal(hex(item.treeHead), hex(data));
    assert.equal(item.signature[0], 0x30, 'a DER SEQUENCE');
    assert.ok(verify('sha256', data, key.publicKey, item.signature));

    const published = publishLogKey(key, OID);
    assert.equal(published.log_oid, OID);
    assert.deepEqual(verifyTreeHead(head, published), ROOT);
    assert.throws(() => verifyTreeHead(head, publishLogKey(key)), code);
    assert.throws(() => verifyTreeHead(head, publishLogKey(key, '1.3.6.1.4.1.11129.2.4.3')), code);
    const raw = Buffer.from(head.sth!, 'base64');
    raw[raw.length - 3]! ^= 1;
    assert.throws(() => verifyTreeHead({ ...head, sth: raw.toString('base64') }, published), code);
    const other = signTreeHead(key, 8, ROOT, 1_700_000_000_000, OID);
    assert.throws(() => verifyTreeHead({ ...head, sth: other.sth! }, published), code);
    assert.throws(() => verifyTreeHead({ ...head, sth: 'AQQ=' }, published), code);
  });

  test('without an OID the JSON head is unchanged', () => {
    const { key } = generateLogKey();
    const head = signTreeHead(key, 1, ROOT, 1);
    assert.deepEqual(Object.keys(head), [
      'log_id',
      'tree_size',
      'timestamp',
      'root_hash',
      'alg',
      'signature',
    ]);
    assert.deepEqual(verifyTreeHead(head, publishLogKey(key)), ROOT);
  });
});
