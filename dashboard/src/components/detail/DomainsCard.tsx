import { Globe } from "lucide-react";

import type { Deployment } from "@/api/schema";
import { CopyButton } from "@/components/CopyButton";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";

/** The site's custom domains and the DNS record each needs (docs/domains.md). */
export function DomainsCard({ site }: { site: Deployment }) {
  const domains = site.domains ?? site.spec?.spec.domains ?? [];
  const target = site.cname_target ?? null;

  return (
    <Card className="gap-4">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <Globe aria-hidden="true" className="size-4" />
          <h2>Custom domains</h2>
        </CardTitle>
        <CardDescription>
          {domains.length
            ? "Point each domain's DNS at this site with a CNAME record."
            : "None yet: list them under spec.domains in the site's manifest (launchpad apply)."}
        </CardDescription>
      </CardHeader>
      {domains.length > 0 && (
        <CardContent className="grid gap-2">
          <ul aria-label="Custom domains" className="grid gap-2">
            {domains.map((d) => (
              <li key={d} className="grid gap-1 text-sm">
                <span className="font-mono break-all">{d}</span>
                {target && (
                  <span className="text-muted-foreground flex items-center gap-2 text-xs">
                    CNAME <span className="text-foreground font-mono break-all">{target}</span>
                    <CopyButton value={target} label={`Copy the CNAME target of ${d}`} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        </CardContent>
      )}
    </Card>
  );
}
