/** The /new form: what it holds and its client-side checks. */
import type { CreateField, FieldErrors } from "./formErrors";
import {
  validateBranch,
  validateBuildCommand,
  validateEnvRows,
  validateName,
  validateOutputDir,
  validateRepoUrl,
  type EnvRow,
} from "./validation";
import type { Picked } from "./zip";

export type Source = "upload" | "git";

/** A name suggestion from a file or folder name: a DNS label. */
export function suggestName(fileName: string): string {
  return fileName
    .replace(/\.(zip|tar\.gz|tgz)$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

export interface CreateForm {
  source: Source;
  name: string;
  picked: Picked | null;
  repoUrl: string;
  branch: string;
  buildCmd: string;
  outputDir: string;
  envRows: EnvRow[];
}

/** Every client-side problem of the form, per field. */
export function validateCreate(f: CreateForm): FieldErrors<CreateField> {
  const e: FieldErrors<CreateField> = {};
  const put = (k: CreateField, v: string | null) => {
    if (v) e[k] = v;
  };
  put("name", validateName(f.name));
  if (f.source === "upload") {
    if (!f.picked || f.picked.kind === "empty") e.file = "Choose or drop an archive or a folder.";
    else if (f.picked.kind === "folder" && f.picked.files.length === 0) e.file = "The folder is empty.";
  } else {
    put("repoUrl", validateRepoUrl(f.repoUrl.trim()));
    put("branch", validateBranch(f.branch.trim()));
  }
  put("buildCmd", validateBuildCommand(f.buildCmd));
  put("outputDir", validateOutputDir(f.outputDir.trim()));
  const env = validateEnvRows(f.envRows);
  if (env.general) e.env = env.general;
  else if (Object.keys(env.rows).length) e.env = "Fix the variables marked above.";
  return e;
}
