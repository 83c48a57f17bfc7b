/** Errors appear beside the field they concern: client-side checks and the server's details[].path. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { fieldError, waitDetail } from "../lib/flows.mjs";
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

describe("errors beside their fields", { timeout: 90000 }, () => {
  test("/new: bad values are caught before any request, each beside its field", async () => {
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    let posts = 0;
    page.on("request", (r) => {
      if (r.method() === "POST") posts++;
    });
    await page.goto("/new");
    await page.getByRole("tab", { name: "Git repository" }).click();
    await page.getByRole("textbox", { name: "Name" }).fill("Not_A_Label");
    await page.getByRole("textbox", { name: "Repository URL" }).fill("github.com/no-scheme");
    await page.getByRole("textbox", { name: "Output directory" }).fill("../x");
    await page.getByRole("button", { name: "Deploy" }).click();
    assert.match(await fieldError(page, "Output directory"), /cannot leave the source/);
    assert.match(await fieldError(page, "Name"), /lowercase/i);
    assert.match(await fieldError(page, "Repository URL"), /https:\/\//);
    assert.equal(await page.getByRole("textbox", { name: "Branch" }).getAttribute("aria-invalid"), null);
    assert.equal(posts, 0, "nothing was sent");
    // fixing a field clears its error
    await page.getByRole("textbox", { name: "Output directory" }).fill("dist");
    assert.equal(await page.getByRole("textbox", { name: "Output directory" }).getAttribute("aria-invalid"), null);
    await context.close();
  });

  test("/new: the server's answer lands on the field it names (a name that is taken)", async () => {
    const name = siteName("taken");
    await api.createZip(name, makeZip({ "index.html": "x" }));
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto("/new");
    await page.getByRole("tab", { name: "Git repository" }).click();
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.getByRole("textbox", { name: "Repository URL" }).fill("https://example.invalid/user/repo");
    await page.getByRole("button", { name: "Deploy" }).click();
    assert.match(await fieldError(page, "Name"), /already exists/);
    assert.match(page.url(), /\/new$/);
    assertNoProblems(page);
    await context.close();
  });

  test("config editor: out-of-range values come back from apply with their paths, beside each field", async () => {
    const name = siteName("badcfg");
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: "true", output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto(`/deployments/${name}`);
    await waitDetail(page, api, name, { status: "live" });
    const before = await api.get(name);
    let puts = 0;
    page.on("response", (r) => {
      if (r.request().method() === "PUT" && r.status() === 400) puts++;
    });
    await page.getByRole("textbox", { name: "Revisions kept" }).fill("0");
    await page.getByRole("textbox", { name: "Build timeout (seconds)" }).fill("99999");
    await page.getByRole("button", { name: "Save configuration" }).click();
    assert.match(await fieldError(page, "Revisions kept"), /between 1 and 100/);
    assert.match(await fieldError(page, "Build timeout (seconds)"), /7200/);
    assert.equal(puts, 1, "the server refused the manifest (400)");
    const after = await api.get(name);
    assert.equal(after.resource_version, before.resource_version, "nothing was written");
    // a value the dashboard checks itself stays beside its field too
    await page.getByRole("textbox", { name: "Revisions kept" }).fill("5");
    await page.getByRole("textbox", { name: "Build timeout (seconds)" }).fill("900");
    await page.getByRole("textbox", { name: "Output directory" }).fill("../x");
    await page.getByRole("button", { name: "Save configuration" }).click();
    assert.match(await fieldError(page, "Output directory"), /\.\./);
    assert.equal(puts, 1);
    await context.close();
  });

  test("config editor: a stale resource_version (someone else saved) is a form-level conflict", async () => {
    const name = siteName("stale");
    await api.createZip(name, makeZip({ "index.html": "x" }), { build_cmd: "true", output_dir: "." });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto(`/deployments/${name}`);
    await waitDetail(page, api, name, { status: "live" });
    await page.getByRole("textbox", { name: "Build command" }).fill("echo mine");
    // another client changes the site meanwhile
    const cur = await api.get(name);
    const m = structuredClone(cur.spec);
    m.spec.build.command = "echo theirs";
    await api.apply(name, m, 200);
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.locator("[data-form-error]").getByText(/changed/).waitFor();
    await page.getByRole("button", { name: "Load the latest" }).click();
    await waitFor(async () => (await page.getByRole("textbox", { name: "Build command" }).inputValue()) === "echo theirs", {
      what: "the latest configuration in the form",
    });
    await context.close();
  });
});
