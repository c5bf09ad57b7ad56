// A static file server for an export folder (`semid export --serve`, and the browser tests): 127.0.0.1 by
// default, GET/HEAD only, no path outside the folder, `application/wasm` for the tfjs binaries (browsers
// compile those while downloading only with that type).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.svg': 'image/svg+xml', '.css': 'text/css',
};

export interface StaticServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `dir` at http://host:port/ (port 0: any free port). */
export async function serveStatic(dir: string, options: { host?: string; port?: number } = {}): Promise<StaticServer> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`cannot serve ${dir}: not a directory`);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got ${port}`);
  const server: Server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (file !== root && !file.startsWith(root + sep))) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 403 : 405).end();
      return;
    }
    stat(file).then((s) => {
      if (!s.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': s.size, 'cache-control': 'no-cache' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    }, () => res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new Error(`cannot serve on ${host}:${port}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another --port?)' : ''}`)));
    server.listen(port, host, () => ok());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
