/**
 * Client-side checks with the same rules as the server (docs/site-spec.md). They give an answer
 * before a round trip; the server stays the authority and its errors are shown beside the field too.
 * Which names are reserved is the installation's (--reserved-names): only the server knows.
 */

export type Check = string | null;

/** A site name is its slug and subdomain: a DNS label. */
export function validateName(name: string): Check {
  if (name === "") return "A name is required.";
  if (name.length > 63) return "At most 63 characters.";
  if (/[A-Z]/.test(name)) return "Use lowercase letters only.";
  if (!/^[a-z0-9-]+$/.test(name)) return "Only lowercase letters a–z, digits and '-'.";
  if (name.startsWith("-") || name.endsWith("-")) return "Must start and end with a letter or a digit.";
  return null;
}

/** A repository URL the platform can clone: https://host/..., or http:// / file:/// where allowed. */
export function validateRepoUrl(url: string): Check {
  if (url === "") return "A repository URL is required.";
  if (url.length > 2048) return "At most 2048 characters.";
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return "No spaces or control characters.";
  if (url.startsWith("file:///")) return url.length > "file:///".length ? null : "A file:// URL needs an absolute path.";
  const m = /^(https?):\/\/([^/?#]*)(.*)$/.exec(url);
  if (!m) return "Use an https:// URL (for example https://github.com/user/repo).";
  const authority = m[2] ?? "";
  if (authority.includes("@")) return "No credentials in the URL (user@host).";
  if (authority === "" || !/^[A-Za-z0-9.-]+(:\d+)?$/.test(authority)) return "The URL needs a host name.";
  return null;
}

/** A git branch name, by `git check-ref-format --branch` rules. Empty means the default (main). */
export function validateBranch(branch: string): Check {
  if (branch === "") return null;
  if (branch.length > 255) return "At most 255 characters.";
  // eslint-disable-next-line no-control-regex
  if (/[\s~^:?*[\\\u0000-\u001f\u007f]/.test(branch)) return "No spaces or any of ~ ^ : ? * [ \\.";
  if (branch.includes("..") || branch.includes("@{") || branch.includes("//")) return "No '..', '@{' or '//'.";
  if (/^[-./]/.test(branch)) return "Cannot start with '-', '.' or '/'.";
  if (/[/.]$/.test(branch) || branch.endsWith(".lock")) return "Cannot end with '/', '.' or '.lock'.";
  return null;
}

/** A path inside the source: relative, no '..' component, no backslash. Empty means the default. */
export function validateRelativePath(p: string, what = "The output directory"): Check {
  if (p === "") return null;
  if (p.length > 1024) return "At most 1024 characters.";
  if (p.startsWith("/")) return `${what} must be relative (no leading '/').`;
  if (p.includes("\\")) return "Use '/' to separate folders, not '\\'.";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return "No control characters.";
  if (p.split("/").includes("..")) return `${what} cannot leave the source ('..').`;
  return null;
}

export function validateOutputDir(p: string): Check {
  return validateRelativePath(p, "The output directory");
}

export function validateBuildCommand(cmd: string): Check {
  if (cmd.length > 8192) return "At most 8192 bytes.";
  return null;
}

export function validateEnvName(name: string): Check {
  if (name === "") return "A variable needs a name.";
  if (name.length > 256) return "At most 256 characters.";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return "Letters, digits and '_', not starting with a digit.";
  return null;
}

export interface EnvRow {
  id: number;
  key: string;
  value: string;
}

/** Errors per row id; plus a general one (too many). Blank rows are ignored. */
export function validateEnvRows(rows: readonly EnvRow[]): { rows: Record<number, string>; general: Check } {
  const out: Record<number, string> = {};
  const seen = new Map<string, number>();
  const used = rows.filter((r) => r.key !== "" || r.value !== "");
  for (const r of used) {
    const e = validateEnvName(r.key);
    if (e) out[r.id] = e;
    else if (seen.has(r.key)) out[r.id] = `"${r.key}" is already set above.`;
    else if (r.value.length > 4096) out[r.id] = "A value is at most 4096 bytes.";
    seen.set(r.key, r.id);
  }
  return { rows: out, general: used.length > 100 ? "At most 100 variables." : null };
}

export function envRowsToObject(rows: readonly EnvRow[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const r of rows) if (r.key !== "") o[r.key] = r.value;
  return o;
}

let nextEnvId = 1;
export function envRowsFromObject(env: Record<string, string> | undefined): EnvRow[] {
  return Object.entries(env ?? {}).map(([key, value]) => ({ id: nextEnvId++, key, value }));
}
export function newEnvRow(): EnvRow {
  return { id: nextEnvId++, key: "", value: "" };
}

/** An integer within [min, max] from a text field; the message otherwise. */
export function parseIntIn(text: string, min: number, max: number): { value: number | null; error: Check } {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return { value: null, error: "A whole number is required." };
  const n = Number(t);
  if (n < min || n > max) return { value: n, error: `Between ${min} and ${max}.` };
  return { value: n, error: null };
}
