/**
 * The import graph of the built output (`dist/`) keeps the layout of ARCHITECTURE "Modules
 * (layout v2)": no cycle between files, each top-level folder imports only the folders below
 * it, product code reaches no package face, and no folder has a barrel. Imports are read from
 * the emitted JavaScript, so type-only imports (erased by `tsc`) are checked separately from
 * the sources.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { PRODUCT_FOLDERS } from '../helpers/layout.js';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE = resolve(DIST, '..');
const ROOTS = [...PRODUCT_FOLDERS, 'test'];

/** What each top-level folder may import (besides itself), ground floor first. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  wire: ['common'],
  wimse: ['common', 'wire'],
  native: ['common', 'wire'],
  verifier: ['common', 'wire', 'wimse'],
  endorsements: ['common', 'wire', 'verifier'],
  provenance: ['common', 'wire', 'wimse', 'verifier', 'endorsements'],
  service: ['common', 'wire', 'wimse', 'verifier', 'endorsements', 'provenance'],
  shim: ['common', 'wire', 'wimse', 'native'],
  simulators: ['common', 'wire', 'wimse', 'verifier', 'native', 'provenance'],
  cli: ROOTS.filter((r) => r !== 'cli' && r !== 'test').concat('index.js'),
  'index.js': ROOTS.filter((r) => r !== 'cli' && r !== 'test' && r !== 'simulators'),
};

/** The package faces (`package.json` `exports`): the only modules that only re-export. */
const FACES = new Set(
  Object.values(
    JSON.parse(readFileSync(join(SOURCE, 'package.json'), 'utf8')).exports as Record<
      string,
      string
    >,
  ).map((p) => p.replace(/^\.\/dist\//, '')),
);

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
  const files = ROOTS.flatMap((root) => jsFiles(join(DIST, root)));
  files.push(join(DIST, 'index.js'));
  {
    for (const file of files) {
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

/** `from -> to` for every edge that leaves its folder for one it may not import. */
function forbidden(edges: Iterable<[string, string]>): string[] {
  const bad = new Set<string>();
  for (const [from, to] of edges) {
    const a = top(from);
    const b = top(to);
    if (a === b || a === 'test' || !(a in MAY_IMPORT)) continue;
    if (!MAY_IMPORT[a]!.includes(b)) bad.add(`${from} -> ${to}`);
  }
  return [...bad].sort();
}

const TYPE_IMPORT = /^\s*(?:import|export)\s+type\s[^'"]*?from\s*'(\.{1,2}\/[^']+)'/gm;

/** Type-only imports of the sources (erased from `dist/`, but still a dependency). */
function typeEdges(): [string, string][] {
  const edges: [string, string][] = [];
  for (const root of ROOTS.filter((r) => r !== 'test')) {
    for (const file of sourceFiles(join(SOURCE, root))) {
      const from = relative(SOURCE, file).split(sep).join('/');
      for (const m of readFileSync(file, 'utf8').matchAll(TYPE_IMPORT)) {
        const to = relative(SOURCE, resolve(dirname(file), m[1]!))
          .split(sep)
          .join('/');
        edges.push([from, to]);
      }
    }
  }
  return edges;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('import graph of the built output', { timeout: 60_000 }, () => {
  const graph = importGraph();
  const edges = [...graph].flatMap(([from, deps]) => deps.map((d): [string, string] => [from, d]));

  it('reads the whole tree', () => {
    assert.ok(graph.size > 300, `only ${graph.size} files found under ${DIST}`);
  });

  it('has no cycle between files', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('imports only downwards between top-level folders (ARCHITECTURE "Modules")', () => {
    assert.deepEqual(forbidden(edges), []);
  });

  it('keeps the folder directions for type-only imports too', () => {
    assert.deepEqual(forbidden(typeEdges()), []);
  });

  it('keeps the appraisal library off endorsements/, service/ and provenance/', () => {
    const bad = [...edges, ...typeEdges()].filter(
      ([from, to]) =>
        top(from) === 'verifier' && ['endorsements', 'service', 'provenance'].includes(top(to)),
    );
    assert.deepEqual(bad, []);
  });

  it('reaches the package faces only from other faces, the CLI and tests', () => {
    const bad = edges.filter(
      ([from, to]) => FACES.has(to) && !FACES.has(from) && !['cli', 'test'].includes(top(from)),
    );
    assert.deepEqual(bad, []);
  });

  it('has no barrel: an index module exists only as a package face', () => {
    const barrels = [...graph.keys()].filter(
      (f) => /(^|\/)index\.js$/.test(f) && !FACES.has(f) && top(f) !== 'test',
    );
    assert.deepEqual(barrels, []);
  });

  it('keeps simulators out of product code (only the CLI and tests import them)', () => {
    const bad = edges.filter(
      ([from, to]) =>
        top(to) === 'simulators' && !['cli', 'test', 'simulators'].includes(top(from)),
    );
    assert.deepEqual(bad, []);
  });
});
