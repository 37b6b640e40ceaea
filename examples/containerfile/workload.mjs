// A workload calling a peer with its WIMSE credential; the key stays in the shim (TEE).
import process from 'node:process';
import { createShimClient } from 'twi/shim';

const shim = createShimClient(); // TWI_SHIM_SOCKET, set by the shim
const peer = process.env.PEER_URL ?? 'https://ledger.internal/v1/entries';
const { sub } = await shim.wit();
process.stdout.write(`running as ${sub}\n`);
const res = await shim.fetch(peer, { method: 'GET' });
process.stdout.write(`${peer}: ${res.status}\n`);
