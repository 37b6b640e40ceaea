/**
 * The landing page at `/` and the operator console under `/ui/` (docs/console.md): static
 * HTML, CSS and JavaScript files shipped beside this module's sources in
 * `service/console/static/`, read once when the service starts and answered with a strict
 * Content Security Policy (nothing inline, nothing from another origin, no framing). The
 * console itself only calls the service's own API from the browser.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CSS_MEDIA_TYPE, HTML_MEDIA_TYPE, JAVASCRIPT_MEDIA_TYPE } from '../../wire/media-types.js';
import { problem, sendProblem } from '../problem.js';

/** The policy of every page and file under `/` and `/ui/`. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every console answer besides its content type. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const TYPES: Readonly<Record<string, string>> = {
  html: `${HTML_MEDIA_TYPE}; charset=utf-8`,
  css: `${CSS_MEDIA_TYPE}; charset=utf-8`,
  js: `${JAVASCRIPT_MEDIA_TYPE}; charset=utf-8`,
};

/** The files `/ui/<name>` answers with; any other name is 404. */
export const CONSOLE_FILES: readonly string[] = [
  'index.html',
  'console.css',
  'app.js',
  'views.js',
  'render.js',
  'merkle.js',
];

/**
 * Where the static files are: `service/console/static/` of the package, found from the built
 * module (`dist/service/console/routes.js`) three folders up. `package.json` `files` must list
 * that folder for `npm pack` to ship it.
 */
export function staticDir(): string {
  return fileURLToPath(new URL('../../../service/console/static/', import.meta.url));
}

interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

function load(dir: string, name: string): StaticFile {
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
  if (type === undefined) throw new TypeError(`no media type for console file ${name}`);
  return { type, body: readFileSync(dir + name) };
}

function send(reply: FastifyReply, file: StaticFile): FastifyReply {
  return reply.headers(CONSOLE_HEADERS).type(file.type).send(file.body);
}

/**
 * Registers `GET /` (landing page), `GET /ui` (redirect), `GET /ui/` and `GET /ui/<file>`.
 * The files are read now, so a missing one fails the start-up rather than a request.
 *
 * @example
 * ```ts
 * registerConsoleRoutes(app);
 * ```
 */
export function registerConsoleRoutes(app: FastifyInstance, dir = staticDir()): void {
  const landing = load(dir, 'landing.html');
  const files = new Map(CONSOLE_FILES.map((name) => [name, load(dir, name)] as const));
  const index = files.get('index.html')!;
  app.get('/', async (_request, reply) => send(reply, landing));
  app.get('/ui', async (_request, reply) => reply.headers(CONSOLE_HEADERS).redirect('/ui/'));
  app.get('/ui/', async (_request, reply) => send(reply, index));
  app.get<{ Params: { file: string } }>('/ui/:file', async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) return sendProblem(reply, problem(404, 'ERR_NOT_FOUND', 'no such console file'));
    return send(reply, file);
  });
}
