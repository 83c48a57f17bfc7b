/** The detail page's Metrics: requests sent through Traefik come back counted, by status class. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { fetchSite } from "../lib/docker.mjs";
import { makeZip, siteName, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("metrics", { timeout: 120000 }, () => {
  test("20 pages and 5 misses through Traefik → the chart and totals say 25 total, 20 2xx, 5 4xx; a new site has none", async () => {
    const name = siteName("metered");
    await api.createZip(name, makeZip({ "index.html": "<h1>metered</h1>" }));
    await waitFor(async () => (await api.get(name)).status === "live", { timeout: 60000, what: `${name} live` });
    // the empty state first, before any request reached the site
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto(`/deployments/${name}`);
    const region = page.getByRole("region", { name: "Metrics" });
    await region.getByRole("heading", { name: "Metrics" }).waitFor();
    await region.getByText("No requests in this window").waitFor();

    for (let i = 0; i < 20; i++) assert.equal((await fetchSite(ctx.platform, name, "/")).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await fetchSite(ctx.platform, name, `/missing-${i}`)).status, 404);
    await waitFor(async () => (await api.call("GET", `/api/deployments/${name}/metrics?window=1h`)).data.totals.requests >= 25, {
      timeout: 60000,
      interval: 500,
      what: "the scrape to count 25 requests",
    });
    const m = (await api.call("GET", `/api/deployments/${name}/metrics?window=1h`, { expect: 200 })).data;
    assert.deepEqual([m.totals.requests, m.totals.byClass["2xx"], m.totals.byClass["4xx"]], [25, 20, 5]);

    // the page asks again by itself (every 15 s) or when the window changes: switch to see it now
    await region.getByRole("button", { name: "24h", exact: true }).click();
    await region.getByRole("img", { name: "Requests in the last 24h: 25 total, 20 2xx, 5 4xx" }).waitFor({ timeout: 20000 });
    await region.getByRole("button", { name: "1h", exact: true }).click();
    const chart = region.getByRole("img", { name: "Requests in the last 1h: 25 total, 20 2xx, 5 4xx" });
    await chart.waitFor({ timeout: 20000 });
    assert.ok((await chart.locator("rect").count()) >= 2, "a 2xx bar and a 4xx bar");
    assert.equal(await region.getByRole("button", { name: "1h", exact: true }).getAttribute("aria-pressed"), "true");
    const totals = await region.getByTestId("metrics-totals").innerText();
    assert.match(totals, /Requests\s+25/);
    assert.match(totals, /p50 latency\s+≤/);
    assert.match(totals, /Deploys\s+1/);
    await region.getByRole("button", { name: "7d", exact: true }).click();
    await region.getByRole("img", { name: "Requests in the last 7d: 25 total, 20 2xx, 5 4xx" }).waitFor({ timeout: 20000 });
    assertNoProblems(page);
    await context.close();
    await api.remove(name);
  });
});
