/**
 * What a user drops or picks on /new becomes one archive to upload: a .zip or .tar.gz is sent as
 * it is; a folder (or loose files) is zipped in the browser with fflate first.
 */
import { zip as zipAsync, zipSync, type Zippable } from "fflate";

export interface PickedFile {
  /** The path inside the archive, '/'-separated, relative to the dropped folder. */
  path: string;
  file: Blob;
}

export type Picked =
  | { kind: "archive"; file: File }
  | { kind: "folder"; name: string; files: PickedFile[] }
  | { kind: "empty" };

const ARCHIVE_RE = /\.(zip|tar\.gz|tgz)$/i;

export function isArchiveName(name: string): boolean {
  return ARCHIVE_RE.test(name);
}

/** Files nobody wants on a web server, and folders a build recreates. */
export function isIgnoredPath(path: string): boolean {
  const parts = path.split("/");
  const base = parts[parts.length - 1] ?? "";
  if (base === ".DS_Store" || base === "Thumbs.db" || base === "desktop.ini") return true;
  return parts.some((p) => p === ".git" || p === "node_modules" || p === "__MACOSX");
}

/** Drop the one folder every path starts with ("site/index.html" → "index.html"). */
export function stripCommonRoot(files: readonly PickedFile[]): { root: string; files: PickedFile[] } {
  if (files.length === 0) return { root: "", files: [] };
  const first = files[0]?.path.split("/") ?? [];
  const root = first.length > 1 ? first[0] ?? "" : "";
  if (root === "" || !files.every((f) => f.path.startsWith(root + "/"))) return { root: "", files: [...files] };
  return { root, files: files.map((f) => ({ path: f.path.slice(root.length + 1), file: f.file })) };
}

function normalise(path: string): string {
  return path.replace(/\\/g, "/").replace(/^\/+/, "");
}

/** Files from an <input type=file webkitdirectory> (each has its webkitRelativePath). */
export function pickedFromFileList(list: ArrayLike<File>): Picked {
  const files = Array.from(list);
  if (files.length === 0) return { kind: "empty" };
  const only = files[0];
  if (files.length === 1 && only && !only.webkitRelativePath && isArchiveName(only.name)) {
    return { kind: "archive", file: only };
  }
  const all = files
    .map((f) => ({ path: normalise(f.webkitRelativePath || f.name), file: f }))
    .filter((f) => !isIgnoredPath(f.path));
  const { root, files: stripped } = stripCommonRoot(all);
  return { kind: "folder", name: root || "site", files: stripped };
}

async function readDir(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries answers in batches (100 in Chrome) until it answers an empty one
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, err) => {
      reader.readEntries(ok, err);
    });
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function isDir(e: FileSystemEntry): e is FileSystemDirectoryEntry {
  return e.isDirectory;
}

function isFile(e: FileSystemEntry): e is FileSystemFileEntry {
  return e.isFile;
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (isIgnoredPath(path)) return;
  if (isFile(entry)) {
    const file = await new Promise<File>((ok, err) => {
      entry.file(ok, err);
    });
    out.push({ path, file });
  } else if (isDir(entry)) {
    for (const child of await readDir(entry)) await walk(child, path, out);
  }
}

/** What a drop carries: one archive, a folder (walked recursively), or loose files. */
export async function pickedFromDataTransfer(dt: DataTransfer): Promise<Picked> {
  // read synchronously: the items are gone once the drop event has been handled
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== "file" || typeof item.webkitGetAsEntry !== "function") continue;
    const entry = item.webkitGetAsEntry();
    if (entry) entries.push(entry);
  }
  if (entries.length > 0 && entries.some((e) => e.isDirectory)) {
    const files: PickedFile[] = [];
    for (const e of entries) await walk(e, "", files);
    const { root, files: stripped } = stripCommonRoot(files);
    const dirName = entries.length === 1 ? (entries[0]?.name ?? "site") : root || "site";
    return { kind: "folder", name: dirName, files: stripped };
  }
  return pickedFromFileList(dt.files);
}

/** Zip the files (paths as given), deflated; in a worker where the browser has them. */
export async function zipFiles(files: readonly PickedFile[]): Promise<Uint8Array> {
  const tree: Zippable = {};
  for (const f of files) {
    const bytes = new Uint8Array(await f.file.arrayBuffer());
    tree[f.path] = [bytes, { level: 6 }];
  }
  if (typeof Worker === "undefined") return zipSync(tree);
  return new Promise<Uint8Array>((resolve, reject) => {
    zipAsync(tree, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

/** The archive to upload for what was picked, with its file name. */
export async function archiveFor(p: Picked): Promise<{ blob: Blob; fileName: string }> {
  if (p.kind === "archive") return { blob: p.file, fileName: p.file.name };
  if (p.kind === "empty" || p.files.length === 0) throw new Error("Nothing to upload: the folder is empty.");
  const bytes = await zipFiles(p.files);
  return {
    blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/zip" }),
    fileName: `${p.name || "site"}.zip`,
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function describePicked(p: Picked): string {
  if (p.kind === "archive") return `${p.file.name} · ${formatBytes(p.file.size)}`;
  if (p.kind === "folder") {
    const size = p.files.reduce((n, f) => n + f.file.size, 0);
    return `${p.name}/ · ${p.files.length} ${p.files.length === 1 ? "file" : "files"} · ${formatBytes(size)} · zipped in the browser before the upload`;
  }
  return "nothing";
}
