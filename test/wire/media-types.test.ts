/**
 * `wire/media-types.ts` is the one table of media types: each platform codec, the CMW
 * endorsement map and the JOSE `typ` values take theirs from it, and no other product file
 * spells a media type in a string (comments may name them). The source check reads the
 * TypeScript sources with the compiler's parser, so only string and template literals count.
 * `parseMediaType` follows RFC 9110 §8.3.1: case-insensitive type, subtype and parameter
 * names, quoted-string values unquoted, everything off the grammar refused.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';
import * as mediaTypes from '../../wire/media-types.js';
import {
  EAR_MEDIA_TYPE,
  EAT_JWT_MEDIA_TYPE,
  EVIDENCE_MEDIA_TYPES,
  joseTyp,
  mediaTypeEssence,
  parseMediaType,
  WIT_MEDIA_TYPE,
  WPT_MEDIA_TYPE,
} from '../../wire/media-types.js';
import { ENDORSEMENT_MEDIA_TYPES } from '../../wire/cmw.js';
import { platforms } from '../../verifier/platforms/registry.js';
import { EAR_JWT_TYP } from '../../verifier/ear/claims.js';
import { WIT_TYP } from '../../wimse/wit.js';
import { WPT_TYP } from '../../wimse/wpt.js';
import { PRODUCT_FOLDERS } from '../helpers/layout.js';

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Product folders besides `wire/` (tests may spell media types: they check them). */
const PRODUCT = PRODUCT_FOLDERS.filter((f) => f !== 'wire');
const MEDIA_TYPE = /\b(?:application|text)\/[A-Za-z0-9.+-]+/g;

/** Every media type the table defines (constants and list members), as essences. */
function defined(): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' && /^[a-z]+\/\S/.test(v)) out.add(mediaTypeEssence(v));
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') Object.values(v).forEach(add);
  };
  Object.values(mediaTypes).forEach(add);
  return out;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The text of every string and template literal of a TypeScript source, comments left out. */
function literals(file: string, text: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      out.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return out;
}

/** `file: literal` for each literal spelling an `application/` type or one the table defines. */
function spelled(file: string, text: string, table: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const literal of literals(file, text)) {
    for (const [m] of literal.matchAll(MEDIA_TYPE)) {
      if (m.startsWith('application/') || table.has(m.toLowerCase())) {
        found.push(`${file}: ${JSON.stringify(literal)}`);
      }
    }
  }
  return found;
}

describe('media types', { timeout: 60_000 }, () => {
  it('each platform codec takes its evidence media type from wire/', () => {
    assert.deepEqual(
      Object.fromEntries(platforms.map((p) => [p.platform, p.mediaTypes])),
      Object.fromEntries(Object.entries(EVIDENCE_MEDIA_TYPES).map(([p, m]) => [p, [m]])),
    );
  });

  it('the table has no duplicates between evidence and endorsement types', () => {
    const evidence = Object.values(EVIDENCE_MEDIA_TYPES);
    const endorsements = Object.keys(ENDORSEMENT_MEDIA_TYPES);
    assert.equal(
      new Set([...evidence, ...endorsements]).size,
      evidence.length + endorsements.length,
    );
    for (const m of [...evidence, ...endorsements]) assert.ok(defined().has(m), m);
  });

  it('JOSE typ values derive from the media types (RFC 7515 §4.1.9)', () => {
    assert.equal(joseTyp(EAR_MEDIA_TYPE), 'eat+jwt');
    assert.equal(EAR_JWT_TYP, joseTyp(EAT_JWT_MEDIA_TYPE));
    assert.equal(WIT_TYP, 'wit+jwt');
    assert.equal(WIT_TYP, joseTyp(WIT_MEDIA_TYPE));
    assert.equal(WPT_TYP, 'wpt+jwt');
    assert.equal(WPT_TYP, joseTyp(WPT_MEDIA_TYPE));
    assert.equal(mediaTypeEssence(' Application/JSON ; charset=utf-8'), 'application/json');
  });

  it('the source check sees literals and templates, not comments', () => {
    const table = defined();
    const sample = [
      '// application/json in a comment',
      '/** `text/event-stream` in a doc comment */',
      "const a = 'application/vnd.twi.tdx-quote';",
      'const b = `${x}; text/event-stream`;',
      "const c = 'text/unknown';",
    ].join('\n');
    assert.deepEqual(
      spelled('sample.ts', sample, table).map((s) => s.replace(/^sample\.ts: /, '')),
      ['"application/vnd.twi.tdx-quote"', '"; text/event-stream"'],
    );
  });

  it('no product file outside wire/ spells a media type in a string', () => {
    const table = defined();
    const files = [join(SOURCE, 'index.ts'), ...PRODUCT.flatMap((d) => tsFiles(join(SOURCE, d)))];
    assert.ok(files.length > 100, `only ${files.length} sources found under ${SOURCE}`);
    const found = files.flatMap((f) =>
      spelled(relative(SOURCE, f).split(sep).join('/'), readFileSync(f, 'utf8'), table),
    );
    assert.deepEqual(found, []);
  });

  it('parses media types with parameters per RFC 9110 §8.3.1', () => {
    const ear = parseMediaType(EAR_MEDIA_TYPE)!;
    assert.equal(ear.essence, EAT_JWT_MEDIA_TYPE);
    assert.deepEqual([...ear.parameters], [['eat_profile', 'tag:ietf.org,2026:rats/ear#04']]);
    const cases: [string, string, [string, string][]][] = [
      ['application/json', 'application/json', []],
      ['Text/HTML;Charset="utf-8"', 'text/html', [['charset', 'utf-8']]],
      ['text/html ; charset=utf-8', 'text/html', [['charset', 'utf-8']]],
      ['text/html;\tcharset=utf-8;', 'text/html', [['charset', 'utf-8']]],
      [
        'a/b;;x=1; ;y="q\\"z\\\\"',
        'a/b',
        [
          ['x', '1'],
          ['y', 'q"z\\'],
        ],
      ],
      ['a/b; x=""', 'a/b', [['x', '']]],
      ['a/b; x="semi;colon, space"', 'a/b', [['x', 'semi;colon, space']]],
    ];
    for (const [text, essence, parameters] of cases) {
      const parsed = parseMediaType(text);
      assert.ok(parsed, text);
      assert.equal(parsed.essence, essence);
      assert.equal(`${parsed.type}/${parsed.subtype}`, essence);
      assert.deepEqual([...parsed.parameters], parameters, text);
    }
    for (const bad of [
      '',
      'application',
      'application/',
      '/json',
      ' application/json',
      'application/json ',
      'application /json',
      'app@/json',
      'a/b; x',
      'a/b; x=',
      'a/b; x=a b',
      'a/b; x="open',
      'a/b; x="a"b',
      'a/b; =1',
      'a/b, c/d',
      'a/b; x=1; X=2',
      'a/b; x="\u0001"',
    ]) {
      assert.equal(parseMediaType(bad), undefined, bad);
    }
  });
});
