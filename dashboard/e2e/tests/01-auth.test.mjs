/** Sign-in with a token or a password, and every way a session ends (401 → sign-in). */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { apiClient } from "../lib/api.mjs";
import { assertNoProblems, launchBrowser, openPage } from "../lib/browser.mjs";
import { e2eContext } from "../lib/context.mjs";
import { signIn } from "../lib/flows.mjs";
import { makeZip, run, siteName, waitFor } from "../lib/util.mjs";

const ctx = e2eContext();
const api = apiClient(ctx.platform);
let browser;

async function tokenCli(...args) {
  const { stdout } = await run(path.join(ctx.bin, "launchpad-apiserver"), ["--data-dir", ctx.platform.data_dir, "token", ...args]);
  return stdout;
}

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("sign-in", { timeout: 60000 }, () => {
  test("an unknown route sends to sign-in; a wrong token is refused there", async () => {
    const { context, page } = await openPage(browser, ctx.origin);
    await page.goto("/deployments/anything");
    await page.waitForURL(/\/signin$/);
    await page.getByRole("textbox", { name: "API token" }).fill("lp_not_a_token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token was not accepted.").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("launchpad-token")), null);
    assertNoProblems(page);
    await context.close();
  });

  test("the admin token signs in, goes back where it was sent from, and shows the list or its empty state", async () => {
    const { context, page } = await openPage(browser, ctx.origin);
    await page.goto("/new");
    await page.waitForURL(/\/signin$/);
    await page.getByRole("textbox", { name: "API token" }).fill(ctx.platform.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/new$/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("launchpad-token")), ctx.platform.token);
    await page.getByRole("link", { name: "LaunchPad home" }).click();
    await page.getByRole("heading", { name: "Sites", exact: true }).waitFor();
    const sites = await api.list();
    if (sites.length === 0) await page.getByText("No sites yet").waitFor();
    else await page.getByRole("link", { name: sites[0].name, exact: true }).waitFor();
    assertNoProblems(page);
    await context.close();
  });

  test("password sign-in: a wrong password is refused with the server's answer", async () => {
    const { context, page } = await openPage(browser, ctx.origin);
    await page.goto("/signin");
    await page.getByRole("textbox", { name: "Username" }).fill("nobody");
    await page.getByLabel("Password", { exact: true }).fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong username or password.").waitFor();
    assert.match(page.url(), /\/signin$/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("launchpad-token")), null);
    await context.close();
  });

  test("a created user signs in with POST /api/login and sees only their own sites; sign-out ends the session", async () => {
    const username = `e2e-user-${process.pid}`;
    const password = "correct horse battery";
    await api.call("POST", "/api/users", { json: { username, password, role: "member" }, expect: 201 });
    const login = await api.call("POST", "/api/login", { json: { username, password }, token: "", expect: 200 });
    const mine = siteName("mine");
    const theirs = siteName("theirs");
    const form = new FormData();
    form.append("name", mine);
    form.append("slug", mine);
    form.append("source_type", "zip");
    form.append("file", new Blob([makeZip({ "index.html": "mine" })], { type: "application/zip" }), `${mine}.zip`);
    await api.call("POST", "/api/deployments", { form, token: login.data.token, expect: 201 });
    await api.createZip(theirs, makeZip({ "index.html": "theirs" }));
    assert.equal((await api.get(mine)).owner, username);

    const { context, page } = await openPage(browser, ctx.origin);
    const posts = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push(new URL(r.url()).pathname);
    });
    await page.goto("/");
    await page.waitForURL(/\/signin$/);
    await page.getByRole("textbox", { name: "Username" }).fill(username);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Sites", exact: true }).waitFor();
    await page.getByRole("link", { name: mine, exact: true }).waitFor();
    assert.ok(posts.includes("/api/login"), `the browser posted ${posts.join(", ")}`);
    const token = await page.evaluate(() => sessionStorage.getItem("launchpad-token"));
    assert.match(token ?? "", /^lp_/);
    assert.notEqual(token, ctx.platform.token);
    // the session token is the user's: the API scopes the list to their sites
    const seen = (await api.call("GET", "/api/deployments", { token, expect: 200 })).data.map((s) => s.name);
    assert.deepEqual(seen, [mine]);
    assert.equal(await page.getByRole("link", { name: theirs, exact: true }).count(), 0);
    assert.equal(await page.locator("ul[aria-label=Sites] > li").count(), 1);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("textbox", { name: "Username" }).waitFor();
    await waitFor(async () => (await api.call("GET", "/api/me", { token })).status === 401, { timeout: 5000, what: "the session revoked" });
    assertNoProblems(page);
    await context.close();
    await api.remove(mine);
    await api.remove(theirs);
    await waitFor(async () => (await api.call("GET", `/api/deployments/${mine}`)).status === 404, { timeout: 30000, what: `${mine} deleted` });
    await api.call("DELETE", `/api/users/${username}`, { expect: 200 });
  });
});

describe("a 401 anywhere returns to sign-in", { timeout: 60000 }, () => {
  test("a garbled token in sessionStorage", async () => {
    const { context, page } = await openPage(browser, ctx.origin);
    await signIn(page, ctx.platform.token);
    await page.evaluate(() => sessionStorage.setItem("launchpad-token", "lp_garbled0000"));
    await page.reload();
    await page.getByRole("textbox", { name: "API token" }).waitFor();
    await page.getByText(/session has ended/).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("launchpad-token")), null);
    await context.close();
  });

  test("a token revoked on the server while the page is open", async () => {
    const secret = (await tokenCli("create", `e2e-revoke-${process.pid}`)).trim().split(/\s+/)[0];
    assert.match(secret, /^lp_/);
    const listing = await tokenCli("list");
    const id = listing.split("\n").find((l) => l.includes(`e2e-revoke-${process.pid}`))?.trim().split(/\s+/)[0];
    assert.ok(id, `token id in:\n${listing}`);
    const { context, page } = await openPage(browser, ctx.origin);
    await signIn(page, secret);
    await tokenCli("revoke", id);
    // the user comes back to the tab after a while: the list refetches and gets a 401
    await page.waitForTimeout(1200); // past the list's staleTime (1 s)
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange", { bubbles: true })));
    await waitFor(async () => page.url().endsWith("/signin"), { timeout: 5000, what: "the sign-in page" });
    await page.getByText(/session has ended/).waitFor();
    await context.close();
  });
});
