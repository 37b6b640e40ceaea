/**
 * Typed loader for the twi native addon (built by `binding.gyp` during `npm install`).
 *
 * @module
 */
import { createRequire } from 'node:module';

interface NativeBinding {
  abiVersion(): number;
}

const require = createRequire(import.meta.url);
let cached: NativeBinding | undefined;

/** Loads the compiled addon from `build/Release`, once. */
export function loadNative(): NativeBinding {
  cached ??= require('../../build/Release/twi_native.node') as NativeBinding;
  return cached;
}
