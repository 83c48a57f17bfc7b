import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { zipSync, strToU8 } from "fflate";

export const run = promisify(execFile);

/** Poll `fn` until it returns a truthy value; a bounded wait with a message saying what failed. */
export async function waitFor(fn, { timeout = 30000, interval = 250, what = "condition" } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeout) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A zip of {path: text}. */
export function makeZip(files) {
  const tree = {};
  for (const [p, text] of Object.entries(files)) tree[p] = strToU8(text);
  return zipSync(tree);
}

export function tempDir(prefix = "lp-dash-e2e-") {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write {relative path: text} under dir. */
export function writeTree(dir, files) {
  for (const [p, text] of Object.entries(files)) {
    const f = path.join(dir, p);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  return dir;
}

/** A unique, valid site name for this run. */
let n = 0;
export function siteName(base) {
  const suffix = `${process.pid.toString(36)}${(n++).toString(36)}`;
  return `${base}-${suffix}`.slice(0, 63);
}
