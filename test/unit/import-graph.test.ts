/**
 * The import graph of the built output (`dist/`): no cycle between files, and the folder
 * directions of ARCHITECTURE "Modules (layout v2)" that already hold. Imports are read from the
 * emitted JavaScript, so type-only imports (erased by `tsc`) do not count.
 *
 * The layout v2 move (issue 13) is not done yet: the edges it removes are listed in
 * {@link KNOWN_VIOLATIONS} as a ratchet — a new violation fails, and so does a listed one that
 * has gone (delete it from the list).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOTS = ['cli', 'shim', 'native', 'verifier', 'endorsements', 'simulators', 'test'];

/** `verifier/` files (the appraisal library) that still import `endorsements/`. */
const KNOWN_VIOLATIONS: readonly string[] = [
  'verifier/index.js -> endorsements',
  'verifier/pipeline.js -> endorsements',
];

function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsFiles(path));
    else if (name.endsWith('.js')) out.push(path);
  }
  return out;
}

const SPECIFIER =
  /^\s*(?:import|export)\s[^'"]*?from\s*'(\.{1,2}\/[^']+)'|import\('(\.{1,2}\/[^']+)'\)/gm;

/** Relative imports of every built file, as paths relative to `dist/`. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const root of ROOTS) {
    for (const file of jsFiles(join(DIST, root))) {
      const from = relative(DIST, file).split(sep).join('/');
      const deps: string[] = [];
      for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        const spec = m[1] ?? m[2]!;
        deps.push(
          relative(DIST, resolve(dirname(file), spec))
            .split(sep)
            .join('/'),
        );
      }
      graph.set(from, deps);
    }
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const top = (path: string): string => path.split('/')[0]!;
const lib = (path: string): boolean =>
  top(path) === 'verifier' && !/^verifier\/(service|store|provenance)\//.test(path);

describe('import graph of the built output', { timeout: 60_000 }, () => {
  const graph = importGraph();

  it('reads the whole tree', () => {
    assert.ok(graph.size > 300, `only ${graph.size} files found under ${DIST}`);
  });

  it('has no cycle between files', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('keeps simulators out of product code (only the CLI and tests import them)', () => {
    const bad = [...graph].flatMap(([from, deps]) =>
      ['cli', 'test', 'simulators'].includes(top(from))
        ? []
        : deps.filter((d) => top(d) === 'simulators').map((d) => `${from} -> ${d}`),
    );
    assert.deepEqual(bad, []);
  });

  it('keeps the appraisal library off endorsements/ except the known edges', () => {
    const edges = new Set<string>();
    for (const [from, deps] of graph) {
      if (!lib(from)) continue;
      for (const d of deps) if (top(d) === 'endorsements') edges.add(`${from} -> endorsements`);
    }
    assert.deepEqual([...edges].sort(), [...KNOWN_VIOLATIONS].sort());
  });

  it('keeps the shim off the verifier service, store and endorsements', () => {
    const bad = [...graph].flatMap(([from, deps]) =>
      top(from) === 'shim'
        ? deps
            .filter((d) => /^(verifier\/(service|store)|endorsements)\//.test(d))
            .map((d) => `${from} -> ${d}`)
        : [],
    );
    assert.deepEqual(bad, []);
  });
});
