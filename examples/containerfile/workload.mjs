// A workload calling a peer with its WIMSE credential; the key stays in the shim (TEE).
import { createShimClient } from 'twi/shim';

const shim = createShimClient(); // TWI_SHIM_SOCKET, set by the shim
const peer = process.env.PEER_URL ?? 'https://ledger.internal/v1/entries';
const { sub } = await shim.wit();
console.log(`running as ${sub}`);
const res = await shim.fetch(peer, { method: 'GET' });
console.log(`${peer}: ${res.status}`);
