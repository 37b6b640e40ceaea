/**
 * Which TCB levels the simulated TCB Info offers, given the simulated platform's TCB.
 *
 * @internal
 * @module
 */
import type { SimPlatformTcb, SimTcbLevel } from './tdx-options.js';

/** The simulated platform's TCB as the TCB level matching sees it. */
export interface SimPlatform {
  sgxTcbComps: number[];
  pceSvn: number;
  teeTcbSvn: Uint8Array;
}

function newerThan(p: SimPlatform): SimTcbLevel {
  return {
    sgxTcbComps: p.sgxTcbComps.map((svn) => svn + 1),
    pceSvn: p.pceSvn,
    tdxTcbComps: [...p.teeTcbSvn],
    status: 'UpToDate',
  };
}

/**
 * TCB levels, highest first: by default one `UpToDate` level equal to the platform; with a
 * worse status, a newer `UpToDate` level the platform misses and then the matching level with
 * that status and its advisories; with `match: false`, only a level above the platform.
 */
export function resolveTcbLevels(
  p: SimPlatform,
  explicit: SimTcbLevel[] | undefined,
  wanted: SimPlatformTcb = {},
): SimTcbLevel[] {
  if (explicit !== undefined) return explicit;
  if (wanted.match === false) return [newerThan(p)];
  const status = wanted.status ?? 'UpToDate';
  const matching: SimTcbLevel = {
    sgxTcbComps: [...p.sgxTcbComps],
    pceSvn: p.pceSvn,
    tdxTcbComps: [...p.teeTcbSvn],
    status,
    ...(wanted.advisoryIds ? { advisoryIds: wanted.advisoryIds } : {}),
  };
  return status === 'UpToDate' ? [matching] : [newerThan(p), matching];
}
