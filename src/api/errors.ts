// The last handlers of the HTTP app: a JSON 404 for paths no route owns, and a JSON error for anything a route
// throws or rejects with (body parser failures included). Every error answer has one shape,
// `{ error: { code, message } }`, and no stack or Express HTML page ever leaves the process.
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import type { Logger } from 'pino';

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Status and code for errors body-parser and http-errors raise (they carry `status` and `type`). */
function clientError(err: unknown): { status: number; code: string; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, type } = err as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const message = err instanceof Error ? err.message : 'bad request';
  if (type === 'entity.parse.failed') return { status: 400, code: 'bad_request', message: `the body is not valid JSON: ${message}` };
  if (type === 'entity.too.large') return { status: 413, code: 'payload_too_large', message: `the body is too large: ${message}` };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return { status: 415, code: 'unsupported_media_type', message };
  return { status, code: status === 404 ? 'not_found' : 'bad_request', message };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `no such endpoint: ${req.method} ${req.path}; see README "HTTP API"` } } satisfies ApiErrorBody);
};

export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = clientError(err);
    if (!known) logger.error({ err, method: req.method, path: req.path }, 'HTTP route failed');
    // Mid-stream (an export) the status is gone: cutting the connection tells the client the body is incomplete.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ApiErrorBody = known
      ? { error: { code: known.code, message: known.message } }
      : { error: { code: 'internal', message: 'internal error; the gateway log has the details' } };
    res.status(known?.status ?? 500).json(body);
  };
}

/** Mount after every other route. */
export function useJsonErrors(app: Express, logger: Logger): void {
  app.use(notFound);
  app.use(jsonErrorHandler(logger));
}
