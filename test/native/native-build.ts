/**
 * Test-only native builds, compiled with the system C++ compiler into build/test-native
 * (cached by a hash of the sources): the AddressSanitizer/UBSan driver of the pure C++
 * code, and an addon with TWI_TEST_EXPORTS (the one export that writes a key's scalar to
 * a file, for the heap-snapshot test). binding.gyp never builds either.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../helpers/vectors.js';

const src = join(projectRoot, 'native', 'src');
const CORE = [
  ...['cbor', 'configfs-tsm', 'detect', 'io', 'nsm', 'sev-guest', 'tdx-guest'].map((f) =>
    join(src, 'tee', `${f}.cc`),
  ),
  ...['ec-key', 'key-sealer', 'secure-buffer'].map((f) => join(src, 'keys', `${f}.cc`)),
];

function hashOf(files: string[], args: string[]): string {
  const h = createHash('sha256').update(args.join('\0'));
  const headers = ['tee', 'keys', '.'].flatMap((d) =>
    readdirSync(join(src, d))
      .filter((f) => f.endsWith('.h'))
      .map((f) => join(src, d, f)),
  );
  for (const f of [...files, ...headers]) h.update(f).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/** Compiles once per source state; returns the output path or why it cannot be built. */
function compile(name: string, files: string[], args: string[]): { path?: string; skip?: string } {
  const out = join(projectRoot, 'build', 'test-native', hashOf(files, args), name);
  if (existsSync(out)) return { path: out };
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync('g++', [...args, '-o', tmp, ...files], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') return { skip: 'g++ is not installed' };
    return {
      skip: `g++ failed: ${String(e.stderr ?? '')
        .split('\n')
        .slice(0, 3)
        .join(' ')}`,
    };
  }
  renameSync(tmp, out);
  return { path: out };
}

const COMMON = ['-std=c++17', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror'];

/**
 * The sanitizer driver (test/native/sanitize-driver.cc) with ASan (statically linked, so
 * the device emulator's LD_PRELOAD library can still come first) and UBSan, against the
 * system libcrypto.
 */
export function sanitizerDriver(): { path?: string; skip?: string } {
  return compile(
    'sanitize-driver',
    [join(projectRoot, 'test', 'native', 'sanitize-driver.cc'), ...CORE],
    [
      ...COMMON,
      '-g',
      '-O1',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=undefined',
      '-fno-omit-frame-pointer',
      '-static-libasan',
      '-lcrypto',
    ],
  );
}

/** The addon built with TWI_TEST_EXPORTS against Node's own headers and OpenSSL. */
export function testAddon(): { path?: string; skip?: string } {
  const nodeInclude = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(nodeInclude, 'node_api.h'))) {
    return { skip: `Node headers not found in ${nodeInclude}` };
  }
  const require = createRequire(import.meta.url);
  const napiInclude = (require('node-addon-api') as { include_dir: string }).include_dir;
  const addon = ['addon', 'addon-devices', 'addon-keys', 'addon-peer', 'addon-util'].map((f) =>
    join(src, `${f}.cc`),
  );
  return compile(
    'twi_native_test.node',
    [...addon, ...CORE],
    [
      ...COMMON,
      '-O1',
      '-shared',
      '-fPIC',
      '-fvisibility=hidden',
      '-DTWI_TEST_EXPORTS',
      '-DNAPI_VERSION=8',
      '-DNAPI_DISABLE_CPP_EXCEPTIONS',
      `-I${nodeInclude}`,
      `-I${napiInclude}`,
    ],
  );
}
