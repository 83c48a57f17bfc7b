#!/usr/bin/env node
/**
 * npm run perf: time to interactive of / with 100 real sites. Creates one site from a tiny zip,
 * then 99 more by applying manifests that reuse its archive digest (no further uploads), waits
 * until the controller has them all live, then loads / in a fresh browser context 5 times and
 * takes the time from navigation start until the first page's last row (the 50th: the list is read
 * 50 at a time) is visible, then presses Load more until the 100th row is. Prints p50 and all runs.
 *   LAUNCHPAD_TEST_BIN=<repo>/build/bin LAUNCHPAD_TEST_SRC=<repo> npm run perf
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { apiClient } from "./lib/api.mjs";
import { launchBrowser, openPage } from "./lib/browser.mjs";
import { startPlatform } from "./lib/platform.mjs";
import { dashboardOrigin } from "./lib/server.mjs";
import { makeZip, waitFor } from "./lib/util.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, "../dist");
const N = Number(process.env.PERF_SITES ?? 100);
const RUNS = Number(process.env.PERF_RUNS ?? 5);
const PAGE = 50; // src/api/hooks.ts PAGE_SIZE

const platform = await startPlatform({ distDir: dist });
const server = await dashboardOrigin(platform, dist);
const browser = await launchBrowser();
try {
  const api = apiClient(platform);
  const first = await api.createZip("perf-000", makeZip({ "index.html": "<p>perf</p>" }));
  const t0 = Date.now();
  for (let i = 1; i < N; i++) {
    const name = `perf-${String(i).padStart(3, "0")}`;
    await api.apply(name, {
      apiVersion: "launchpad.dev/v1",
      kind: "Site",
      metadata: { name },
      spec: { source: { archive: { digest: first.archive_digest } }, autoDeploy: false, serve: { spa: false }, revisionHistoryLimit: 5 },
    }, 201);
  }
  process.stdout.write(`created ${N} sites in ${Date.now() - t0} ms; waiting for them to be live\n`);
  await waitFor(async () => (await api.list()).filter((s) => s.status === "live").length === N, {
    timeout: 10 * 60 * 1000, interval: 2000, what: `${N} sites live`,
  });
  process.stdout.write(`all live after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const { context, page } = await openPage(browser, server.origin, { token: platform.token });
    await page.goto("/", { waitUntil: "commit" });
    const rowsVisible = (n) =>
      page.waitForFunction((k) => {
        const rows = document.querySelectorAll("li[data-site]");
        if (rows.length < k) return false;
        return rows[rows.length - 1].getBoundingClientRect().height > 0;
      }, n, { polling: "raf", timeout: 30000 });
    await rowsVisible(Math.min(N, PAGE));
    const ms = await page.evaluate(() => performance.now());
    const nav = await page.evaluate(() => {
      const e = performance.getEntriesByType("navigation")[0];
      return { domInteractive: Math.round(e.domInteractive), load: Math.round(e.loadEventEnd) };
    });
    const list = await page.evaluate(() =>
      performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/deployments?")).map((e) => Math.round(e.duration)),
    );
    const t1 = Date.now();
    const rows = page.locator("li[data-site]");
    // the count before each click: the next page may be in before a count taken after it
    for (let have = await rows.count(); have < N; have = await rows.count()) {
      await page.getByRole("button", { name: "Load more", exact: true }).click();
      await page.waitForFunction((k) => document.querySelectorAll("li[data-site]").length > k, have, { timeout: 30000 });
    }
    await rowsVisible(N);
    const more = Date.now() - t1;
    runs.push(ms);
    process.stdout.write(
      `run ${r + 1}: ${Math.min(N, PAGE)}th row visible at ${ms.toFixed(0)} ms (domInteractive ${nav.domInteractive} ms, GET /api/deployments?limit=${PAGE} ${list.join("/")} ms); ` +
        `Load more to the ${N}th row ${more} ms\n`,
    );
    await context.close();
  }
  const sorted = [...runs].sort((a, b) => a - b);
  process.stdout.write(`p50 time to the first ${Math.min(N, PAGE)} rows visible: ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms (runs: ${runs.map((x) => x.toFixed(0)).join(", ")})\n`);
} finally {
  await browser.close();
  await server.close();
  await platform.stop();
}
