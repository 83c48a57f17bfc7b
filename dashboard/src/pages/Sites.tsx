import { useMemo, useState } from "react";
import { ExternalLink, Plus, RefreshCw, Rocket, Search, Trash2 } from "lucide-react";
import { Link } from "react-router";
import { toast } from "sonner";

import { sitesOf, useDeployments, useRedeploy } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import { DeleteSiteDialog } from "@/components/DeleteSiteDialog";
import { RelativeTime } from "@/components/RelativeTime";
import { SourceLabel } from "@/components/SourceLabel";
import { StatusBadge } from "@/components/StatusBadge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { isSettled } from "@/lib/status";

function hostOf(url: string): string {
  return url.replace(/^https?:\/\//, "");
}

export function RevisionLabel({ site }: { site: Pick<Deployment, "current_revision" | "desired_revision"> }) {
  const cur = site.current_revision ? `#${site.current_revision}` : "none";
  return (
    <span className="text-sm tabular-nums">
      <span className="sr-only">Revision </span>
      {cur}
      {site.desired_revision !== site.current_revision && (
        <span className="text-muted-foreground"> → #{site.desired_revision}</span>
      )}
    </span>
  );
}

function SiteRow({ site }: { site: Deployment }) {
  const redeploy = useRedeploy();
  const deleting = site.phase === "deleting";
  return (
    <li
      data-site={site.slug}
      className="grid grid-cols-[1fr_auto] items-center gap-x-4 gap-y-1.5 px-4 py-3 md:grid-cols-[minmax(0,2.2fr)_7.5rem_minmax(0,1.6fr)_5.5rem_7.5rem_5.5rem]"
    >
      <div className="min-w-0">
        <Link
          to={`/deployments/${encodeURIComponent(site.slug)}`}
          className="block truncate font-medium underline-offset-4 hover:underline"
        >
          {site.name}
        </Link>
        <SourceLabel site={site} />
      </div>
      <div className="justify-self-end md:justify-self-start">
        <span className="sr-only">Status: </span>
        <StatusBadge site={site} />
      </div>
      <div className="col-span-2 min-w-0 md:col-span-1">
        <a
          href={site.url}
          target="_blank"
          rel="noreferrer"
          aria-label="Live URL (opens in a new tab)"
          title={site.url}
          className="text-muted-foreground hover:text-foreground inline-flex max-w-full items-center gap-1 text-sm underline-offset-4 hover:underline"
        >
          <span className="truncate">{hostOf(site.url)}</span>
          <ExternalLink aria-hidden="true" className="size-3 shrink-0" />
        </a>
      </div>
      <div className="hidden md:block">
        <RevisionLabel site={site} />
      </div>
      <div className="text-muted-foreground text-sm">
        <span className="sr-only">Last deployed </span>
        <span className="md:hidden">
          <RevisionLabel site={site} /> ·{" "}
        </span>
        <RelativeTime iso={site.updated_at} />
      </div>
      <div className="flex justify-end gap-1">
        <Button
          variant="ghost"
          size="icon-sm"
          aria-label={`Redeploy ${site.name}`}
          title="Redeploy"
          disabled={deleting || redeploy.isPending}
          onClick={() =>
            redeploy.mutate(site.slug, {
              onSuccess: (d) => toast.success(`Redeploying ${site.name}${d.revision ? `: revision ${d.revision}` : ""}`),
              onError: (e) => toast.error(`Could not redeploy ${site.name}: ${e.message}`),
            })
          }
        >
          <RefreshCw aria-hidden="true" className={redeploy.isPending ? "motion-safe:animate-spin" : undefined} />
        </Button>
        <DeleteSiteDialog
          site={site}
          trigger={
            <Button variant="ghost" size="icon-sm" aria-label={`Delete ${site.name}`} title="Delete" disabled={deleting}>
              <Trash2 aria-hidden="true" />
            </Button>
          }
        />
      </div>
    </li>
  );
}

function ListSkeleton() {
  return (
    <ul aria-busy="true" aria-label="Loading sites" className="divide-y rounded-xl border">
      {[0, 1, 2].map((i) => (
        <li key={i} className="flex items-center gap-4 px-4 py-4">
          <div className="grid flex-1 gap-2">
            <Skeleton className="h-4 w-40" />
            <Skeleton className="h-3 w-56" />
          </div>
          <Skeleton className="h-5 w-16 rounded-full" />
          <Skeleton className="hidden h-4 w-40 md:block" />
        </li>
      ))}
    </ul>
  );
}

function EmptyState() {
  return (
    <div className="grid place-items-center gap-4 rounded-xl border border-dashed px-6 py-16 text-center">
      <span className="bg-muted grid size-12 place-items-center rounded-full">
        <Rocket aria-hidden="true" className="size-6" />
      </span>
      <div className="grid gap-1">
        <h2 className="text-lg font-semibold">No sites yet</h2>
        <p className="text-muted-foreground max-w-sm text-sm">
          Deploy a folder, a zip or tar.gz archive, or a Git repository. It gets its own URL in seconds.
        </p>
      </div>
      <Button asChild>
        <Link to="/new">
          <Plus aria-hidden="true" /> Deploy your first site
        </Link>
      </Button>
    </div>
  );
}

/** The site matches the filter box (name, slug or repository URL), over the pages loaded so far. */
function matches(s: Deployment, f: string): boolean {
  return s.name.toLowerCase().includes(f) || s.slug.includes(f) || (s.github_url ?? "").toLowerCase().includes(f);
}

export function SitesPage() {
  const q = useDeployments();
  const [filter, setFilter] = useState("");
  const sites = useMemo(() => sitesOf(q.data), [q.data]);
  // the list is read a page at a time in the API's order (created_at, then slug), so new sites
  // come last; the pages already shown keep their place when the next one arrives
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = sites ?? [];
    return f ? list.filter((s) => matches(s, f)) : list;
  }, [sites, filter]);
  const pages = q.data?.pages;
  const remaining = pages?.at(-1)?.metadata.remainingItemCount ?? 0;
  const more = q.hasNextPage;
  const total = (sites?.length ?? 0) + (more ? remaining : 0);
  const counts = useMemo(() => {
    const c = { live: 0, deploying: 0, failed: 0 };
    // "deleting" only answers a DELETE; a list says deploying for it (docs/api.md).
    for (const s of sites ?? []) c[s.status === "deleting" ? "deploying" : s.status]++;
    return c;
  }, [sites]);
  const busy = (sites ?? []).some((s) => !isSettled(s));
  const loadMore = () =>
    void q.fetchNextPage().then((r) => {
      if (r.isError) toast.error(`Could not load more sites: ${r.error.message}`);
    });

  return (
    <div className="grid gap-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div className="grid gap-1">
          <h1 className="text-2xl font-semibold tracking-tight">Sites</h1>
          {sites && sites.length > 0 && (
            <p className="text-muted-foreground text-sm" aria-live="polite" data-testid="site-counts">
              {total} {total === 1 ? "site" : "sites"}
              {more && ` (${String(sites.length)} shown)`} · {counts.live} live · {counts.deploying} deploying ·{" "}
              {counts.failed} failed
              {busy && <span className="sr-only"> (updating)</span>}
            </p>
          )}
        </div>
        {sites && total > 5 && (
          <div className="relative w-full sm:w-64">
            <Search aria-hidden="true" className="text-muted-foreground absolute top-2.5 left-2.5 size-4" />
            <Input
              type="search"
              aria-label="Filter sites"
              placeholder="Filter sites"
              className="pl-8"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
          </div>
        )}
      </div>

      {q.isPending && <ListSkeleton />}
      {q.isError && !sites && (
        <div role="alert" className="border-destructive/40 bg-destructive/10 grid gap-3 rounded-xl border p-4 text-sm">
          <p>The sites could not be loaded: {q.error.message}</p>
          <div>
            <Button variant="outline" size="sm" onClick={() => void q.refetch()}>
              Try again
            </Button>
          </div>
        </div>
      )}
      {sites && sites.length === 0 && <EmptyState />}
      {sites && sites.length > 0 && (
        <div className="bg-card rounded-xl border">
          <div
            aria-hidden="true"
            className="text-muted-foreground hidden grid-cols-[minmax(0,2.2fr)_7.5rem_minmax(0,1.6fr)_5.5rem_7.5rem_5.5rem] gap-x-4 border-b px-4 py-2 text-xs font-medium md:grid"
          >
            <span>Site</span>
            <span>Status</span>
            <span>URL</span>
            <span>Revision</span>
            <span>Last deployed</span>
            <span className="text-right">Actions</span>
          </div>
          <ul aria-label="Sites" className="divide-y">
            {shown.map((s) => (
              <SiteRow key={s.id} site={s} />
            ))}
          </ul>
          {shown.length === 0 && <p className="text-muted-foreground px-4 py-6 text-sm">No site matches “{filter}”.</p>}
          {more && (
            <div className="flex flex-wrap items-center justify-between gap-3 border-t px-4 py-3 text-sm">
              <p className="text-muted-foreground" data-testid="page-status">
                {filter.trim()
                  ? `Filtering the ${String(sites.length)} sites loaded; ${String(remaining)} more not searched yet.`
                  : `Showing ${String(sites.length)} of ${String(total)} sites.`}
              </p>
              <Button variant="outline" size="sm" disabled={q.isFetchingNextPage} onClick={loadMore}>
                {q.isFetchingNextPage ? "Loading…" : "Load more"}
              </Button>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
