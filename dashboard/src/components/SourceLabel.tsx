import { FolderArchive, GitBranch } from "lucide-react";

import type { Deployment } from "@/api/schema";
import { repoLabel } from "@/lib/format";

export function SourceLabel({ site }: { site: Pick<Deployment, "source_type" | "github_url" | "branch" | "archive_digest"> }) {
  if (site.source_type === "github" && site.github_url) {
    return (
      <span className="text-muted-foreground flex min-w-0 items-center gap-1.5 text-sm" title={site.github_url}>
        <GitBranch aria-hidden="true" className="size-3.5 shrink-0" />
        <span className="sr-only">Git repository </span>
        <span className="truncate">{repoLabel(site.github_url)}</span>
        {site.branch && <span className="shrink-0">@{site.branch}</span>}
      </span>
    );
  }
  return (
    <span className="text-muted-foreground flex min-w-0 items-center gap-1.5 text-sm" title={site.archive_digest ?? undefined}>
      <FolderArchive aria-hidden="true" className="size-3.5 shrink-0" />
      <span>Upload</span>
      {site.archive_digest && <span className="truncate font-mono text-xs">{site.archive_digest.slice(7, 19)}</span>}
    </span>
  );
}
