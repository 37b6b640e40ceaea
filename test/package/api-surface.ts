/**
 * The package's public surface, computed with the TypeScript compiler: every declaration a
 * package face (the `exports` of `package.json`) re-exports, directly, through `export *`
 * or through a namespace re-export. Every other exported declaration of product code is
 * internal and says so with `@internal`, on itself or in its module's `@module` comment.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { PRODUCT_FOLDERS } from '../helpers/layout.js';

/** One exported declaration of product code. */
export interface ExportedDeclaration {
  /** Path from the project root, with `/`. */
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly isPublic: boolean;
  /** `@internal` on the declaration itself. */
  readonly taggedInternal: boolean;
  /** `@internal` in the module's `@module` comment. */
  readonly moduleInternal: boolean;
  readonly node: ts.Node;
}

/** Top-level folders (and files) holding product code. */
export const PRODUCT_ROOTS = [...PRODUCT_FOLDERS, 'index.ts'];

/** The source files of the package faces, from `package.json` `exports`. */
export function faceSources(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string>;
  };
  return Object.values(pkg.exports).map((target) =>
    join(root, target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')),
  );
}

function isProduct(root: string, file: string): boolean {
  const rel = relative(root, file).split('\\').join('/');
  if (rel.endsWith('.d.ts')) return false;
  return PRODUCT_ROOTS.some((r) => rel === r || rel.startsWith(r + '/'));
}

function publicDeclarations(program: ts.Program, faces: readonly string[]): Set<ts.Node> {
  const checker = program.getTypeChecker();
  const out = new Set<ts.Node>();
  const seenModules = new Set<ts.Symbol>();
  const visitModule = (moduleSymbol: ts.Symbol): void => {
    if (seenModules.has(moduleSymbol)) return;
    seenModules.add(moduleSymbol);
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      for (const d of target.declarations ?? []) {
        if (ts.isSourceFile(d)) {
          visitModule(target);
          continue;
        }
        out.add(d);
        // `export const x = …` declares a VariableDeclaration; the statement carries the doc.
        if (ts.isVariableDeclaration(d)) out.add(d.parent.parent);
      }
    }
  };
  for (const face of faces) {
    const sf = program.getSourceFile(face);
    if (!sf) throw new Error(`face ${face} is not part of the program`);
    const symbol = checker.getSymbolAtLocation(sf);
    if (symbol) visitModule(symbol);
  }
  return out;
}

function hasExport(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

/** The JSDoc blocks directly before `node`, as text. */
export function jsDocOf(node: ts.Node, sf: ts.SourceFile): string[] {
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  return ranges.map((r) => sf.text.slice(r.pos, r.end)).filter((t) => t.startsWith('/**'));
}

function moduleComment(sf: ts.SourceFile): string | undefined {
  const first = sf.statements[0];
  if (!first) return undefined;
  return jsDocOf(first, sf).find((t) => /@module\b/.test(t));
}

function declarationName(node: ts.Node): string {
  if (ts.isVariableStatement(node)) {
    return node.declarationList.declarations.map((d) => d.name.getText()).join(', ');
  }
  const name = (node as ts.NamedDeclaration).name;
  return name ? name.getText() : '(default)';
}

/** Loads the project with its tsconfig. */
export function loadProgram(root: string): ts.Program {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
}

/** Every exported declaration of product code, public or not. */
export function exportedDeclarations(
  root: string,
  program = loadProgram(root),
): ExportedDeclaration[] {
  const faces = faceSources(root);
  const pub = publicDeclarations(program, faces);
  const facesSet = new Set(faces.map((f) => f.split('\\').join('/')));
  const out: ExportedDeclaration[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!isProduct(root, sf.fileName) || facesSet.has(sf.fileName)) continue;
    const moduleInternal = /@internal\b/.test(moduleComment(sf) ?? '');
    for (const st of sf.statements) {
      if (!hasExport(st)) continue;
      if (!(
        ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st) ||
        ts.isVariableStatement(st)
      )) {
        continue;
      }
      const isPublic =
        pub.has(st) ||
        (ts.isVariableStatement(st) && st.declarationList.declarations.some((d) => pub.has(d)));
      const docs = jsDocOf(st, sf);
      const own = docs.filter((t) => !/@module\b/.test(t));
      out.push({
        file: relative(root, sf.fileName).split('\\').join('/'),
        name: declarationName(st),
        line: sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1,
        isPublic,
        taggedInternal: own.some((t) => /@internal\b/.test(t)),
        moduleInternal,
        node: st,
      });
    }
  }
  return out;
}
