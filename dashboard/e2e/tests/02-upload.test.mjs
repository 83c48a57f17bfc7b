/**
 * The main loop through the UI: upload a zip with the file input → the build log streams → live →
 * the site answers → edit an env var and redeploy → roll back to revision 1 without a build →
 * delete in the confirmation dialog → gone from the list.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { containersWithRole, fetchSite, siteContainers } from "../lib/docker.mjs";
import { assertOnce, logLines, setEnvVar, signIn, waitDetail } from "../lib/flows.mjs";
import { makeZip, siteName, tempDir, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
const name = siteName("upload");
// a build that uses its environment and writes numbered lines over about a second
const BUILD = 'mkdir -p out && cp index.html out/ && printf %s "$GREETING" > out/greeting.txt && for i in 1 2 3 4 5 6; do echo "step $i of 6"; sleep 0.15; done';
let browser, context, page;

before(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openPage(browser, ctx.origin));
});
after(async () => {
  await context?.close();
  await browser?.close();
});

describe("upload → live → env edit → redeploy → rollback → delete", { timeout: 150000 }, () => {
  test("a zip through the file input, with a build and an env var", async () => {
    const dir = tempDir();
    const zipPath = path.join(dir, `${name}.zip`);
    writeFileSync(zipPath, makeZip({ "index.html": `<h1>${name}</h1>` }));
    await signIn(page, ctx.platform.token);
    await page.getByRole("link", { name: "New site" }).click();
    await page.getByRole("tab", { name: "Upload" }).click();
    await page.getByLabel("Site archive").setInputFiles(zipPath);
    await page.getByTestId("picked").getByText(`${name}.zip`).waitFor();
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.getByRole("textbox", { name: "Build command" }).fill(BUILD);
    await page.getByRole("textbox", { name: "Output directory" }).fill("out");
    await setEnvVar(page, 1, "GREETING", "hello");
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.waitForURL(new RegExp(`/deployments/${name}$`), { timeout: 30000 });
  });

  test("the build log streams to its end, each line once", async () => {
    const region = page.getByRole("region", { name: "Build log" });
    await region.getByText("step 6 of 6").waitFor({ timeout: 60000 });
    await region.getByText("Finished: ready", { exact: true }).waitFor({ timeout: 30000 });
    const lines = await logLines(page);
    for (let i = 1; i <= 6; i++) assertOnce(lines, `step ${i} of 6`);
    assert.ok(lines.some((l) => l.includes("revision 1 ready")), lines.join("\n"));
  });

  test("it goes live and the site answers with what the build made", async () => {
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    assert.equal((await page.getByTestId("status").first().innerText()).trim(), "live");
    const index = await waitFor(async () => {
      const r = await fetchSite(ctx.platform, name, "/");
      return r.status === 200 && r;
    }, { what: "the site to answer" });
    assert.match(index.text, new RegExp(`<h1>${name}</h1>`));
    assert.equal((await fetchSite(ctx.platform, name, "/greeting.txt")).text, "hello");
  });

  test("editing the env var in the configuration deploys a new revision", async () => {
    const value = page.getByRole("textbox", { name: "Variable 1 value" });
    assert.equal(await value.inputValue(), "hello");
    await value.fill("world");
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByText(/Configuration saved: revision 2/).waitFor();
    await waitDetail(page, api, name, { status: "live", revision: 2 });
    await waitFor(async () => (await fetchSite(ctx.platform, name, "/greeting.txt")).text === "world", { what: "greeting world" });
    assert.equal((await api.get(name)).env_vars.GREETING, "world");
  });

  test("Redeploy builds revision 3", async () => {
    await page.getByRole("button", { name: "Redeploy", exact: true }).click();
    await page.getByText(/Redeploying: revision 3/).waitFor();
    await waitDetail(page, api, name, { status: "live", revision: 3 });
    const revs = await api.revisions(name);
    assert.deepEqual(revs.map((r) => [r.revision, r.state, r.trigger]), [
      [3, "ready", "redeploy"],
      [2, "ready", "apply"],
      [1, "ready", "create"],
    ]);
    await page.locator('[data-revision="3"]').getByText("serving").waitFor();
  });

  test("Rollback to revision 1 serves it again without a build container", async () => {
    await waitFor(async () => (await containersWithRole(ctx.platform.instance, "build")).length === 0, {
      what: "no build container before the rollback",
    });
    const seen = new Set();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const id of await containersWithRole(ctx.platform.instance, "build")) seen.add(id);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const row = page.locator('[data-revision="1"]');
    await row.getByRole("button", { name: "Rollback" }).click();
    await page.getByText("Rolling back to revision 1").waitFor();
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    await waitFor(async () => (await fetchSite(ctx.platform, name, "/greeting.txt")).text === "hello", { what: "greeting hello again" });
    await row.getByText("serving").waitFor();
    sampling = false;
    await sampler;
    assert.equal(seen.size, 0, `build containers appeared during the rollback: ${[...seen].join(", ")}`);
    assert.equal((await api.revisions(name)).length, 3, "a rollback creates no revision");
    // the row of the served revision no longer offers a rollback; the others do
    assert.equal(await row.getByRole("button", { name: "Rollback" }).count(), 0);
    assert.equal(await page.locator('[data-revision="3"]').getByRole("button", { name: "Rollback" }).count(), 1);
  });

  test("Delete asks in a dialog, then the site leaves the list", async () => {
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(`Delete ${name}?`).waitFor();
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await page.waitForURL(/\/$/);
    await dialog.waitFor({ state: "detached" });
    // first shown as being deleted, then gone: the list follows without a reload
    await page.getByRole("list", { name: "Sites" }).or(page.getByText("No sites yet")).waitFor();
    await waitFor(async () => (await api.call("GET", `/api/deployments/${name}`)).status === 404, {
      timeout: 30000,
      what: "the API to forget the site",
    });
    await waitFor(async () => (await page.locator(`li[data-site="${name}"]`).count()) === 0, {
      timeout: 20000,
      what: `${name} to leave the list`,
    });
    assert.equal((await siteContainers(ctx.platform.instance, name)).length, 0, "its containers are gone");
    assertNoProblems(page);
  });
});
