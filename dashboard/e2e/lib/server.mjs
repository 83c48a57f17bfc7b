/**
 * Where the browser loads the dashboard from. Once the apiserver serves LAUNCHPAD_DASHBOARD_DIR
 * (GET / answers our index.html), that is used as it is. Until then a tiny static server serves
 * dist/ (SPA fallback, long cache for hashed assets) and proxies the API paths to the platform,
 * streaming (the build log is Server-Sent Events).
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const PROXIED = /^\/(api|healthz|readyz|metrics)(\/|$|\?)/;

/** Does the apiserver at `url` serve this dist/ at `/`? */
export async function apiserverServesDashboard(url, distDir) {
  try {
    const want = readFileSync(path.join(distDir, "index.html"), "utf8");
    const marker = /assets\/index-[\w-]+\.js/.exec(want)?.[0];
    const [root, deep] = await Promise.all(
      ["/", "/deployments/some-site"].map(async (p) => {
        const r = await fetch(url + p, { signal: AbortSignal.timeout(5000) });
        return { status: r.status, text: await r.text() };
      }),
    );
    return Boolean(marker) && root.status === 200 && root.text.includes(marker) && deep.text.includes(marker);
  } catch {
    return false;
  }
}

/** A static + proxy server on 127.0.0.1; resolves with {origin, close()}. */
export function startStaticProxy({ distDir, apiUrl }) {
  const api = new URL(apiUrl);
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (PROXIED.test(url)) {
      const up = http.request(
        { host: api.hostname, port: api.port, method: req.method, path: url, headers: { ...req.headers, host: api.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
        res.end('{"error":{"code":"unavailable","message":"the e2e proxy cannot reach the apiserver"}}');
      });
      req.pipe(up);
      res.on("close", () => up.destroy());
      return;
    }
    const pathname = decodeURIComponent(new URL(url, "http://x").pathname);
    let file = path.join(distDir, path.normalize(pathname).replace(/^([/\\])+/, ""));
    if (!file.startsWith(distDir)) file = path.join(distDir, "index.html");
    if (!existsSync(file) || statSync(file).isDirectory()) {
      if (pathname.startsWith("/assets/")) {
        res.writeHead(404).end();
        return;
      }
      file = path.join(distDir, "index.html");
    }
    const hashed = pathname.startsWith("/assets/");
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/** The dashboard's origin for this platform: the apiserver itself when it can, else the proxy. */
export async function dashboardOrigin(platform, distDir) {
  if (await apiserverServesDashboard(platform.url, distDir)) {
    return { origin: platform.url, mode: "apiserver", close: async () => undefined };
  }
  const p = await startStaticProxy({ distDir, apiUrl: platform.url });
  return { origin: p.origin, mode: "proxy", close: p.close };
}
