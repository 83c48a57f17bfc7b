import { describe, expect, it } from "vitest";

import { validateCreate, suggestName } from "./createForm";
import {
  envRowsFromObject,
  envRowsToObject,
  validateBranch,
  validateEnvName,
  validateEnvRows,
  validateName,
  validateOutputDir,
  validateRepoUrl,
} from "./validation";

describe("site name: a DNS label", () => {
  it.each(["a", "my-site", "site1", "0", "a-b-c", "x".repeat(63)])("accepts %s", (n) => {
    expect(validateName(n)).toBeNull();
  });
  it.each([
    ["", "required"],
    ["x".repeat(64), "63"],
    ["My-Site", "lowercase"],
    ["my_site", "a–z"],
    ["my site", "a–z"],
    ["-site", "start and end"],
    ["site-", "start and end"],
    ["café", "a–z"],
  ])("refuses %j (%s)", (n, why) => {
    expect(validateName(n)).toContain(why);
  });
});

describe("repository URL", () => {
  it.each(["https://github.com/user/repo", "https://git.example.com:8443/a/b.git", "http://127.0.0.1/x", "file:///tmp/repo"])(
    "accepts %s",
    (u) => expect(validateRepoUrl(u)).toBeNull(),
  );
  it.each([
    ["", "required"],
    ["github.com/user/repo", "https://"],
    ["ftp://host/x", "https://"],
    ["https://user:pw@github.com/x", "credentials"],
    ["https:///x", "host"],
    ["https://github.com/user/my repo", "spaces"],
    ["file://", "https://"],
    [`https://h/${"x".repeat(2050)}`, "2048"],
  ])("refuses %j", (u, why) => expect(validateRepoUrl(u)).toContain(why));
});

describe("output directory: relative, no ..", () => {
  it.each(["", ".", "dist", "build/out", "./dist", "a..b"])("accepts %j", (p) => expect(validateOutputDir(p)).toBeNull());
  it.each([
    ["/dist", "relative"],
    ["../x", ".."],
    ["a/../b", ".."],
    ["..", ".."],
    ["a\\b", "'/'"],
    ["a\u0001b", "control"],
    ["x".repeat(1025), "1024"],
  ])("refuses %j", (p, why) => expect(validateOutputDir(p)).toContain(why));
});

describe("branch", () => {
  it.each(["", "main", "release/1.0", "feature-x"])("accepts %j", (b) => expect(validateBranch(b)).toBeNull());
  it.each(["a..b", "-x", "x/", "x.lock", "a b", "a~b", "a@{b", "a//b"])("refuses %j", (b) => expect(validateBranch(b)).not.toBeNull());
});

describe("environment variables", () => {
  it("checks names", () => {
    expect(validateEnvName("NODE_ENV")).toBeNull();
    expect(validateEnvName("_x1")).toBeNull();
    expect(validateEnvName("1X")).not.toBeNull();
    expect(validateEnvName("A-B")).not.toBeNull();
    expect(validateEnvName("")).not.toBeNull();
  });

  it("flags bad and duplicate rows, ignores blank ones", () => {
    const rows = [
      { id: 1, key: "A", value: "1" },
      { id: 2, key: "A", value: "2" },
      { id: 3, key: "", value: "" },
      { id: 4, key: "9", value: "x" },
    ];
    const r = validateEnvRows(rows);
    expect(Object.keys(r.rows).map(Number)).toEqual([2, 4]);
    expect(r.general).toBeNull();
    expect(validateEnvRows(Array.from({ length: 101 }, (_, i) => ({ id: i, key: `K${i}`, value: "" }))).general).toContain("100");
  });

  it("round-trips rows and objects", () => {
    const rows = envRowsFromObject({ A: "1", B: "two" });
    expect(rows.map((r) => [r.key, r.value])).toEqual([
      ["A", "1"],
      ["B", "two"],
    ]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2);
    expect(envRowsToObject([...rows, { id: 99, key: "", value: "ignored" }])).toEqual({ A: "1", B: "two" });
  });
});

describe("the /new form", () => {
  const base = {
    source: "git" as const,
    name: "my-site",
    picked: null,
    repoUrl: "https://github.com/u/r",
    branch: "",
    buildCmd: "",
    outputDir: "",
    envRows: [],
  };

  it("is valid when complete", () => {
    expect(validateCreate(base)).toEqual({});
  });

  it("puts each problem on its field", () => {
    const e = validateCreate({ ...base, name: "Bad Name", repoUrl: "nope", outputDir: "../x", branch: "a..b" });
    expect(Object.keys(e).sort()).toEqual(["branch", "name", "outputDir", "repoUrl"]);
  });

  it("needs a file for an upload, not a URL", () => {
    const e = validateCreate({ ...base, source: "upload", repoUrl: "" });
    expect(e.file).toBeDefined();
    expect(e.repoUrl).toBeUndefined();
  });

  it("suggests a DNS-label name from a file name", () => {
    expect(suggestName("My Site.zip")).toBe("my-site");
    expect(suggestName("portfolio_v2.tar.gz")).toBe("portfolio-v2");
    expect(suggestName("___")).toBe("");
  });
});
