import { ExternalLink } from "lucide-react";
import { Link } from "react-router";

import { usePreviews } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import { StatusBadge } from "@/components/StatusBadge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";

/** The site's previews (docs/previews.md): each a site of its own, removed with its parent. */
export function PreviewsCard({ site }: { site: Deployment }) {
  const previews = usePreviews(site.slug, site);
  if (!previews.data || previews.data.length === 0) return null;
  return (
    <Card className="gap-4">
      <CardHeader>
        <CardTitle>
          <h2>Previews</h2>
        </CardTitle>
        <CardDescription>Pull requests and branches, each at its own URL.</CardDescription>
      </CardHeader>
      <CardContent>
        <ul aria-label="Previews" className="grid gap-2 text-sm">
          {previews.data.map((p) => (
            <li key={p.id} aria-label={`Preview ${p.slug}`} className="flex min-w-0 items-center gap-2">
              <StatusBadge site={p} />
              <Link to={`/deployments/${encodeURIComponent(p.slug)}`} className="truncate font-mono text-xs underline-offset-4 hover:underline">
                {p.slug}
              </Link>
              <a
                href={p.url}
                target="_blank"
                rel="noreferrer"
                aria-label={`Open preview ${p.slug}`}
                className="text-muted-foreground hover:text-foreground ml-auto"
              >
                <ExternalLink aria-hidden="true" className="size-4" />
              </a>
            </li>
          ))}
        </ul>
      </CardContent>
    </Card>
  );
}
