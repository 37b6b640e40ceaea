/**
 * The typed error of policy loading.
 *
 * @module
 */
import { TwiError } from '../../common/errors.js';

/** One problem found in a policy document. */
export interface PolicyIssue {
  /** Where, as a path from the document root, e.g. `tdx.mrtd[1]`; `(root)` for the document. */
  readonly path: string;
  readonly message: string;
}

/** Stable codes of {@link PolicyError}. */
export type PolicyErrorCode = 'ERR_POLICY_INVALID' | 'ERR_POLICY_UNREADABLE';

/**
 * A policy that cannot be read (`ERR_POLICY_UNREADABLE`) or does not follow the schema or
 * the semantic rules (`ERR_POLICY_INVALID`). `issues` lists every problem; `path` is the
 * first one's.
 */
export class PolicyError extends TwiError {
  override readonly code: PolicyErrorCode;
  readonly path: string;
  readonly issues: readonly PolicyIssue[];

  constructor(code: PolicyErrorCode, issues: readonly PolicyIssue[], options?: ErrorOptions) {
    const first = issues[0] ?? { path: '(root)', message: 'invalid policy' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`policy ${first.path}: ${first.message}${more}`, options);
    this.code = code;
    this.path = first.path;
    this.issues = issues;
  }
}
