/**
 * The public surface is visible in the sources (jose-style): whatever a package face
 * re-exports is public; every other export of product code carries `@internal`, on the
 * declaration or in its module's `@module` comment, and nothing public does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { projectRoot } from '../helpers/vectors.js';
import { exportedDeclarations, type ExportedDeclaration } from './api-surface.js';

const where = (d: ExportedDeclaration): string => `${d.file}:${d.line} ${d.name}`;

describe('public surface', { timeout: 180_000 }, () => {
  const decls = exportedDeclarations(projectRoot);
  // Overloads are several statements of one name; a tag on any of them covers the name.
  const tagged = new Set(decls.filter((d) => d.taggedInternal).map((d) => `${d.file}#${d.name}`));

  it('is computed from the faces (sanity: a real surface on both sides)', () => {
    const pub = decls.filter((d) => d.isPublic);
    assert.ok(pub.length > 200, `only ${pub.length} public declarations found`);
    assert.ok(decls.length - pub.length > 200);
    const names = new Set(pub.map((d) => d.name));
    for (const n of ['appraiseEvidence', 'verifyTdx', 'verifyWit', 'startDeviceEmulator']) {
      assert.ok(names.has(n), `${n} should be public`);
    }
  });

  it('marks every export no face re-exports @internal', () => {
    const untagged = decls.filter(
      (d) => !d.isPublic && !d.moduleInternal && !tagged.has(`${d.file}#${d.name}`),
    );
    assert.deepEqual(untagged.map(where), []);
  });

  it('marks nothing a face re-exports @internal', () => {
    const wrong = decls.filter((d) => d.isPublic && (d.taggedInternal || d.moduleInternal));
    assert.deepEqual(wrong.map(where), []);
  });
});
