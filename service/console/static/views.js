// The console's views. Each takes the shell's context and its output element and renders what
// the service answers; the admin API answers are described in docs/console.md.
import { facts, fill, h, id, json, table, when } from './render.js';
import { checkProvenance, checkTreeHead } from './merkle.js';

const STATUS_WORDS = {
  affirming: 'Affirming: trustworthy',
  warning: 'Warning: trustworthy with reservations',
  contraindicated: 'Contraindicated: refused',
  none: 'No result: refused before appraisal',
};

/** AR4SI trustworthiness tiers of a claim value (draft-ietf-rats-ar4si §2.3). */
function tier(v) {
  if (v >= 2 && v <= 31) return 'affirming';
  if (v >= 32 && v <= 95) return 'warning';
  if (v >= 96 && v <= 127) return 'contraindicated';
  return 'no claim';
}

const status = (s) => h('span', { class: `status-${s}` }, STATUS_WORDS[s] ?? s ?? '—');
const provenanceLink = (jti) =>
  h('a', { href: `#provenance/${encodeURIComponent(jti)}`, class: 'id' }, jti);

/**
 * The EAR as claims: a compact JWT is decoded (not verified: the service signed it). Claim names
 * are read in both spellings of the EAR drafts (`ear.status`, `ear_status`).
 */
function earClaims(ear) {
  if (typeof ear !== 'string') return ear;
  const part = ear.split('.')[1];
  if (!part) return { ear };
  try {
    const text = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ear };
  }
}

function earCell(ear) {
  if (ear === undefined || ear === null) return '—';
  const claims = earClaims(ear);
  const submods = Object.entries(claims?.submods ?? {});
  return h(
    'details',
    {},
    h('summary', {}, 'EAR decoded'),
    submods.map(([name, sub]) =>
      h(
        'div',
        {},
        h('p', {}, h('strong', {}, name), ': ', status(sub['ear.status'] ?? sub.ear_status)),
        h(
          'ul',
          { class: 'why' },
          Object.entries(
            sub['ear.trustworthiness-vector'] ?? sub.ear_trustworthiness_vector ?? {},
          ).map(([claim, v]) => h('li', {}, `${claim}: ${tier(v)} (${v})`)),
        ),
      ),
    ),
    h('pre', {}, JSON.stringify(claims, null, 2)),
  );
}

function why(violations) {
  if (!violations || violations.length === 0) return 'No violation';
  return h(
    'ul',
    { class: 'why' },
    violations.map((v) => h('li', {}, v.message ?? '', ' ', h('code', {}, v.code ?? ''))),
  );
}

export async function appraisals(ctx, out) {
  const { appraisals: list } = await ctx.api('/v1/admin/appraisals?limit=100');
  const refused = list.filter((a) => a.status === 'contraindicated' || a.status === 'none');
  fill(
    out,
    h('p', {}, `${list.length} appraisals, ${refused.length} refused.`),
    table(
      'Appraisals, newest first',
      ['When', 'Platform', 'Result', 'TCB status', 'Why (policy violations)', 'Credential', 'EAR'],
      list.map((a) => [
        when(a.at),
        a.platform ?? '—',
        status(a.status),
        a.tcb_status ?? '—',
        why(a.violations),
        a.jti ? [provenanceLink(a.jti), h('br'), a.workload_id ?? ''] : (a.workload_id ?? '—'),
        earCell(a.ear),
      ]),
      'none yet.',
    ),
  );
}

function expiry(iso) {
  const left = new Date(iso).getTime() - Date.now();
  return [when(iso), ' ', left > 0 ? `(in ${Math.ceil(left / 60000)} min)` : '(expired)'];
}

export async function credentials(ctx, out) {
  const { credentials: list } = await ctx.api('/v1/admin/credentials?limit=200');
  const listed = new Set(ctx.bundle()?.revoked_jtis ?? []);
  const revoke = async (jti) => {
    if (!confirm(`Revoke credential ${jti}? Relying parties will refuse it.`)) return;
    const r = await ctx.api(`/v1/admin/credentials/${encodeURIComponent(jti)}/revoke`, 'POST');
    ctx.say(`Credential ${jti} revoked; bundle sequence ${r.spiffe_sequence}.`, 'info');
  };
  fill(
    out,
    table(
      'Credentials, newest first',
      ['Credential (jti)', 'Workload', 'Issued', 'Expires', 'Revocation', 'Action'],
      list.map((c) => {
        const revoked = c.revoked || listed.has(c.jti);
        return [
          provenanceLink(c.jti),
          id(c.workload_id),
          when(c.issued_at),
          expiry(c.expires_at),
          revoked
            ? h(
                'span',
                { class: 'revoked' },
                listed.has(c.jti) ? 'Revoked (in the bundle) ' : 'Revoked ',
                when(c.revoked_at),
              )
            : 'Not revoked',
          revoked
            ? ''
            : h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Revoke ${c.jti}`,
                  onclick: () => ctx.act(revoke(c.jti)),
                },
                'Revoke',
              ),
        ];
      }),
      'none issued yet.',
    ),
  );
}

export async function provenance(ctx, out, jti) {
  if (!jti) return fill(out, h('p', {}, 'Give the jti of a credential the service issued.'));
  const answer = await ctx.api(`/v1/provenance/${encodeURIComponent(jti)}`);
  const check = await checkProvenance(answer, jti);
  const head = await checkTreeHead(answer.tree_head, await ctx.api('/v1/log/key'));
  const verdict = (r, what) =>
    h(
      'p',
      { class: r.valid ? 'valid' : 'invalid' },
      `${what} ${r.valid ? 'valid' : 'INVALID'}: `,
      r.reason,
    );
  const record = answer.record ?? {};
  fill(
    out,
    h(
      'div',
      { id: 'proof-result' },
      verdict(check, 'Inclusion proof'),
      verdict(head, 'Tree head signature'),
    ),
    facts([
      ['Credential', id(jti)],
      [
        'Revoked',
        answer.revoked_at ? h('span', { class: 'revoked' }, when(answer.revoked_at)) : 'no',
      ],
      ['Leaf index', String(answer.leaf_index)],
      ['Tree size', String(answer.tree_head?.tree_size)],
      ['Tree head signed', when(answer.tree_head?.timestamp)],
      ['Root hash', id(check.root)],
      ['Leaf hash (computed here)', id(check.leaf)],
      ...Object.entries(record)
        .filter(([, v]) => v !== null && typeof v !== 'object')
        .map(([k, v]) => [`Record: ${k}`, id(String(v))]),
    ]),
    h(
      'p',
      {},
      'Checked in this browser: leaf and node hashes with Web Crypto SHA-256 (RFC 9162 §2.1), ' +
        'the record as RFC 8785 canonical JSON, the tree head signature with the key of /v1/log/key.',
    ),
    json('Provenance record (JSON)', record),
    json('Signed tree head (JSON)', answer.tree_head),
  );
}

export async function keys(ctx, out) {
  const parts = [];
  try {
    const k = await ctx.api('/v1/admin/keys');
    parts.push(
      facts([['Bundle sequence', String(k.bundle_sequence)]]),
      table(
        'Signing keys',
        ['Key id (kid)', 'Algorithm', 'Created', 'State', 'Retires, retired or revoked'],
        k.keys.map((x) => [
          id(x.kid),
          x.alg,
          when(x.created_at),
          x.state,
          when(x.revoked_at ?? x.retired_at),
        ]),
      ),
      table(
        'Certificate authorities',
        ['Serial', 'Subject', 'Not before', 'Not after', 'State'],
        k.ca.map((c) => [id(c.serial), c.subject, when(c.not_before), when(c.not_after), c.state]),
      ),
    );
  } catch (err) {
    parts.push(h('p', {}, ctx.explain(err)));
  }
  const bundle = ctx.bundle();
  if (bundle) {
    parts.push(
      table(
        `Published bundle (sequence ${bundle.spiffe_sequence})`,
        ['Key id (kid)', 'Use', 'Type'],
        bundle.keys.map((k) => [id(k.kid), k.use ?? '—', `${k.kty}${k.crv ? ' ' + k.crv : ''}`]),
      ),
      facts([
        ['Revoked credentials listed', String(bundle.revoked_jtis?.length ?? 0)],
        ['Refresh hint', `${bundle.spiffe_refresh_hint} s`],
      ]),
    );
  }
  fill(out, parts);
}

export async function rotate(ctx, what) {
  if (what === 'key') {
    if (!confirm('Make a new signing key? The current one stays published until it retires.'))
      return;
    const r = await ctx.api('/v1/admin/keys/rotate', 'POST');
    ctx.say(
      `New signing key ${r.kid}; ${r.previous_kid} stays published until it retires.`,
      'info',
    );
  } else {
    if (!confirm('Make a new CA? The current one stays published until it retires.')) return;
    const r = await ctx.api('/v1/admin/ca/rotate', 'POST');
    ctx.say(`New CA ${r.ca}; ${r.previous_ca} stays published until it retires.`, 'info');
  }
}

const CORE = new Set(['id', 'identifier', 'platform', 'workloads']);

export async function registrations(ctx, out) {
  const r = await ctx.api('/v1/admin/registrations');
  fill(
    out,
    h(
      'p',
      {},
      r.source === 'store'
        ? 'Set through the admin API (kept in the store).'
        : "From the policy's registrations.",
    ),
    table(
      'Registrations',
      ['Id', 'Identifier issued', 'Platform', 'Workload names', 'Reference values'],
      r.registrations.map((x) => [
        x.id,
        id(x.identifier),
        x.platform,
        (x.workloads ?? []).join(', ') || '—',
        h(
          'ul',
          { class: 'why' },
          Object.entries(x)
            .filter(([k]) => !CORE.has(k))
            .map(([k, v]) =>
              h('li', {}, `${k}: `, id(typeof v === 'string' ? v : JSON.stringify(v))),
            ),
        ),
      ]),
      'none: no workload gets an identity from a registration.',
    ),
  );
}

const POLICY_SOURCES = {
  store: 'set through the admin API (kept in the store)',
  configuration: 'the policy the service was started with',
  default: 'the built-in default policy',
};

export async function policy(ctx, out) {
  const r = await ctx.api('/v1/admin/policy');
  const source = POLICY_SOURCES[r.source] ?? r.source;
  if (r.policy === null || r.policy === undefined) {
    return fill(
      out,
      h('p', {}, `No policy document: ${source ?? 'the built-in default'} applies.`),
    );
  }
  fill(
    out,
    facts([
      ['Policy id', r.policy.id ?? '—'],
      ['Source', source],
      ['Updated', r.updated_at ? when(r.updated_at) : 'at start-up'],
    ]),
    h('pre', {}, JSON.stringify(r.policy, null, 2)),
  );
}
