/**
 * The dashboard's zod schemas (src/api/schema.ts, the one source of truth), loaded into Node
 * through Vite, and the map from an API route to the schema its answer must match. Every response
 * the tests see, from their own calls and from the browser's, is checked here: when the C server
 * and the dashboard drift, a test fails.
 */
import { appendFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

let loaded = null;
export async function loadSchemas() {
  loaded ??= runnerImport(path.join(root, "src/api/schema.ts"), { configFile: false, root, logLevel: "silent" }).then(
    (r) => r.module,
  );
  return loaded;
}

/** [method, path regexp, ok-schema name]; a non-2xx JSON answer must match errorBodySchema. */
const ROUTES = [
  ["GET", /^\/api\/deployments$/, "deploymentListSchema"],
  ["POST", /^\/api\/deployments$/, "deploymentSchema"],
  ["GET", /^\/api\/deployments\/[^/]+$/, "deploymentSchema"],
  ["PUT", /^\/api\/deployments\/[^/]+$/, "deploymentSchema"],
  ["DELETE", /^\/api\/deployments\/[^/]+$/, "deploymentSchema"],
  ["POST", /^\/api\/deployments\/[^/]+\/redeploy$/, "deploymentSchema"],
  ["POST", /^\/api\/deployments\/[^/]+\/rollback$/, "deploymentSchema"],
  ["POST", /^\/api\/deployments\/[^/]+\/archive$/, "deploymentSchema"],
  ["GET", /^\/api\/deployments\/[^/]+\/revisions$/, "revisionListSchema"],
  ["GET", /^\/api\/deployments\/[^/]+\/events$/, "eventListSchema"],
  ["GET", /^\/api\/deployments\/[^/]+\/webhook$/, "webhookInfoSchema"],
  ["GET", /^\/api\/deployments\/[^/]+\/metrics$/, "siteMetricsSchema"],
  ["POST", /^\/api\/login$/, "loginResponseSchema"],
  ["POST", /^\/api\/users$/, "userSchema"],
  ["GET", /^\/api\/me$/, "userSchema"],
  ["GET", /^\/healthz$/, "healthSchema"],
];

export function schemaNameFor(method, pathname, status, search = "") {
  if (status === 204) return null;
  if (status >= 400) return "errorBodySchema";
  // ?limit= or ?continue= turns the list into one page of it (docs/api.md)
  if (method === "GET" && pathname === "/api/deployments" && /[?&](limit|continue)=/.test(search)) return "deploymentPageSchema";
  for (const [m, re, name] of ROUTES) if (m === method && re.test(pathname)) return name;
  return null;
}

export class Drift extends Error {}

/** Throws Drift when `body` (parsed JSON) does not match the route's schema. */
export async function validateResponse(method, url, status, body) {
  const { pathname, search } = new URL(url, "http://x");
  const name = schemaNameFor(method, pathname, status, search);
  if (!name) return null;
  const schemas = await loadSchemas();
  const r = schemas[name].safeParse(body);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).slice(0, 5);
    throw new Drift(`${method} ${pathname} → ${status} does not match ${name}: ${issues.join("; ")}`);
  }
  return name;
}

/** Counts of what was checked, for the summary. */
export const checked = { responses: 0, bySchema: {} };

// each test file runs in its own process: it leaves its counts for the runner to add up
if (process.env.E2E_COUNTS) {
  process.on("exit", () => {
    if (checked.responses === 0) return;
    appendFileSync(`${process.env.E2E_COUNTS}.schemas`, `${JSON.stringify(checked)}\n`);
  });
}
export function count(name) {
  if (!name) return;
  checked.responses++;
  checked.bySchema[name] = (checked.bySchema[name] ?? 0) + 1;
}
