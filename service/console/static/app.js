// The console shell: admin token (sessionStorage only), API calls, hash routing between the
// views and the live bundle from GET /v1/bundle/events.
import { fill } from './render.js';
import * as views from './views.js';

const TOKEN_KEY = 'twi.adminToken';
const VIEWS = ['appraisals', 'credentials', 'provenance', 'keys', 'registrations', 'policy'];
const $ = (sel) => document.querySelector(sel);

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

let bundle;
let current = { view: undefined, param: undefined };
let generation = 0;

async function api(path, method = 'GET') {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(path, { method, headers, cache: 'no-store' });
  const body = await r.json().catch(() => undefined);
  if (!r.ok) {
    throw new ApiError(r.status, body?.code ?? `HTTP ${r.status}`, body?.detail ?? r.statusText);
  }
  return body;
}

/** What an error means for the operator, in words. */
function explain(err) {
  if (!(err instanceof ApiError)) return `The request failed: ${err.message}`;
  if (err.code === 'ERR_ADMIN_UNAUTHENTICATED') {
    return (
      'This needs the admin token: enter it above (or, for the read-only views, start ' +
      `the service with --console-public). (${err.code})`
    );
  }
  if (err.code === 'ERR_ADMIN_DISABLED') {
    return `The admin API is disabled: the service was started without an admin token. (${err.code})`;
  }
  return `${err.detail ?? err.message} (${err.code}, HTTP ${err.status})`;
}

function say(text, kind = 'error') {
  const m = $('#message');
  m.textContent = text;
  m.className = kind;
  m.hidden = false;
}

const ctx = {
  api,
  explain,
  say,
  bundle: () => bundle,
  /** Runs an operator action, reports its failure, then reloads the view. */
  act: (promise) =>
    promise.then(
      () => load(false),
      (err) => say(explain(err)),
    ),
};

function route() {
  const [view, ...rest] = location.hash.slice(1).split('/');
  const param = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { view: VIEWS.includes(view) ? view : 'appraisals', param };
}

async function load(clearMessage = true) {
  const { view, param } = current;
  const mine = ++generation;
  if (clearMessage) $('#message').hidden = true;
  const out = $(`#${view}-out`);
  out.setAttribute('aria-busy', 'true');
  try {
    await views[view](ctx, out, param);
  } catch (err) {
    if (mine === generation) fill(out, explain(err));
  } finally {
    out.removeAttribute('aria-busy');
  }
}

function show() {
  current = route();
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== current.view;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#${current.view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current.view === 'provenance') $('#provenance-jti').value = current.param ?? '';
  void load();
}

function tokenState() {
  const has = sessionStorage.getItem(TOKEN_KEY) !== null;
  $('#token-state').textContent = has ? 'Token set for this tab.' : 'No token: read-only views.';
}

function listen() {
  const live = $('#live');
  const events = new EventSource('/v1/bundle/events');
  events.addEventListener('bundle', (e) => {
    const previous = bundle?.spiffe_sequence;
    bundle = JSON.parse(e.data);
    live.dataset.sequence = String(bundle.spiffe_sequence);
    live.textContent =
      `Bundle sequence ${bundle.spiffe_sequence}: ${bundle.keys.length} keys, ` +
      `${bundle.revoked_jtis?.length ?? 0} revoked credentials (live)`;
    if (previous !== undefined && previous !== bundle.spiffe_sequence) void load(false);
    else if (previous === undefined && current.view === 'keys') void load(false);
  });
  events.addEventListener('error', () => {
    live.textContent = 'Bundle stream: reconnecting…';
  });
}

function wire() {
  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('#token').value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $('#token').value = '';
    tokenState();
    void load();
  });
  $('#token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    tokenState();
    void load();
  });
  $('#provenance-form').addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `provenance/${encodeURIComponent($('#provenance-jti').value.trim())}`;
  });
  $('#rotate-key').addEventListener('click', () => ctx.act(views.rotate(ctx, 'key')));
  $('#rotate-ca').addEventListener('click', () => ctx.act(views.rotate(ctx, 'ca')));
  for (const b of document.querySelectorAll('[data-refresh]')) {
    b.addEventListener('click', () => void load());
  }
  window.addEventListener('hashchange', show);
}

wire();
tokenState();
listen();
show();
