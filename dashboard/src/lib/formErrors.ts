/**
 * The API's validation errors name the field they concern (`details[].path`: a seed field such as
 * `github_url`, or a manifest path such as `spec.build.outputDir`). These maps put each message
 * beside its field; what no field claims is shown as a form-level error.
 */
import { ApiError } from "@/api/client";

export type FieldErrors<K extends string> = Partial<Record<K, string>> & { form?: string };

export type PathMatcher<K extends string> = (path: string) => K | null;

/**
 * Spread an error over the form's fields. `details[].path` decides; an error without details is
 * matched by its code (409 already_exists concerns the name) or by the seed field its message
 * starts with ("github_url is required", 'field "branch" has the wrong type').
 */
export function mapApiError<K extends string>(
  err: unknown,
  match: PathMatcher<K>,
  codeField: Partial<Record<string, K>> = {},
): FieldErrors<K> {
  const out: FieldErrors<K> = {};
  if (!(err instanceof ApiError)) {
    out.form = err instanceof Error ? err.message : String(err);
    return out;
  }
  const put = (field: K, message: string) => {
    const prev = out[field];
    (out as Partial<Record<K, string>>)[field] = (prev ? `${prev} ` : "") + message;
  };
  if (err.details.length > 0) {
    const unmapped: string[] = [];
    for (const d of err.details) {
      const field = d.path ? match(d.path) : null;
      if (field) put(field, d.message);
      else unmapped.push(d.path ? `${d.path}: ${d.message}` : d.message);
    }
    if (unmapped.length) out.form = unmapped.join("\n");
    return out;
  }
  const byCode = codeField[err.code];
  const named = /^(?:field "([a-z_]+)"|([a-z_]+) )/.exec(err.message);
  const byMessage = named ? match(named[1] ?? named[2] ?? "") : null;
  if (byCode) put(byCode, err.message);
  else if (byMessage) put(byMessage, err.message);
  else out.form = err.message;
  return out;
}

export type CreateField = "name" | "repoUrl" | "branch" | "buildCmd" | "outputDir" | "env" | "file" | "autoDeploy";

export const matchCreatePath: PathMatcher<CreateField> = (path) => {
  if (path === "name" || path === "slug" || path === "metadata.name") return "name";
  if (path === "github_url" || path.startsWith("spec.source.git.url") || path === "spec.source") return "repoUrl";
  if (path === "branch" || path === "spec.source.git.branch") return "branch";
  if (path === "build_cmd" || path === "spec.build.command") return "buildCmd";
  if (path === "output_dir" || path === "spec.build.outputDir") return "outputDir";
  if (path === "env_vars" || path.startsWith("spec.build.env")) return "env";
  if (path === "file" || path.startsWith("spec.source.archive")) return "file";
  if (path === "auto_deploy" || path === "spec.autoDeploy") return "autoDeploy";
  return null;
};

export type ConfigField =
  | "repoUrl"
  | "branch"
  | "buildCmd"
  | "outputDir"
  | "image"
  | "timeout"
  | "env"
  | "autoDeploy"
  | "spa"
  | "notFoundPage"
  | "historyLimit";

export const matchConfigPath: PathMatcher<ConfigField> = (path) => {
  if (path.startsWith("spec.source.git.url")) return "repoUrl";
  if (path.startsWith("spec.source.git.branch")) return "branch";
  if (path === "spec.build.command") return "buildCmd";
  if (path === "spec.build.outputDir") return "outputDir";
  if (path === "spec.build.image") return "image";
  if (path === "spec.build.timeoutSeconds") return "timeout";
  if (path.startsWith("spec.build.env")) return "env";
  if (path === "spec.autoDeploy") return "autoDeploy";
  if (path === "spec.serve.spa") return "spa";
  if (path === "spec.serve.notFoundPage") return "notFoundPage";
  if (path === "spec.revisionHistoryLimit") return "historyLimit";
  return null;
};
