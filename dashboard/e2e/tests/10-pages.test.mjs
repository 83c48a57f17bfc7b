/** The sites list reads the API a page (50) at a time, with Load more, against 56+ real sites. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { makeZip, siteName, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;
const created = [];

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  for (const n of created) await api.remove(n);
  // the last file of the suite, but leave the platform as it was found
  await waitFor(async () => {
    const left = (await api.list()).filter((s) => created.includes(s.name));
    return left.length === 0;
  }, { timeout: 120000, interval: 1000, what: "the paging sites deleted" });
});

describe("the sites list in pages", { timeout: 240000 }, () => {
  test("more than 50 sites: 50 rows and Load more (only ?limit=50 requests), then the rest, the newest last", async () => {
    const before = (await api.list()).length;
    const want = Math.max(56, before + 1);
    const zip = makeZip({ "index.html": "paged" });
    for (let i = before; i < want; i++) {
      const name = siteName(`paged${i}`);
      await api.createZip(name, zip);
      created.push(name);
    }
    const total = (await api.list()).length;
    assert.ok(total > 50 && total <= 100, `${total} sites`);
    const newest = created.at(-1);

    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    const lists = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (r.method() === "GET" && u.pathname === "/api/deployments") lists.push(u.search);
    });
    await page.goto("/");
    const rows = page.locator("ul[aria-label=Sites] > li");
    await waitFor(async () => (await rows.count()) === 50, { timeout: 15000, what: "50 rows" });
    await page.getByTestId("site-counts").getByText(`${total} sites (50 shown)`).waitFor();
    await page.getByText(`Showing 50 of ${total} sites.`).waitFor();
    assert.equal(await page.getByRole("link", { name: newest, exact: true }).count(), 0, "the newest site is on the second page");
    await page.getByRole("button", { name: "Load more", exact: true }).click();
    await page.getByRole("link", { name: newest, exact: true }).waitFor();
    await waitFor(async () => (await rows.count()) === total, { timeout: 15000, what: `${total} rows` });
    assert.equal(await page.getByRole("button", { name: "Load more", exact: true }).count(), 0);
    assert.ok(lists.length >= 2, `list requests: ${lists.join(" ")}`);
    assert.equal(lists[0], "?limit=50");
    assert.ok(lists.some((q) => /^\?limit=50&continue=.+/.test(q)), `a continue request among ${lists.join(" ")}`);
    assert.deepEqual(lists.filter((q) => !q.startsWith("?limit=50")), [], "never the whole list");
    // the rows are in the API's order, each once
    const slugs = await rows.evaluateAll((lis) => lis.map((li) => li.getAttribute("data-site")));
    assert.equal(new Set(slugs).size, total);
    assert.deepEqual(slugs, (await api.list()).map((s) => s.slug));
    assertNoProblems(page);
    await context.close();
  });
});
