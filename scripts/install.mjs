// The package's `install` script: builds the native targets of binding.gyp (the addon
// build/Release/twi_native.node and the device emulator build/Release/twi_devemu.so) with
// node-gyp, unless the previous build is still good for this checkout and this Node: both
// outputs exist, are newer than binding.gyp and every native source, and the stamp file
// written after that build names this Node ABI (process.versions.modules), platform and arch.
// TWI_NATIVE_REBUILD=1 forces the build. No dependencies beyond Node and node-gyp, which npm
// provides to install scripts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELEASE = join(ROOT, 'build', 'Release');
const OUTPUTS = ['twi_native.node', 'twi_devemu.so'].map((f) => join(RELEASE, f));
const STAMP = join(RELEASE, 'twi-build-stamp.json');
/** The inputs of the build: binding.gyp and the folders its sources live in. */
const INPUT_FILES = ['binding.gyp'];
const INPUT_DIRS = ['native/src', 'simulators/device-emu/native'];

/** What the build is for; a stamp with other values means rebuild. */
function target() {
  return {
    modules: process.versions.modules,
    napi: process.versions.napi,
    platform: process.platform,
    arch: process.arch,
  };
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Why a build is needed, or undefined when the previous one is up to date. */
function staleReason() {
  if (process.env.TWI_NATIVE_REBUILD === '1') return 'TWI_NATIVE_REBUILD=1';
  const missing = OUTPUTS.find((f) => !existsSync(f));
  if (missing !== undefined) return `${relative(ROOT, missing)} is missing`;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'no build stamp';
  }
  const want = target();
  for (const [k, v] of Object.entries(want)) {
    if (stamp[k] !== v) return `built for ${k} ${String(stamp[k])}, this Node has ${v}`;
  }
  const built = Math.min(...OUTPUTS.map((f) => statSync(f).mtimeMs));
  const inputs = [
    ...INPUT_FILES.map((f) => join(ROOT, f)),
    ...INPUT_DIRS.flatMap((d) => filesUnder(join(ROOT, d))),
  ];
  const newer = inputs.find((f) => statSync(f).mtimeMs > built);
  if (newer !== undefined) return `${relative(ROOT, newer)} changed`;
  return undefined;
}

/** node-gyp as npm provides it to scripts (npm_config_node_gyp), else from PATH. */
function nodeGyp(args) {
  const script = process.env.npm_config_node_gyp;
  const opts = { cwd: ROOT, stdio: 'inherit' };
  if (script !== undefined && script !== '' && existsSync(script)) {
    return spawnSync(process.execPath, [script, ...args], opts);
  }
  return spawnSync('node-gyp', args, { ...opts, shell: process.platform === 'win32' });
}

const reason = staleReason();
if (reason === undefined) {
  process.stdout.write(
    `twi: native build is up to date (Node ABI ${process.versions.modules}), skipping node-gyp\n`,
  );
} else {
  process.stdout.write(`twi: building the native addon and device emulator (${reason})\n`);
  const r = nodeGyp(['rebuild']);
  if (r.error !== undefined) {
    process.stderr.write(`twi: cannot run node-gyp: ${r.error.message}\n`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(STAMP, `${JSON.stringify(target())}\n`);
}
