/**
 * The configuration form of a site, to and from its Site manifest (docs/site-spec.md). The
 * dashboard only edits desired state: it PUTs the whole manifest with If-Match.
 */
import type { RunSpec, SiteManifest } from "@/api/schema";
import type { ConfigField, FieldErrors } from "./formErrors";
import {
  envRowsFromObject,
  envRowsToObject,
  validateBranch,
  validateBuildCommand,
  validateEnvRows,
  validateOutputDir,
  validateRelativePath,
  validateRepoUrl,
  type EnvRow,
} from "./validation";

/** What the PUT route takes: a manifest whose defaults may be left out. */
export interface ManifestInput {
  apiVersion: "launchpad.dev/v1";
  kind: "Site";
  metadata: { name: string };
  spec: {
    source: { git: { url: string; branch?: string } } | { archive: { digest: string } };
    build?: {
      image?: string;
      command?: string;
      outputDir?: string;
      env?: Record<string, string>;
      timeoutSeconds?: number | string;
    };
    autoDeploy: boolean;
    serve: { spa: boolean; notFoundPage?: string; httpsRedirect?: boolean; hsts?: boolean };
    revisionHistoryLimit: number | string;
    domains?: string[];
    run?: RunSpec;
  };
}

export interface ConfigForm {
  kind: "git" | "archive";
  repoUrl: string;
  branch: string;
  digest: string;
  buildCmd: string;
  outputDir: string;
  image: string;
  timeout: string;
  envRows: EnvRow[];
  autoDeploy: boolean;
  spa: boolean;
  notFoundPage: string;
  historyLimit: string;
  /* Not edited here (the manifest is), but a save must keep them. */
  domains: string[];
  httpsRedirect: boolean;
  hsts: boolean;
  /* a dynamic app's spec.run (issue 18), kept as it is: dropping it would turn the app static */
  run?: RunSpec;
}

export function formFromManifest(m: SiteManifest): ConfigForm {
  const s = m.spec;
  const git = "git" in s.source ? s.source.git : null;
  return {
    kind: git ? "git" : "archive",
    repoUrl: git?.url ?? "",
    branch: git?.branch ?? "",
    digest: "archive" in s.source ? s.source.archive.digest : "",
    buildCmd: s.build?.command ?? "",
    outputDir: s.build?.outputDir ?? "",
    image: s.build?.image ?? "",
    timeout: String(s.build?.timeoutSeconds ?? 900),
    envRows: envRowsFromObject(s.build?.env),
    autoDeploy: s.autoDeploy,
    spa: s.serve.spa,
    notFoundPage: s.serve.notFoundPage ?? "",
    historyLimit: String(s.revisionHistoryLimit),
    domains: s.domains ?? [],
    httpsRedirect: s.serve.httpsRedirect ?? false,
    hsts: s.serve.hsts ?? false,
    ...(s.run ? { run: s.run } : {}),
  };
}

/** A whole number as a number; anything else as typed, for the server to refuse with a path. */
function intOrText(t: string): number | string {
  const v = t.trim();
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

export function manifestFromForm(name: string, f: ConfigForm): ManifestInput {
  const cmd = f.buildCmd.trim();
  const out = f.outputDir.trim();
  const hasBuild = cmd !== "" || (out !== "" && out !== "." && out !== "./");
  const build: NonNullable<ManifestInput["spec"]["build"]> = {};
  if (hasBuild) {
    if (f.image.trim()) build.image = f.image.trim();
    if (cmd) build.command = f.buildCmd;
    if (out) build.outputDir = out;
    build.env = envRowsToObject(f.envRows);
    build.timeoutSeconds = intOrText(f.timeout || "900");
  }
  return {
    apiVersion: "launchpad.dev/v1",
    kind: "Site",
    metadata: { name },
    spec: {
      source:
        f.kind === "git"
          ? { git: { url: f.repoUrl.trim(), ...(f.branch.trim() ? { branch: f.branch.trim() } : {}) } }
          : { archive: { digest: f.digest } },
      ...(hasBuild ? { build } : {}),
      autoDeploy: f.autoDeploy,
      serve: {
        spa: f.spa,
        ...(f.notFoundPage.trim() ? { notFoundPage: f.notFoundPage.trim() } : {}),
        ...(f.httpsRedirect ? { httpsRedirect: true } : {}),
        ...(f.hsts ? { hsts: true } : {}),
      },
      revisionHistoryLimit: intOrText(f.historyLimit),
      ...(f.domains.length ? { domains: f.domains } : {}),
      ...(f.run ? { run: f.run } : {}),
    },
  };
}

/** Canonical text for "has the user changed anything" (key order fixed, defaults filled in). */
export function formKey(f: ConfigForm): string {
  const m = manifestFromForm("x", f);
  const b = m.spec.build;
  return JSON.stringify([
    m.spec.source,
    b ? [b.image ?? "", b.command ?? "", b.outputDir ?? "dist", Object.entries(b.env ?? {}).sort(), b.timeoutSeconds] : null,
    m.spec.autoDeploy,
    m.spec.serve.spa,
    m.spec.serve.notFoundPage ?? "",
    m.spec.revisionHistoryLimit,
    m.spec.domains ?? [],
    m.spec.serve.httpsRedirect ?? false,
    m.spec.serve.hsts ?? false,
  ]);
}

function wholeNumber(t: string): string | null {
  return /^\s*-?\d+\s*$/.test(t) ? null : "A whole number is required.";
}

/** Client-side checks of the form; ranges are left to the server, whose answer names the field. */
export function validateConfig(f: ConfigForm): FieldErrors<ConfigField> {
  const e: FieldErrors<ConfigField> = {};
  const put = (k: ConfigField, v: string | null) => {
    if (v) e[k] = v;
  };
  if (f.kind === "git") {
    put("repoUrl", validateRepoUrl(f.repoUrl.trim()));
    put("branch", validateBranch(f.branch.trim()));
  }
  put("buildCmd", validateBuildCommand(f.buildCmd));
  put("outputDir", validateOutputDir(f.outputDir.trim()));
  put("notFoundPage", validateRelativePath(f.notFoundPage.trim(), "The not-found page"));
  put("timeout", wholeNumber(f.timeout));
  put("historyLimit", wholeNumber(f.historyLimit));
  const env = validateEnvRows(f.envRows);
  if (env.general) e.env = env.general;
  else if (Object.keys(env.rows).length) e.env = "Fix the variables marked above.";
  return e;
}
