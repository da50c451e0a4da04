// A real HTTP receiver for webhook tests: records every request, answers with the status it is set to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Receiver {
  readonly url: string;
  readonly requests: Received[];
  /** The status every request gets from now on ('hang' never answers). */
  answer: number | 'hang';
  /** Requests whose body matches are held unanswered until release(). */
  hold: ((body: string) => boolean) | undefined;
  /** How many requests are being held now. */
  held(): number;
  release(): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const rx = { answer: 200 as number | 'hang', hold: undefined as ((body: string) => boolean) | undefined };
  const holding: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: req.headers, body });
      const answer = (): void => {
        if (rx.answer === 'hang') return;
        res.statusCode = rx.answer;
        res.end(rx.answer < 300 ? 'ok' : 'no');
      };
      if (rx.hold?.(body)) holding.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(rx, {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    held: () => holding.length,
    release() {
      rx.hold = undefined;
      for (const answer of holding.splice(0)) answer();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
