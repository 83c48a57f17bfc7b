import { useState } from "react";
import { ArrowLeft, ExternalLink, RefreshCw, Square, Trash2 } from "lucide-react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";

import { ApiError } from "@/api/client";
import { useCancelBuild, useCanCancel, useDeployment, useRedeploy, useRevisions } from "@/api/hooks";
import { DeleteSiteDialog } from "@/components/DeleteSiteDialog";
import { AppCard } from "@/components/detail/AppCard";
import { AppLogs } from "@/components/detail/AppLogs";
import { BuildLog } from "@/components/detail/BuildLog";
import { ConfigEditor } from "@/components/detail/ConfigEditor";
import { MetricsCard } from "@/components/detail/MetricsCard";
import { PreviewsCard } from "@/components/detail/PreviewsCard";
import { RevisionsCard } from "@/components/detail/RevisionsCard";
import { StatusCard } from "@/components/detail/StatusCard";
import { DomainsCard } from "@/components/detail/DomainsCard";
import { WebhookCard } from "@/components/detail/WebhookCard";
import { RelativeTime } from "@/components/RelativeTime";
import { SourceLabel } from "@/components/SourceLabel";
import { StatusBadge } from "@/components/StatusBadge";
import { Button } from "@/components/ui/button";
import { runOf } from "@/lib/app";
import { buildRunning } from "@/lib/status";
import { PageSkeleton } from "./PageSkeleton";

export default function SiteDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const q = useDeployment(id);
  const site = q.data;
  const revs = useRevisions(id, site);
  const redeploy = useRedeploy();
  const cancel = useCancelBuild(id);
  const canCancel = useCanCancel(id);
  const [cancelGone, setCancelGone] = useState(false);
  const [pinnedLog, setPinnedLog] = useState<number | null>(null);

  if (q.isPending) return <PageSkeleton />;
  if (!site) {
    const notFound = q.error instanceof ApiError && q.error.status === 404;
    return (
      <div className="grid place-items-center gap-4 py-20 text-center" role="alert">
        <h1 className="text-2xl font-semibold">{notFound ? "Site not found" : "The site could not be loaded"}</h1>
        <p className="text-muted-foreground">{notFound ? `There is no site “${id}” (any more).` : q.error.message}</p>
        <Button asChild variant="outline">
          <Link to="/">Back to your sites</Link>
        </Button>
      </div>
    );
  }

  const deleting = site.phase === "deleting";
  const running = buildRunning(site, revs.data);
  const showCancel = running && canCancel.data === true && !cancelGone;
  const logRevision = pinnedLog ?? site.desired_revision;
  const isApp = runOf(site) !== null;

  return (
    <div className="grid gap-6">
      <div className="grid gap-4">
        <Link to="/" className="text-muted-foreground hover:text-foreground inline-flex w-fit items-center gap-1 text-sm">
          <ArrowLeft aria-hidden="true" className="size-4" /> Sites
        </Link>
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="grid min-w-0 gap-2">
            <div className="flex flex-wrap items-center gap-3">
              <h1 className="truncate text-2xl font-semibold tracking-tight">{site.name}</h1>
              <StatusBadge site={site} />
            </div>
            <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
              <a
                href={site.url}
                target="_blank"
                rel="noreferrer"
                className="inline-flex items-center gap-1 font-medium underline-offset-4 hover:underline"
              >
                {site.url}
                <ExternalLink aria-hidden="true" className="size-3.5" />
                <span className="sr-only">(opens in a new tab)</span>
              </a>
              <SourceLabel site={site} />
              <span className="text-muted-foreground">
                Updated <RelativeTime iso={site.updated_at} />
              </span>
            </div>
          </div>
          <div className="flex flex-wrap gap-2">
            <Button
              variant="outline"
              disabled={deleting || redeploy.isPending}
              onClick={() =>
                redeploy.mutate(site.slug, {
                  onSuccess: (d) => {
                    setPinnedLog(null);
                    toast.success(`Redeploying${d.revision ? `: revision ${d.revision}` : ""}`);
                  },
                  onError: (e) => toast.error(`Could not redeploy: ${e.message}`),
                })
              }
            >
              <RefreshCw aria-hidden="true" className={redeploy.isPending ? "motion-safe:animate-spin" : undefined} />
              Redeploy
            </Button>
            {showCancel && (
              <Button
                variant="outline"
                disabled={cancel.isPending}
                onClick={() =>
                  cancel.mutate(undefined, {
                    onSuccess: () => toast.success("Cancelling the build"),
                    onError: (e) => {
                      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
                        setCancelGone(true);
                        toast.error("This server cannot cancel builds.");
                      } else toast.error(`Could not cancel: ${e.message}`);
                    },
                  })
                }
              >
                <Square aria-hidden="true" />
                Cancel
              </Button>
            )}
            <DeleteSiteDialog
              site={site}
              onDeleted={() => void navigate("/")}
              trigger={
                <Button variant="destructive" disabled={deleting}>
                  <Trash2 aria-hidden="true" />
                  Delete
                </Button>
              }
            />
          </div>
        </div>
        {deleting && (
          <p role="status" className="border-warning/40 bg-warning/10 rounded-md border px-3 py-2 text-sm">
            This site is being deleted.
          </p>
        )}
      </div>

      <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <div className="grid min-w-0 gap-6">
          <BuildLog
            siteId={site.slug}
            revision={logRevision}
            revisions={revs.data}
            pinned={pinnedLog}
            onPin={setPinnedLog}
          />
          {isApp && <AppLogs key={site.slug} siteId={site.slug} />}
          <RevisionsCard
            siteId={site.slug}
            revisions={revs.data}
            loading={revs.isPending}
            disabled={deleting}
            onShowLog={(r) => setPinnedLog(r)}
          />
          <MetricsCard site={site} />
        </div>
        <div className="grid min-w-0 gap-6">
          <StatusCard site={site} />
          <AppCard site={site} />
          <DomainsCard site={site} />
          {site.source_type === "github" && <WebhookCard site={site} />}
          {site.source_type === "github" && <PreviewsCard site={site} />}
        </div>
      </div>

      <ConfigEditor site={site} reload={async () => (await q.refetch()).data} />
    </div>
  );
}
