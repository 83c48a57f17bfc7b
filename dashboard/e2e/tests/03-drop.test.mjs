/** A zip dropped on the drop zone (a synthetic DataTransfer), and a folder zipped in the browser. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { fetchSite } from "../lib/docker.mjs";
import { dropFiles, waitDetail } from "../lib/flows.mjs";
import { makeZip, siteName, tempDir, waitFor, writeTree } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("drop and folder uploads", { timeout: 90000 }, () => {
  test("a zip dropped on the drop zone deploys and answers", async () => {
    const name = siteName("dropped");
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto("/new");
    await dropFiles(page, [{ name: `${name}.zip`, type: "application/zip", bytes: makeZip({ "index.html": `<p>dropped ${name}</p>` }) }]);
    await page.getByTestId("picked").getByText(`${name}.zip`).waitFor();
    // the name is suggested from the file name
    assert.equal(await page.getByRole("textbox", { name: "Name" }).inputValue(), name);
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.waitForURL(new RegExp(`/deployments/${name}$`));
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    const r = await waitFor(async () => {
      const x = await fetchSite(ctx.platform, name);
      return x.status === 200 && x;
    }, { what: "the dropped site to answer" });
    assert.match(r.text, new RegExp(`dropped ${name}`));
    assertNoProblems(page);
    await context.close();
  });

  test("a folder is zipped in the browser (with its subfolders, without .git) and uploaded", async () => {
    const name = siteName("folder");
    const dir = writeTree(path.join(tempDir(), name), {
      "index.html": `<p>folder ${name}</p>`,
      "docs/page.html": "<p>nested page</p>",
      ".git/HEAD": "ref: refs/heads/main\n",
    });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    const uploads = [];
    page.on("request", (req) => {
      if (req.method() === "POST" && req.url().endsWith("/api/deployments")) uploads.push(req);
    });
    await page.goto("/new");
    await page.getByLabel("Site folder").setInputFiles(dir);
    await page.getByTestId("picked").getByText(/2 files .* zipped in the browser/).waitFor();
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.waitForURL(new RegExp(`/deployments/${name}$`));
    assert.equal(uploads.length, 1, "one upload");
    // the server stored the upload as a zip (it sniffs the magic bytes)
    const digest = (await api.get(name)).archive_digest.slice("sha256:".length);
    assert.ok(existsSync(path.join(ctx.platform.data_dir, "uploads/sha256", `${digest}.zip`)), "the folder went up as a zip");
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    const site = await waitFor(async () => {
      const x = await fetchSite(ctx.platform, name, "/docs/page.html");
      return x.status === 200 && x;
    }, { what: "the nested page" });
    assert.match(site.text, /nested page/);
    assert.equal((await fetchSite(ctx.platform, name, "/.git/HEAD")).status, 404, ".git was left out");
    assertNoProblems(page);
    await context.close();
  });

  test("the upload progress bar moves (XMLHttpRequest upload progress, on a throttled link)", async () => {
    const name = siteName("progress");
    const zipPath = path.join(tempDir(), `${name}.zip`);
    // 1.5 MB that does not compress, on a 512 KB/s link: about three seconds of progress
    writeFileSync(zipPath, makeZip({ "index.html": `<p>${name}</p>`, "noise.bin": randomBytes(1536 * 1024).toString("latin1") }));
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    await page.goto("/new");
    await page.getByLabel("Site archive").setInputFiles(zipPath);
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"][aria-label="Upload progress"]');
        const v = bar?.getAttribute("aria-valuenow");
        if (v !== null && v !== undefined) window.__progress.push(Number(v));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    });
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.getByRole("progressbar", { name: "Upload progress" }).waitFor();
    await page.waitForURL(new RegExp(`/deployments/${name}$`), { timeout: 30000 });
    const seen = await page.evaluate(() => window.__progress);
    assert.ok(seen.some((v) => v > 0 && v < 100), `intermediate progress values: ${JSON.stringify(seen)}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, "progress only grows");
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    await context.close();
  });
});
