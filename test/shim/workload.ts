/**
 * The small workload the end-to-end test runs as the shim's child: it calls the relying party
 * (RP_URL) through the client library, then tries what must fail, and prints one JSON line.
 */
import { createShimClient } from '../../shim/client.js';

async function codeOf(res: Response): Promise<string> {
  const body = (await res.json()) as { code?: string };
  return `${res.status} ${body.code ?? ''}`;
}

async function main(): Promise<void> {
  const target = process.env.RP_URL!;
  const shim = createShimClient();
  const out: Record<string, unknown> = {
    envWit: typeof process.env.WIMSE_WIT === 'string' && process.env.WIMSE_WIT.length > 0,
    socket: process.env.TWI_SHIM_SOCKET,
    preload: process.env.LD_PRELOAD ?? null,
  };
  const ok = await shim.fetch(target);
  out.accepted =
    ok.status === 200 ? ((await ok.json()) as { workload: string }).workload : await codeOf(ok);
  // The same WIT + WPT again: the relying party's replay cache must refuse it.
  const wit = await shim.wit();
  const wpt = await shim.wpt({ aud: target });
  const headers = { 'workload-identity-token': wit.token, 'workload-proof-token': wpt.token };
  await fetch(target, { headers });
  out.replayed = await codeOf(await fetch(target, { headers }));
  const other = await shim.wpt({ aud: 'https://other.example/v1/hello' });
  out.otherAudience = await codeOf(
    await fetch(target, {
      headers: { 'workload-identity-token': wit.token, 'workload-proof-token': other.token },
    }),
  );
  out.witOnly = await codeOf(
    await fetch(target, { headers: { 'workload-identity-token': wit.token } }),
  );
  process.stdout.write(JSON.stringify(out) + '\n');
}

await main();
