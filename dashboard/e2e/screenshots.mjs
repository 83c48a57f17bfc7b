#!/usr/bin/env node
/**
 * npm run screenshots: the three pages (/, /new, /deployments/:id), light and dark, 1280×800 and
 * 375 px wide, against the real platform with a few real sites (live, deploying, failed, Git).
 * Writes docs/screenshots/<page>-<theme>-<width>.png.
 *   LAUNCHPAD_TEST_BIN=<repo>/build/bin LAUNCHPAD_TEST_SRC=<repo> npm run screenshots
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { apiClient } from "./lib/api.mjs";
import { launchBrowser, openPage } from "./lib/browser.mjs";
import { fetchSite } from "./lib/docker.mjs";
import { startPlatform } from "./lib/platform.mjs";
import { dashboardOrigin } from "./lib/server.mjs";
import { makeZip, run, tempDir, waitFor, writeTree } from "./lib/util.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const dist = path.join(root, "dist");
const outDir = path.resolve(process.env.LAUNCHPAD_TEST_SRC ?? path.join(root, ".."), "docs/screenshots");

async function makeRepo(files) {
  const dir = writeTree(tempDir("lp-shots-repo-"), files);
  const git = (...a) => run("git", ["-C", dir, "-c", "user.name=LaunchPad", "-c", "user.email=shots@example.invalid", ...a]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "Initial site");
  return dir;
}

async function seed(api, platform) {
  const page = (title) => `<!doctype html><title>${title}</title><h1>${title}</h1>`;
  const buildLog =
    'echo "> npm ci"; sleep 0.2; echo "added 214 packages in 3s"; echo "> vite build"; ' +
    'for f in "index.html  0.46" "assets/index.css  8.41" "assets/vendor.js  61.20" "assets/index.js  12.87"; do echo "  dist/$f kB"; sleep 0.1; done; ' +
    'echo "✓ built in 1.2s"; mkdir -p dist && cp index.html dist/';
  const repo = await makeRepo({ "index.html": page("Docs"), "package.json": '{"name":"docs"}\n' });
  await api.call("POST", "/api/deployments", {
    json: {
      name: "handbook", slug: "handbook", source_type: "github", github_url: `file://${repo}`, branch: "main",
      build_cmd: buildLog, output_dir: "dist", env_vars: { NODE_ENV: "production", SITE_TITLE: "Docs" }, auto_deploy: true,
    },
    expect: 201,
  });
  await api.createZip("portfolio", makeZip({ "index.html": page("Portfolio") }));
  await api.createZip("marketing", makeZip({ "index.html": page("Marketing") }));
  await api.createZip("broken-build", makeZip({ "index.html": page("Broken") }), {
    build_cmd: 'echo "> npm run build"; echo "Error: Cannot find module \'vite\'" >&2; exit 1', output_dir: "dist",
  });
  const settled = async (n) => {
    const s = await api.get(n);
    return s.status === "failed" || (s.status === "live" && s.current_revision === s.desired_revision);
  };
  await waitFor(async () => (await Promise.all(["handbook", "portfolio", "marketing", "broken-build"].map(settled))).every(Boolean), {
    timeout: 90000, what: "the seeded sites to settle",
  });
  // a second revision for handbook (so there is something to roll back to)
  await api.call("POST", "/api/deployments/handbook/redeploy", { expect: 202 });
  await waitFor(async () => (await api.get("handbook")).current_revision === 2 && (await settled("handbook")), { timeout: 60000, what: "handbook revision 2" });
  // traffic through Traefik, so the Metrics chart has bars: pages and a few misses
  for (let i = 0; i < 30; i++) await fetchSite(platform, "handbook", i % 6 === 5 ? `/missing-${i}` : "/");
  await waitFor(async () => (await api.call("GET", "/api/deployments/handbook/metrics?window=1h")).data.totals.requests >= 30, {
    timeout: 60000, what: "handbook's requests counted",
  });
  // one that is deploying while the pictures are taken
  await api.createZip("landing", makeZip({ "index.html": page("Landing") }), { build_cmd: 'echo "> building"; sleep 120', output_dir: "." });
  await waitFor(async () => (await api.revisions("landing"))[0]?.state === "building", { timeout: 30000, what: "landing building" });
}

const SIZES = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 812 } };

async function main() {
  if (!existsSync(path.join(dist, "index.html"))) {
    const b = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) throw new Error("npm run build failed");
  }
  mkdirSync(outDir, { recursive: true });
  const platform = await startPlatform({ distDir: dist, env: { LAUNCHPAD_METRICS_INTERVAL_SECONDS: "2" } });
  const server = await dashboardOrigin(platform, dist);
  const browser = await launchBrowser();
  try {
    const api = apiClient(platform);
    await seed(api, platform);
    for (const theme of ["light", "dark"]) {
      for (const [size, viewport] of Object.entries(SIZES)) {
        const { context, page } = await openPage(browser, server.origin, { token: platform.token, viewport, colorScheme: theme });
        const shots = [
          ["sites", "/", async () => page.getByRole("link", { name: "broken-build", exact: true }).waitFor()],
          ["new", "/new", async () => page.getByRole("textbox", { name: "Name" }).fill("my-new-site")],
          ["detail", "/deployments/handbook", async () => {
            await page.getByRole("region", { name: "Build log" }).getByText("Finished: ready", { exact: true }).waitFor();
            await page.getByRole("button", { name: "Rollback" }).first().waitFor();
            await page.getByRole("region", { name: "Metrics" }).getByRole("img").waitFor();
          }],
        ];
        for (const [name, url, ready] of shots) {
          await page.goto(url);
          await ready();
          await page.waitForTimeout(400); // transitions, fonts
          const file = path.join(outDir, `${name}-${theme}-${size}.png`);
          await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
          process.stdout.write(`${path.relative(process.cwd(), file)}  ${Math.round(statSync(file).size / 1024)} KB\n`);
        }
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await platform.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`screenshots: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
