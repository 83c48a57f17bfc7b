/**
 * The build log: follows a running build to its end, survives a dropped connection and a tab
 * switch without duplicating a line, sticks to the bottom until the user scrolls up.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { assertOnce, logLines, waitDetail } from "../lib/flows.mjs";
import { makeZip, siteName, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;

const numbered = (n, pause) => `for i in $(seq 1 ${n}); do echo "log line $i of ${n}"; sleep ${pause}; done`;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("the build log", { timeout: 120000 }, () => {
  test("a connection dropped mid-stream resumes without duplicating lines", async () => {
    const name = siteName("drop-log");
    const N = 30;
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: numbered(N, 0.05), output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    // the first log connection is cut after 10 lines (no `end` event); later ones pass through
    let cut = 0;
    await page.route(/\/api\/deployments\/[^/]+\/logs\?/, async (route) => {
      if (cut++ > 0) return route.continue();
      const res = await route.fetch();
      const text = await res.text();
      const events = text.split("\n\n");
      const firstTen = [];
      let data = 0;
      for (const ev of events) {
        if (/(^|\n)data: /.test(ev)) data++;
        if (data > 10) break;
        firstTen.push(ev);
      }
      await route.fulfill({ status: 200, headers: { "content-type": "text/event-stream" }, body: `${firstTen.join("\n\n")}\n\n` });
    });
    await page.goto(`/deployments/${name}`);
    const region = page.getByRole("region", { name: "Build log" });
    await region.getByText("Finished: ready", { exact: true }).waitFor({ timeout: 60000 });
    assert.ok(cut >= 2, `the log reconnected (${cut} connections)`);
    const lines = await logLines(page);
    for (let i = 1; i <= N; i++) assertOnce(lines, `log line ${i} of ${N}`);
    assertOnce(lines, "revision 1 ready");
    assertNoProblems(page);
    await context.close();
  });

  test("a tab switch mid-build: the log goes on to its end, each line once", async () => {
    const name = siteName("tab-log");
    const N = 40;
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: numbered(N, 0.1), output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto(`/deployments/${name}`);
    const region = page.getByRole("region", { name: "Build log" });
    await region.getByText(`log line 5 of ${N}`).waitFor({ timeout: 60000 });
    const other = await context.newPage();
    await other.goto("about:blank");
    await other.bringToFront();
    await page.waitForTimeout(1500);
    await page.bringToFront();
    await other.close();
    await region.getByText("Finished: ready", { exact: true }).waitFor({ timeout: 60000 });
    const lines = await logLines(page);
    for (let i = 1; i <= N; i++) assertOnce(lines, `log line ${i} of ${N}`);
    await waitDetail(page, api, name, { status: "live" });
    await context.close();
  });

  test("auto-scroll pauses when the user scrolls up; Jump to latest resumes it", async () => {
    const name = siteName("scroll-log");
    const N = 120;
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: numbered(N, 0.05), output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto(`/deployments/${name}`);
    const region = page.getByRole("region", { name: "Build log" });
    const box = region.getByTestId("log-lines");
    await region.getByText(`log line 40 of ${N}`).waitFor({ timeout: 60000 });
    const gap = () => box.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    assert.ok((await gap()) < 30, "follows the bottom while lines come");
    assert.equal(await region.getByRole("button", { name: "Jump to latest" }).count(), 0);
    await box.hover();
    await page.mouse.wheel(0, -2000);
    const jump = region.getByRole("button", { name: "Jump to latest" });
    await jump.waitFor();
    const top = await box.evaluate((el) => el.scrollTop);
    await region.getByText(`log line 80 of ${N}`).waitFor({ timeout: 30000 });
    assert.equal(await box.evaluate((el) => el.scrollTop), top, "stays where the user scrolled while new lines come");
    assert.ok((await gap()) > 100);
    await jump.click();
    await waitFor(async () => (await gap()) < 30, { timeout: 5000, what: "the log to be at its bottom" });
    await region.getByText("Finished: ready", { exact: true }).waitFor({ timeout: 60000 });
    assert.ok((await gap()) < 30, "and follows the bottom again");
    assert.equal(await jump.count(), 0);
    await context.close();
  });
});
