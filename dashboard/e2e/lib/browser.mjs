/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). chromium.launch gives
 * every run a fresh temporary profile (user-data-dir) that it deletes on close.
 */
import { chromium } from "playwright-core";

import { count, Drift, validateResponse } from "./schemas.mjs";

export const CHROMIUM = process.env.E2E_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30000 });
}

/**
 * A page at `origin`, signed in (token in sessionStorage) unless signedIn is false. Every JSON
 * answer of the API that the page receives is validated against the schemas; a mismatch, an
 * uncaught page error or a console error fails the test that reads `page.problems`.
 */
export async function openPage(browser, origin, { token, viewport = { width: 1280, height: 800 }, colorScheme = "light" } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, baseURL: origin });
  if (token) {
    await context.addInitScript((t) => {
      if (!sessionStorage.getItem("launchpad-token") && !sessionStorage.getItem("e2e-signed-out")) {
        sessionStorage.setItem("launchpad-token", t);
      }
    }, token);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  page.on("response", async (res) => {
    const url = new URL(res.url());
    if (url.origin !== new URL(origin).origin) return;
    if (!/^\/(api|healthz)/.test(url.pathname)) return;
    const ct = res.headers()["content-type"] ?? "";
    if (!ct.includes("application/json")) return;
    try {
      const body = await res.json();
      count(await validateResponse(res.request().method(), res.url(), res.status(), body));
    } catch (e) {
      // a body the page navigated away from cannot be read: that is not drift
      if (e instanceof Drift) page.problems.push(e.message);
    }
  });
  return { context, page };
}

/** Fails when the page logged drift or errors. */
export function assertNoProblems(page) {
  if (page.problems.length) throw new Error(`problems in the page:\n${page.problems.join("\n")}`);
}
