/** Steps the browser tests share: signing in, deploying through the UI, waiting for states. */
import assert from "node:assert/strict";

import { waitFor } from "./util.mjs";

export async function signIn(page, token) {
  await page.goto("/signin");
  await page.getByRole("textbox", { name: "API token" }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sites", exact: true }).waitFor();
}

/** The status text of the site on its detail page (live, deploying, failed). */
export async function detailStatus(page) {
  return (await page.getByTestId("status").first().getAttribute("data-status")) ?? "";
}

/** Wait on the detail page until the site is `status` and serves `revision` (when given). */
export async function waitDetail(page, api, name, { status = "live", revision, timeout = 60000 } = {}) {
  await waitFor(
    async () => {
      const s = await api.get(name);
      if (s.status === "failed" && status !== "failed") throw new Error(`${name} failed: ${s.message}`);
      return s.status === status && (revision === undefined || s.current_revision === revision) && s.desired_revision === s.current_revision;
    },
    { timeout, what: `${name} ${status}${revision ? ` at revision ${revision}` : ""} (API)` },
  );
  // the page polls by itself: the badge follows without a reload
  await waitFor(async () => (await detailStatus(page)) === status, { timeout: 10000, what: `the page to show ${status}` });
}

/** The text of every line in the Build log region. */
export async function logLines(page) {
  return page.getByRole("region", { name: "Build log" }).getByTestId("log-lines").locator("> div").allInnerTexts();
}

/** Fill the env editor of a form (prefix "" = the only one on the page). */
export async function setEnvVar(page, index, key, value) {
  const name = page.getByRole("textbox", { name: `Variable ${index} name` });
  if ((await name.count()) === 0) await page.getByRole("button", { name: "Add variable" }).click();
  await name.fill(key);
  await page.getByRole("textbox", { name: `Variable ${index} value` }).fill(value);
}

export function assertOnce(lines, needle) {
  const n = lines.filter((l) => l.includes(needle)).length;
  assert.equal(n, 1, `"${needle}" appears ${n} times in the log:\n${lines.join("\n")}`);
}

/** The error text shown beside a field (its aria-describedby), with aria-invalid set. */
export async function fieldError(page, label, { role = "textbox" } = {}) {
  const field = page.getByRole(role, { name: label, exact: true });
  await waitFor(async () => (await field.getAttribute("aria-invalid")) === "true", { timeout: 10000, what: `${label} to be marked invalid` });
  const ids = ((await field.getAttribute("aria-describedby")) ?? "").split(/\s+/).filter(Boolean);
  const texts = [];
  for (const id of ids) texts.push(await page.locator(`[id="${id}"]`).innerText());
  return texts.join(" ");
}

/** Drop files onto the drop zone the way a browser does (a synthetic DataTransfer). */
export async function dropFiles(page, files) {
  const payload = files.map((f) => ({ name: f.name, type: f.type ?? "", b64: Buffer.from(f.bytes).toString("base64") }));
  await page.getByTestId("drop-zone").evaluate((zone, items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bin = Uint8Array.from(atob(it.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], it.name, { type: it.type }));
    }
    for (const type of ["dragenter", "dragover", "drop"]) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, payload);
}
