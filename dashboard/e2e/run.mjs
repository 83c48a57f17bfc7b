#!/usr/bin/env node
/**
 * npm run e2e: the dashboard in Debian's Chromium against the real platform.
 *   LAUNCHPAD_TEST_BIN=<repo>/build/bin LAUNCHPAD_TEST_SRC=<repo> npm run e2e [-- name-filter]
 * Starts lp_platform once (apiserver + controller + Docker), serves dist/ (the apiserver itself
 * when it serves LAUNCHPAD_DASHBOARD_DIR, else a static proxy), runs e2e/tests/*.test.mjs with
 * node's test runner one file at a time, tears everything down and prints the summary.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { startPlatform, repoPaths } from "./lib/platform.mjs";
import { dashboardOrigin } from "./lib/server.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const dist = path.join(root, "dist");
const out = path.join(here, ".out");
const SUITE_TIMEOUT_MS = Number(process.env.E2E_SUITE_TIMEOUT_MS ?? 8 * 60 * 1000);
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);

function log(msg) {
  process.stdout.write(`[e2e ${secs()}s] ${msg}\n`);
}

/** Is any source newer than dist/index.html? */
function distIsStale() {
  const built = statSync(path.join(dist, "index.html")).mtimeMs;
  const newer = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) return readdirSync(p).some((f) => newer(path.join(p, f)));
    return st.mtimeMs > built;
  };
  return ["src", "public", "index.html", "vite.config.ts", "package-lock.json"].some((p) => existsSync(path.join(root, p)) && newer(path.join(root, p)));
}

async function main() {
  const filters = process.argv.slice(2);
  const { bin, src } = repoPaths();
  mkdirSync(out, { recursive: true });
  if (!existsSync(path.join(dist, "index.html")) || distIsStale() || process.env.E2E_BUILD === "1") {
    log("building the dashboard (dist/ is missing or older than the sources)");
    const b = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) throw new Error("npm run build failed");
  }
  const files = readdirSync(path.join(here, "tests"))
    .filter((f) => f.endsWith(".test.mjs"))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort()
    .map((f) => path.join(here, "tests", f));
  if (files.length === 0) throw new Error(`no test file matches ${filters.join(" ")}`);

  // E2E_REUSE_PLATFORM=<json file written by a running platform>: iterate without restarting it
  const reuse = process.env.E2E_REUSE_PLATFORM;
  log(reuse ? `reusing the platform of ${reuse}` : "starting the platform (lp_platform)");
  const platform = reuse
    ? { ...JSON.parse(readFileSync(reuse, "utf8")), stop: async () => ({ code: 0 }), stderrTail: () => "" }
    : // metrics scraped every 2 s (default 15), so 09-metrics sees its requests counted soon
      await startPlatform({ distDir: dist, env: { LAUNCHPAD_METRICS_INTERVAL_SECONDS: "2" } });
  let server = null;
  let counts = null;
  let rc = 1;
  try {
    server = await dashboardOrigin(platform, dist);
    log(`platform ${platform.instance} at ${platform.url}; dashboard served by ${server.mode} at ${server.origin}`);
    const ctxFile = path.join(out, "context.json");
    const countsFile = path.join(out, "counts.json");
    writeFileSync(
      ctxFile,
      JSON.stringify({ platform: { ...platform }, origin: server.origin, mode: server.mode, src, bin, dist, out }, null, 2),
    );
    writeFileSync(countsFile, "");
    writeFileSync(`${countsFile}.schemas`, "");
    const child = spawn(
      process.execPath,
      [
        "--test",
        "--test-concurrency=1",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        `--test-reporter=${path.join(here, "lib/reporter.mjs")}`,
        "--test-reporter-destination=stderr",
        ...files,
      ],
      { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, E2E_CONTEXT: ctxFile, E2E_COUNTS: countsFile } },
    );
    const killer = setTimeout(() => {
      log(`the suite ran over ${SUITE_TIMEOUT_MS / 1000} s: stopping it`);
      child.kill("SIGTERM");
    }, SUITE_TIMEOUT_MS);
    rc = await new Promise((r) => child.on("exit", (code) => r(code ?? 1)));
    clearTimeout(killer);
    const text = readFileSync(countsFile, "utf8");
    counts = text ? JSON.parse(text) : null;
    const per = readFileSync(`${countsFile}.schemas`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const total = per.reduce((n, c) => n + c.responses, 0);
    const kinds = new Set(per.flatMap((c) => Object.keys(c.bySchema)));
    log(`${total} API answers (${[...kinds].sort().join(", ")}) matched the dashboard's zod schemas`);
  } finally {
    await server?.close();
    log("stopping the platform");
    const r = await platform.stop();
    if (r.code !== 0) log(`lp_platform exited with ${r.code ?? r.sig}: ${platform.stderrTail()}`);
  }
  const c = counts ?? { passed: 0, failed: 1, skipped: 0, failures: ["(the test runner did not report)"] };
  if (c.failures.length) process.stdout.write(`failed:\n  ${c.failures.join("\n  ")}\n`);
  process.stdout.write(`e2e run time: ${secs()} s\n`);
  process.stdout.write(`e2e: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}\n`);
  return rc === 0 && c.failed === 0 && c.passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`e2e: ${e instanceof Error ? e.stack : e}\n`);
    process.stdout.write(`e2e run time: ${secs()} s\ne2e: 0 passed, 1 failed\n`);
    process.exit(1);
  },
);
