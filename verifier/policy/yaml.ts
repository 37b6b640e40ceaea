/**
 * Bounded YAML parsing for policy documents: a byte size limit before parsing and an alias
 * limit while building the value, so neither a huge file nor an alias bomb ("billion laughs")
 * can exhaust memory or CPU. Every violation is a {@link PolicyError} `ERR_POLICY_INVALID`.
 *
 * @internal
 * @module
 */
import { parseDocument, type Document } from 'yaml';
import { PolicyError } from './errors.js';

/** Largest policy text accepted, in UTF-8 bytes (256 KiB). */
export const MAX_POLICY_BYTES = 256 * 1024;

/** Alias nodes a policy may resolve in all (a real policy needs a handful, if any). */
export const MAX_POLICY_ALIASES = 50;

function invalid(message: string): PolicyError {
  return new PolicyError('ERR_POLICY_INVALID', [{ path: '(root)', message }]);
}

/**
 * Refuses policy text over {@link MAX_POLICY_BYTES}.
 *
 * @throws PolicyError `ERR_POLICY_INVALID`.
 */
export function checkPolicySize(text: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) {
    throw invalid(`the policy is ${bytes} bytes, over the limit of ${MAX_POLICY_BYTES}`);
  }
}

/**
 * Parses YAML text into a document within the size limit.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` for oversized text or YAML syntax errors.
 */
export function parsePolicyYamlDocument(text: string): Document.Parsed {
  checkPolicySize(text);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      'ERR_POLICY_INVALID',
      doc.errors.map((e) => ({ path: '(root)', message: `YAML: ${e.message}` })),
    );
  }
  return doc;
}

/**
 * The document's value, with at most {@link MAX_POLICY_ALIASES} aliases resolved.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` when the aliases expand beyond the limit.
 */
export function policyYamlToJs(doc: Document.Parsed): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_POLICY_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError || /alias/i.test(String(err))) {
      throw invalid(`YAML: too many aliases (at most ${MAX_POLICY_ALIASES} are resolved)`);
    }
    throw invalid(`YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
}
