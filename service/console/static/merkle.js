// RFC 9162 §2.1 inclusion proofs checked in the browser with Web Crypto SHA-256: leaf hash
// SHA-256(0x00 ‖ data), node hash SHA-256(0x01 ‖ left ‖ right), the leaf data being the RFC 8785
// canonical JSON of the provenance record (as provenance/merkle.ts and common/canonical-json.ts
// compute them on the server).

const encoder = new TextEncoder();

async function sha256(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', out));
}

export const leafHash = (data) => sha256(Uint8Array.of(0), data);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/** RFC 8785: members sorted by UTF-16 code units, primitives as ECMAScript serialises them. */
export function canonicalJson(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('not JSON');
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('not JSON');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}

export function fromBase64(text) {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** RFC 9162 §2.1.3.2: does `proof` lead from `leaf` at `index` to `root` of a tree of `size`? */
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
  if (index < 0 || index >= size || proof.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(r, root);
}

/**
 * Checks a `GET /v1/provenance/{jti}` answer: the record is about `jti`, and its leaf hash with
 * the inclusion proof gives the root of the tree head. `{ valid, reason, leaf, root }`.
 */
export async function checkProvenance(answer, jti) {
  if (!globalThis.crypto?.subtle) {
    return { valid: false, reason: 'Web Crypto is unavailable: open the console over HTTPS.' };
  }
  const head = answer?.tree_head;
  if (answer?.jti !== jti || answer?.record?.jti !== jti) {
    return { valid: false, reason: `the answer is not about credential ${jti}` };
  }
  let leaf;
  let root;
  let proof;
  try {
    leaf = await leafHash(encoder.encode(canonicalJson(answer.record)));
    root = fromBase64(head.root_hash);
    proof = answer.inclusion_proof.map(fromBase64);
  } catch {
    return { valid: false, reason: 'the answer is malformed (record, root or proof)' };
  }
  const ok = await verifyInclusion(answer.leaf_index, head.tree_size, leaf, proof, root);
  return {
    valid: ok,
    reason: ok
      ? `leaf ${answer.leaf_index} of ${head.tree_size} leads to the signed root`
      : 'the inclusion proof does not lead from the record to the root of the tree head',
    leaf: toHex(leaf),
    root: toHex(root),
  };
}

/** RFC 9162 TreeHeadDataV2 without extensions: timestamp, tree size, root, empty extensions. */
function treeHeadData(timestamp, size, root) {
  const out = new Uint8Array(8 + 8 + 1 + root.length + 2);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(timestamp));
  view.setBigUint64(8, BigInt(size));
  out[16] = root.length;
  out.set(root, 17);
  return out;
}

/**
 * Checks the ES256 signature of a tree head with the log key the service publishes
 * (`GET /v1/log/key`), and that `log_id` is the SHA-256 of that key's SPKI.
 */
export async function checkTreeHead(head, published) {
  if (!globalThis.crypto?.subtle) return { valid: false, reason: 'Web Crypto is unavailable' };
  try {
    const { kty, crv, x, y } = published.jwk;
    const alg = { name: 'ECDSA', namedCurve: 'P-256' };
    const key = await crypto.subtle.importKey('jwk', { kty, crv, x, y }, alg, true, ['verify']);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', key));
    const logId = fromBase64(head.log_id);
    if (!same(await sha256(spki), logId)) {
      return { valid: false, reason: 'log_id is not the published log key' };
    }
    const data = treeHeadData(head.timestamp, head.tree_size, fromBase64(head.root_hash));
    const sig = fromBase64(head.signature);
    const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, data);
    return ok
      ? { valid: true, reason: 'signed by the published log key' }
      : { valid: false, reason: 'the signature does not verify with the published log key' };
  } catch {
    return { valid: false, reason: 'the tree head or the log key is malformed' };
  }
}
