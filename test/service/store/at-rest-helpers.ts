/**
 * Helpers of the keys-at-rest tests: the byte patterns that would betray a private key, and
 * reading a file as an unprivileged user.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';

/**
 * Every form a private key could leak in: the PEM text and each of its base64 lines but the
 * first (which only holds the fixed PKCS#8 header and a few bytes of the scalar), the PKCS#8
 * DER, and the private scalar `d` raw, in base64url and in hex.
 */
export function keyNeedles(pem: string): Buffer[] {
  const key = createPrivateKey(pem);
  const d = key.export({ format: 'jwk' }).d!;
  const lines = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  return [
    Buffer.from(pem),
    ...lines.slice(1).map((l) => Buffer.from(l)),
    key.export({ format: 'der', type: 'pkcs8' }),
    Buffer.from(d, 'base64url'),
    Buffer.from(d),
    Buffer.from(Buffer.from(d, 'base64url').toString('hex')),
  ];
}

/** The needles found in `haystack` (by index), for a readable assertion. */
export function found(haystack: Buffer, needles: readonly Buffer[]): number[] {
  return needles.flatMap((n, i) => (haystack.includes(n) ? [i] : []));
}

/** How reading a file as the `nobody` user went; `undefined` when no tool could switch user. */
export function readAsNobody(path: string): { ok: boolean; stderr: string } | undefined {
  const tries: [string, string[]][] = [
    ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', path]],
    ['su', ['nobody', '-s', '/bin/sh', '-c', `cat '${path.replace(/'/g, `'\\''`)}'`]],
  ];
  for (const [cmd, args] of tries) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
    if (r.error || /not permitted|authentication|does not exist/i.test(r.stderr)) continue;
    return { ok: r.status === 0, stderr: r.stderr };
  }
  return undefined;
}
