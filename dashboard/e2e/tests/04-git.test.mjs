/** A Git site from a local repository (file://, allowed by the test platform) and its webhook panel. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { fetchSite } from "../lib/docker.mjs";
import { waitDetail } from "../lib/flows.mjs";
import { run, siteName, tempDir, waitFor, writeTree } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;

async function makeRepo(files) {
  const dir = writeTree(tempDir("lp-dash-repo-"), files);
  const git = (...a) => run("git", ["-C", dir, "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", ...a]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "site");
  const { stdout } = await git("rev-parse", "HEAD");
  return { dir, commit: stdout.trim() };
}

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("Git repository", { timeout: 90000 }, () => {
  test("a local repository goes live, with its commit in the revisions and the webhook set-up", async () => {
    const name = siteName("git");
    const repo = await makeRepo({ "index.html": `<h1>from git ${name}</h1>` });
    const { context, page } = await openPage(browser, ctx.origin, { token: ctx.platform.token });
    await page.goto("/new");
    await page.getByRole("tab", { name: "Git repository" }).click();
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.getByRole("textbox", { name: "Repository URL" }).fill(`file://${repo.dir}`);
    await page.getByRole("textbox", { name: "Branch" }).fill("main");
    await page.getByRole("switch", { name: "Auto-deploy on push" }).click();
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.waitForURL(new RegExp(`/deployments/${name}$`));
    const t0 = Date.now();
    await waitDetail(page, api, name, { status: "live", revision: 1 });
    if (process.env.E2E_DEBUG) console.log("live after", Date.now() - t0, JSON.stringify(await api.revisions(name)));
    const r = await waitFor(async () => {
      const x = await fetchSite(ctx.platform, name);
      return x.status === 200 && x;
    }, { what: "the Git site to answer" });
    assert.match(r.text, new RegExp(`from git ${name}`));

    const site = await api.get(name);
    assert.equal(site.source_type, "github");
    assert.equal(site.auto_deploy, true);
    // the revision shows the commit it was built from
    await page.locator('[data-revision="1"]').getByText(repo.commit.slice(0, 7)).waitFor();

    // webhook: the payload URL is shown, the secret only once revealed
    assert.equal(await page.getByRole("textbox", { name: "Payload URL" }).inputValue(), site.webhook_url);
    const secret = page.getByRole("textbox", { name: "Secret" });
    assert.doesNotMatch(await secret.inputValue(), /[0-9a-f]{16}/);
    await page.getByRole("button", { name: "Reveal the secret" }).click();
    // get and list never carry the secret: the owner's endpoint does (issue 17)
    const hook = (await api.call("GET", `/api/deployments/${name}/webhook`, { expect: 200 })).data;
    assert.equal(site.webhook_secret, null);
    assert.equal(await secret.inputValue(), hook.webhook_secret);
    await page.getByRole("button", { name: "Hide the secret" }).waitFor();
    await page.getByText("Just the push event", { exact: false }).waitFor();
    await page.getByText("application/json", { exact: true }).waitFor();
    assertNoProblems(page);
    await context.close();
  });
});
