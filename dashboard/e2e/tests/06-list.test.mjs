/** The list follows the platform by itself (no reload) and its per-row quick actions work. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
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

const row = (page, name) => page.locator(`li[data-site="${name}"]`);
const rowStatus = async (page, name) => (await row(page, name).getByTestId("status").getAttribute("data-status").catch(() => null)) ?? "";

describe("the sites list", { timeout: 90000 }, () => {
  test("the list follows deploys by itself (no reload): quick redeploy, a site created elsewhere, quick delete", async () => {
    const name = siteName("listed");
    // a build of about two seconds, so the list can see it deploying
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: "sleep 2", output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto("/");
    await page.getByRole("heading", { name: "Sites", exact: true }).waitFor();
    await page.evaluate(() => (window.__sameDocument = true));
    await waitFor(async () => (await rowStatus(page, name)) === "live", { timeout: 45000, interval: 200, what: `${name} live in the list` });
    const link = page.getByRole("link", { name, exact: true });
    assert.equal(await link.getAttribute("href"), `/deployments/${name}`);
    await row(page, name).getByText("#1").first().waitFor();

    // quick action: Redeploy <name>; the row goes deploying, then live, polled fast meanwhile
    await page.getByRole("button", { name: `Redeploy ${name}`, exact: true }).click();
    await page.getByText(new RegExp(`Redeploying ${name}: revision 2`)).waitFor();
    const statuses = [];
    await waitFor(async () => {
      const s = await rowStatus(page, name);
      if (statuses.at(-1) !== s) statuses.push(s);
      return s === "live" && (await api.get(name)).current_revision === 2;
    }, { timeout: 45000, interval: 100, what: "revision 2 live in the list" });
    assert.ok(statuses.includes("deploying"), `the row showed ${statuses.join(" → ")}`);
    await row(page, name).getByText("#2").first().waitFor();

    // a site created by another client shows up at the next (slow) poll
    const other = siteName("elsewhere");
    await api.createZip(other, makeZip({ "index.html": "y" }));
    await page.getByRole("link", { name: other, exact: true }).waitFor({ timeout: 15000 });

    // quick action: Delete <name>, confirmed in the dialog
    await page.getByRole("button", { name: `Delete ${name}`, exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    await waitFor(async () => (await api.call("GET", `/api/deployments/${name}`)).status === 404, { timeout: 30000, what: "the API to forget it" });
    await waitFor(async () => (await link.count()) === 0 && (await row(page, name).count()) === 0, { timeout: 15000, what: `${name} gone from the list` });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload happened");
    assertNoProblems(page);
    await context.close();
  });

  test("a site's link opens its page", async () => {
    const name = siteName("linked");
    await api.createZip(name, makeZip({ "index.html": "x" }));
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto("/");
    await page.getByRole("link", { name, exact: true }).click();
    await page.waitForURL(new RegExp(`/deployments/${name}$`));
    await page.getByRole("heading", { name, exact: true }).waitFor();
    await page.getByRole("region", { name: "Build log" }).waitFor();
    await context.close();
  });
});
