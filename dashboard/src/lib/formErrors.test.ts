import { describe, expect, it } from "vitest";

import { ApiError, NetworkError } from "@/api/client";
import { mapApiError, matchConfigPath, matchCreatePath } from "./formErrors";

describe("API errors beside their fields", () => {
  it("maps details paths, seed fields and manifest paths alike", () => {
    const e = new ApiError(400, "invalid", "invalid deployment", [
      { path: "spec.build.outputDir", message: "must not contain '..'" },
      { path: "github_url", message: "must be https" },
      { path: "slug", message: "slug must be a DNS label" },
      { path: "spec.build.env.1X", message: "bad name" },
    ]);
    expect(mapApiError(e, matchCreatePath)).toEqual({
      outputDir: "must not contain '..'",
      repoUrl: "must be https",
      name: "slug must be a DNS label",
      env: "bad name",
    });
  });

  it("shows what no field claims as a form error", () => {
    const e = new ApiError(400, "invalid", "invalid manifest", [
      { path: "spec.revisionHistoryLimit", message: "must be between 1 and 100 (got 0)" },
      { path: "spec.weird", message: "unknown field" },
      { message: "syntax error" },
    ]);
    expect(mapApiError(e, matchConfigPath)).toEqual({
      historyLimit: "must be between 1 and 100 (got 0)",
      form: "spec.weird: unknown field\nsyntax error",
    });
  });

  it("maps an error without details by its code or by the field its message names", () => {
    expect(mapApiError(new ApiError(409, "already_exists", 'a deployment named "x" already exists'), matchCreatePath, { already_exists: "name" })).toEqual({
      name: 'a deployment named "x" already exists',
    });
    expect(mapApiError(new ApiError(400, "invalid", "github_url is required"), matchCreatePath)).toEqual({ repoUrl: "github_url is required" });
    expect(mapApiError(new ApiError(400, "invalid", 'field "branch" has the wrong type'), matchCreatePath)).toEqual({
      branch: 'field "branch" has the wrong type',
    });
    expect(mapApiError(new ApiError(503, "unavailable", "store busy"), matchCreatePath)).toEqual({ form: "store busy" });
  });

  it("puts other failures on the form", () => {
    expect(mapApiError(new NetworkError(), matchCreatePath).form).toContain("cannot be reached");
  });
});
