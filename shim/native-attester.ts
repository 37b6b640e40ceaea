/**
 * {@link AttesterDevice} over the native addon: device access (configfs-tsm, `/dev/sev-guest`,
 * `/dev/nsm`, TDX RTMR sysfs) and the addon's non-exportable key store; on TDX the CC event log
 * is read from JavaScript (`readCcel`).
 *
 * @internal
 * @module
 */
import { generateKey } from '../native/keys.js';
import { openTeeDevice } from '../native/evidence.js';
import { tdxExtendRtmr } from '../native/devices.js';
import { readCcel } from './measure.js';
import type { NativeKey } from '../native/keys.js';
import type { TeeDevice } from '../native/evidence.js';
import type {
  AttesterDevice,
  CollectedEvidence,
  EvidenceBinding,
  ShimPlatform,
  WorkloadKey,
} from './attester.js';

function wrapKey(key: NativeKey): WorkloadKey {
  const { jwk, spki } = key.publicKey();
  const alg = key.alg;
  return {
    alg,
    publicJwk: { ...jwk, alg },
    spki,
    sign: (data) => key.sign(data),
    dispose: () => key.dispose(),
  };
}

async function collect(device: TeeDevice, b: EvidenceBinding): Promise<CollectedEvidence> {
  const ev =
    device.platform === 'nitro'
      ? await device.getEvidence({ nonce: b.nonce, userData: b.reportData, publicKey: b.publicKey })
      : await device.getEvidence({ reportData: b.reportData });
  return { mediaType: ev.mediaType, evidence: ev.evidence, endorsements: ev.endorsements };
}

/**
 * Opens this machine's TEE (the first usable platform, or `platform`) through the addon.
 *
 * @throws {DeviceError} `ERR_DEVICE_UNAVAILABLE` when there is no usable guest interface.
 */
export async function createNativeAttester(platform?: ShimPlatform): Promise<AttesterDevice> {
  const device = await openTeeDevice(platform);
  const attester: AttesterDevice = {
    platform: device.platform,
    createKey: async (alg) => wrapKey(generateKey(alg === 'ES384' ? 'P-384' : 'P-256')),
    collectEvidence: (binding) => collect(device, binding),
  };
  if (device.platform === 'tdx') {
    return {
      ...attester,
      extendMeasurement: (index, digest) => tdxExtendRtmr(index, digest),
      readEventLog: () => readCcel(),
    };
  }
  return attester;
}
