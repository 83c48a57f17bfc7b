/** "user/repo" for a GitHub URL, the path for file://, the URL otherwise. */
export function repoLabel(url: string): string {
  return url.replace(/^https?:\/\/(www\.)?github\.com\//, "").replace(/^file:\/\//, "").replace(/\.git$/, "");
}
