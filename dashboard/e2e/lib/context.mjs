/** What e2e/run.mjs set up for the test files: the platform, the dashboard's origin, paths. */
import { readFileSync } from "node:fs";

export function e2eContext() {
  const file = process.env.E2E_CONTEXT;
  if (!file) throw new Error("run the browser tests with npm run e2e (E2E_CONTEXT is not set)");
  return JSON.parse(readFileSync(file, "utf8"));
}
