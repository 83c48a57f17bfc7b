import { describe, expect, it } from "vitest";
import { strFromU8, unzipSync } from "fflate";

import { archiveFor, isArchiveName, isIgnoredPath, pickedFromDataTransfer, pickedFromFileList, stripCommonRoot, zipFiles } from "./zip";

function fileWithPath(name: string, text: string, rel = ""): File {
  const f = new File([text], name);
  if (rel) Object.defineProperty(f, "webkitRelativePath", { value: rel });
  return f;
}

async function unzipBlob(b: Blob): Promise<Record<string, string>> {
  const files = unzipSync(new Uint8Array(await b.arrayBuffer()));
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strFromU8(v)]));
}

describe("what was picked", () => {
  it("recognises archives", () => {
    expect(isArchiveName("site.zip")).toBe(true);
    expect(isArchiveName("site.TAR.GZ")).toBe(true);
    expect(isArchiveName("site.tgz")).toBe(true);
    expect(isArchiveName("site.tar")).toBe(false);
    expect(isArchiveName("index.html")).toBe(false);
  });

  it("sends a single archive as it is", async () => {
    const zip = fileWithPath("site.zip", "PK..");
    const p = pickedFromFileList([zip]);
    expect(p).toEqual({ kind: "archive", file: zip });
    const a = await archiveFor(p);
    expect(a.blob).toBe(zip);
    expect(a.fileName).toBe("site.zip");
  });

  it("takes a folder from a webkitdirectory input, relative to the folder, without junk", () => {
    const p = pickedFromFileList([
      fileWithPath("index.html", "<h1>hi</h1>", "my-site/index.html"),
      fileWithPath("app.css", "body{}", "my-site/css/app.css"),
      fileWithPath(".DS_Store", "junk", "my-site/.DS_Store"),
      fileWithPath("HEAD", "ref", "my-site/.git/HEAD"),
      fileWithPath("x.js", "x", "my-site/node_modules/x/x.js"),
    ]);
    expect(p.kind).toBe("folder");
    if (p.kind !== "folder") return;
    expect(p.name).toBe("my-site");
    expect(p.files.map((f) => f.path).sort()).toEqual(["css/app.css", "index.html"]);
  });

  it("ignores the usual junk", () => {
    expect(isIgnoredPath("a/.git/config")).toBe(true);
    expect(isIgnoredPath("__MACOSX/x")).toBe(true);
    expect(isIgnoredPath("a/Thumbs.db")).toBe(true);
    expect(isIgnoredPath("a/.gitignore")).toBe(false);
    expect(isIgnoredPath(".well-known/x")).toBe(false);
  });

  it("strips a common root only when every path has it", () => {
    const f = new Blob([]);
    expect(stripCommonRoot([{ path: "a/x", file: f }, { path: "a/y/z", file: f }]).files.map((x) => x.path)).toEqual(["x", "y/z"]);
    expect(stripCommonRoot([{ path: "a/x", file: f }, { path: "b/y", file: f }]).root).toBe("");
    expect(stripCommonRoot([{ path: "x", file: f }]).root).toBe("");
  });
});

describe("zipping a folder in the browser", () => {
  it("zips the files with their paths, byte for byte", async () => {
    const bytes = await zipFiles([
      { path: "index.html", file: new Blob(["<h1>hello</h1>"]) },
      { path: "assets/app.js", file: new Blob(["console.log(1)"]) },
      { path: "empty.txt", file: new Blob([]) },
    ]);
    expect(bytes[0]).toBe(0x50); // "PK"
    expect(bytes[1]).toBe(0x4b);
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(["assets/app.js", "empty.txt", "index.html"]);
    expect(strFromU8(files["index.html"]!)).toBe("<h1>hello</h1>");
  });

  it("names the archive after the folder", async () => {
    const p = pickedFromFileList([fileWithPath("index.html", "hi", "portfolio/index.html")]);
    const a = await archiveFor(p);
    expect(a.fileName).toBe("portfolio.zip");
    expect(a.blob.type).toBe("application/zip");
    expect(await unzipBlob(a.blob)).toEqual({ "index.html": "hi" });
  });

  it("refuses an empty folder", async () => {
    await expect(archiveFor({ kind: "folder", name: "x", files: [] })).rejects.toThrow("empty");
  });

  it("walks a dropped directory (File and Directory Entries API)", async () => {
    type Entry = { isFile: boolean; isDirectory: boolean; name: string; file?: (ok: (f: File) => void) => void; createReader?: () => unknown };
    const fileEntry = (name: string, text: string): Entry => ({
      isFile: true,
      isDirectory: false,
      name,
      file: (ok) => ok(new File([text], name)),
    });
    const dirEntry = (name: string, children: Entry[]): Entry => ({
      isFile: false,
      isDirectory: true,
      name,
      createReader: () => {
        let done = false;
        return {
          readEntries: (ok: (e: Entry[]) => void) => {
            ok(done ? [] : children);
            done = true;
          },
        };
      },
    });
    const root = dirEntry("site", [fileEntry("index.html", "<p>root</p>"), dirEntry("sub", [fileEntry("a.txt", "A")]), dirEntry(".git", [fileEntry("HEAD", "x")])]);
    const dt = {
      items: [{ kind: "file", webkitGetAsEntry: () => root }],
      files: [],
    } as unknown as DataTransfer;
    const p = await pickedFromDataTransfer(dt);
    expect(p.kind).toBe("folder");
    if (p.kind !== "folder") return;
    expect(p.name).toBe("site");
    expect(p.files.map((f) => f.path).sort()).toEqual(["index.html", "sub/a.txt"]);
    const a = await archiveFor(p);
    expect(await unzipBlob(a.blob)).toEqual({ "index.html": "<p>root</p>", "sub/a.txt": "A" });
  });

  it("falls back to the files of a drop without entries (a synthetic DataTransfer)", async () => {
    const zip = new File(["PK"], "site.zip");
    const dt = { items: [{ kind: "file", webkitGetAsEntry: () => null }], files: [zip] } as unknown as DataTransfer;
    await expect(pickedFromDataTransfer(dt)).resolves.toEqual({ kind: "archive", file: zip });
  });
});
