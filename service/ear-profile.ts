/**
 * The EAR profile a `/v1/attest` or `/v1/appraise` request asks for: the `ear_profile` query
 * parameter (a profile name or `eat_profile` URI), else the `eat_profile` parameter of an
 * `application/eat+jwt` range in `Accept`, else the service's default.
 *
 * @internal
 * @module
 */
import {
  acceptedEatProfile,
  earProfileOption,
  EAR_PROFILE_NAMES,
  type EarProfile,
} from '../verifier/ear/profiles.js';
import { ProblemError } from './problem.js';

/** A profile twi emits, by name or by the exact `eat_profile` it writes (not a read-only alias). */
function emittedProfile(value: unknown): EarProfile | undefined {
  try {
    return earProfileOption(value);
  } catch {
    return undefined;
  }
}

function unknownProfile(what: string, value: unknown): ProblemError {
  return new ProblemError(
    400,
    'ERR_EAR_PROFILE_UNKNOWN',
    `${what}: unknown EAR profile ${JSON.stringify(value)} (known: ${EAR_PROFILE_NAMES.join(', ')} or their eat_profile URIs)`,
  );
}

/**
 * The profile the request names, or `undefined` when it names none.
 *
 * @throws {ProblemError} 400 `ERR_EAR_PROFILE_UNKNOWN` for a profile twi does not emit (an
 *   `ear_profile` given more than once is not a string, so it is refused too).
 */
export function requestedEarProfile(
  query: unknown,
  accept: string | string[] | undefined,
): EarProfile | undefined {
  const q = (query as Record<string, unknown> | undefined)?.ear_profile;
  if (q !== undefined) {
    const profile = emittedProfile(q);
    if (!profile) throw unknownProfile('ear_profile', q);
    return profile;
  }
  const asked = acceptedEatProfile(Array.isArray(accept) ? accept.join(',') : accept);
  if (asked === undefined) return undefined;
  const profile = emittedProfile(asked);
  if (!profile) throw unknownProfile('Accept eat_profile', asked);
  return profile;
}
