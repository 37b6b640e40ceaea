/**
 * The shim's files directory and file modes: the directory is 0700 from its creation (an
 * existing wider one is tightened, a path that is not a directory is refused with
 * `ERR_SHIM_FILES`), credentials and keys are 0600 and the public bundle files 0640 whatever
 * the umask, and writes replace files atomically.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Credential } from '../../shim/credential.js';
import { ShimError } from '../../shim/errors.js';
import {
  prepareFilesDir,
  removeCredentialFiles,
  writeBundleFile,
  writeCredentialFiles,
} from '../../shim/files.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

/** Runs `f` with umask 0, so that every mode seen is the one the code asked for. */
function withOpenUmask<T>(f: () => T): T {
  const old = process.umask(0);
  try {
    return f();
  } finally {
    process.umask(old);
  }
}

function credential(keyPem?: string): Credential {
  const now = new Date();
  return {
    wit: 'wit-token',
    ear: 'ear-token',
    sub: 'spiffe://files.example/w',
    jti: 'jti-1',
    issuedAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
    x509: {
      chain: [],
      pem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
      uri: 'spiffe://files.example/w',
      notBefore: now,
      notAfter: new Date(now.getTime() + 60_000),
      ...(keyPem !== undefined && { keyPem, jti: 'jti-2' }),
    },
  };
}

describe('shim files directory and modes', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'twi-shim-files-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory (and parents) 0700 whatever the umask', () => {
    const dir = join(root, 'a', 'b', 'files');
    assert.equal(
      withOpenUmask(() => prepareFilesDir(dir)),
      undefined,
    );
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(root, 'a')), 0o700);
  });

  it('tightens an existing wider directory to 0700 and says so; never widens one', () => {
    const dir = join(root, 'wide');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    assert.deepEqual(prepareFilesDir(dir), { was: 0o755, now: 0o700 });
    assert.equal(mode(dir), 0o700);
    assert.equal(prepareFilesDir(dir), undefined);
    const narrow = join(root, 'narrow');
    mkdirSync(narrow);
    chmodSync(narrow, 0o500);
    assert.equal(prepareFilesDir(narrow), undefined);
    assert.equal(mode(narrow), 0o500);
    chmodSync(narrow, 0o700);
  });

  it('refuses a path that is not a directory, or one it cannot create, with ERR_SHIM_FILES', () => {
    const file = join(root, 'plain');
    writeFileSync(file, 'x');
    for (const path of [file, join(file, 'below')]) {
      assert.throws(
        () => prepareFilesDir(path),
        (e: unknown) =>
          e instanceof ShimError && e.code === 'ERR_SHIM_FILES' && e.message.includes(path),
      );
    }
  });

  it('writes credentials and the held key 0600 and the bundle 0640, whatever the umask', () => {
    const dir = join(root, 'modes');
    prepareFilesDir(dir);
    withOpenUmask(() => {
      writeCredentialFiles(dir, credential('-----BEGIN PRIVATE KEY-----\n'));
      writeBundleFile(dir, { bundle: { keys: [] }, expiresAt: new Date() });
    });
    for (const name of ['wit.jwt', 'ear.jwt', 'svid.pem', 'svid-key.pem']) {
      assert.equal(mode(join(dir, name)), 0o600, name);
    }
    assert.equal(mode(join(dir, 'bundle.json')), 0o640);
    assert.equal(readFileSync(join(dir, 'wit.jwt'), 'utf8'), 'wit-token\n');
    // No temporary file is left behind.
    assert.deepEqual(readdirSync(dir).sort(), [
      'bundle.json',
      'ear.jwt',
      'svid-key.pem',
      'svid.pem',
      'wit.jwt',
    ]);
  });

  it('replaces a file of an earlier, wider mode with a 0600 one', () => {
    const dir = join(root, 'older');
    prepareFilesDir(dir);
    writeFileSync(join(dir, 'wit.jwt'), 'old\n', { mode: 0o644 });
    chmodSync(join(dir, 'wit.jwt'), 0o644);
    writeCredentialFiles(dir, credential());
    assert.equal(mode(join(dir, 'wit.jwt')), 0o600);
    assert.equal(readFileSync(join(dir, 'wit.jwt'), 'utf8'), 'wit-token\n');
    removeCredentialFiles(dir);
    assert.deepEqual(readdirSync(dir), []);
  });
});
