/**
 * The paths the documentation names exist: every backticked repository path in README.md and
 * docs/*.md whose first segment is a top-level folder (`verifier/pipeline.ts`, `service/store/`,
 * `test/native/{tdx,snp,nitro}-emu.test.ts`), every relative import in a code block
 * (`from './wimse/wit.js'`, read from the repository root) and every relative Markdown link.
 * Built paths (`dist/test/bench/run.js`, in prose or in a command) name their sources. A layout
 * change that leaves a document behind fails here. `{a,b}` expands, `*` and a `<placeholder>`
 * segment match any name; `.js` at the end of a path also matches its `.ts` source.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { PRODUCT_FOLDERS } from '../helpers/layout.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Top-level folders of the checkout whose paths the documents name. */
const FOLDERS = [...PRODUCT_FOLDERS, 'test', 'docs', 'examples'];
const REPO_PATH = new RegExp(`^(?:dist/)?(?:${FOLDERS.join('|')})(?:/[^\\s\`]*)?$`);
const BUILT_PATH = /(?<![\w./-])dist\/[^\s'"`)]+/g;

interface Mention {
  /** `file:line` of the mention. */
  where: string;
  /** The path, relative to the repository root. */
  path: string;
}

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Inline code spans, code-block imports and relative links of one document. */
function mentions(doc: string): Mention[] {
  const found: Mention[] = [];
  let fenced = false;
  readFileSync(join(ROOT, doc), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const where = `${doc}:${i + 1}`;
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return;
      }
      if (fenced) {
        for (const m of line.matchAll(/from '\.\/([^']+)'/g)) found.push({ where, path: m[1]! });
        for (const m of line.matchAll(BUILT_PATH)) found.push({ where, path: m[0] });
        return;
      }
      for (const m of line.matchAll(/`([^`]+)`/g)) {
        if (REPO_PATH.test(m[1]!)) found.push({ where, path: m[1]! });
      }
      for (const m of line.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(m[1]!)) continue;
        const path = join(dirname(doc), m[1]!).split('\\').join('/');
        found.push({ where, path: m[1]!.endsWith('/') ? `${path}/` : path });
      }
    });
  return found;
}

/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (one brace group at a time). */
function expandBraces(path: string): string[] {
  const m = /\{([^{}]*)\}/.exec(path);
  if (!m) return [path];
  const head = path.slice(0, m.index);
  const tail = path.slice(m.index + m[0].length);
  return m[1]!.split(',').flatMap((alt) => expandBraces(head + alt + tail));
}

/** Whether a pattern segment (`*`, `<tee>`, `x-*.ts`) matches a directory entry. */
function segmentMatcher(segment: string): (name: string) => boolean {
  if (/^<[^>]*>$/.test(segment)) return () => true;
  if (!segment.includes('*')) return (name) => name === segment;
  const source = segment.split('*').map((s) => s.replace(/[.+?^$()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`^${source.join('.*')}$`);
  return (name) => re.test(name);
}

/** Whether `path` (relative to the root, maybe a pattern) names something in the checkout. */
function exists(path: string): boolean {
  const wantsDir = path.endsWith('/');
  const segments = path
    .replace(/^dist\//, '')
    .split('/')
    .filter((s) => s !== '');
  let candidates = [ROOT];
  segments.forEach((segment, i) => {
    const matchers = [segmentMatcher(segment)];
    if (i === segments.length - 1 && segment.endsWith('.js')) {
      matchers.push(segmentMatcher(segment.replace(/\.js$/, '.ts')));
    }
    candidates = candidates
      .filter((dir) => existsSync(dir) && statSync(dir).isDirectory())
      .flatMap((dir) =>
        readdirSync(dir)
          .filter((name) => matchers.some((match) => match(name)))
          .map((name) => join(dir, name)),
      );
  });
  return candidates.some((p) => !wantsDir || statSync(p).isDirectory());
}

describe('paths named by README.md and docs/*.md', { timeout: 30_000 }, () => {
  const all = documents().flatMap(mentions);

  it('finds the paths the documents name', () => {
    assert.ok(all.length > 100, `only ${all.length} paths found under ${ROOT}`);
  });

  it('names only paths that exist in the checkout', () => {
    const missing = all
      .filter((m) => !expandBraces(m.path).every(exists))
      .map((m) => `${m.where}: ${m.path}`);
    assert.deepEqual(missing, []);
  });
});
