/**
 * Every page, light and dark, desktop and 375 px: no serious or critical axe-core violation
 * (names, roles, contrast, labels) and nothing wider than the screen.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { makeZip, siteName, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
let browser;
let site;

before(async () => {
  browser = await launchBrowser();
  site = siteName("a11y");
  await api.createZip(site, makeZip({ "index.html": "x" }), { build_cmd: "echo built", output_dir: "." });
  // and a failed one, so the list shows both badges
  await api.createZip(siteName("a11y-bad"), makeZip({ "index.html": "x" }), { build_cmd: "exit 1", output_dir: "." });
  await waitFor(async () => (await api.get(site)).status === "live", { timeout: 60000, what: `${site} live` });
  await waitFor(async () => (await api.list()).some((s) => s.status === "failed"), { timeout: 60000, what: "a failed site" });
});
after(async () => {
  await browser?.close();
});

async function audit(page) {
  await page.addScriptTag({ content: axeSource });
  const r = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"], runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }),
  );
  return r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}

/** [path, wait until ready, signed in] of every page, for the site made in before(). */
const pages = () => [
  ["/signin", (page) => page.getByRole("button", { name: "Sign in" }).waitFor(), false],
  ["/", async (page) => {
    await page.getByRole("link", { name: site, exact: true }).waitFor();
    await page.locator('[data-status="failed"]').first().waitFor();
  }, true],
  // with the errors of an empty submit shown
  ["/new", async (page) => {
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.locator("[data-field-error]").first().waitFor();
  }, true],
  [`/deployments/${site}`, (page) => page.getByRole("region", { name: "Build log" }).getByText("Finished: ready", { exact: true }).waitFor(), true],
];

describe("accessibility and small screens", { timeout: 120000 }, () => {
  for (const colorScheme of ["light", "dark"]) {
    for (const [label, viewport] of [["1280", { width: 1280, height: 800 }], ["375", { width: 375, height: 812 }]]) {
      test(`${colorScheme}, ${label} px: no serious axe violations, no horizontal overflow`, async () => {
        const problems = [];
        for (const [url, ready, signedIn] of pages()) {
          const { context, page } = await openPage(browser, ctx.origin, { token: signedIn ? ctx.platform.token : undefined, viewport, colorScheme });
          await page.goto(url);
          await ready(page);
          await page.waitForTimeout(300);
          for (const v of await audit(page)) problems.push(`${url}: ${v}`);
          const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          if (wide > 0) problems.push(`${url}: ${wide}px wider than the ${viewport.width}px screen`);
          await context.close();
        }
        assert.deepEqual(problems, []);
      });
    }
  }
});
