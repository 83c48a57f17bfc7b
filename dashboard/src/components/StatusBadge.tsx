import { CircleAlert, CircleCheck, LoaderCircle } from "lucide-react";

import type { Deployment } from "@/api/schema";
import { statusView, toneClasses } from "@/lib/status";
import { cn } from "@/lib/utils";

/** The site's status as text (live, deploying, failed), with an icon and colour beside it. */
export function StatusBadge({ site, className }: { site: Pick<Deployment, "status" | "phase">; className?: string }) {
  const v = statusView(site);
  const Icon = v.tone === "success" ? CircleCheck : v.tone === "danger" ? CircleAlert : LoaderCircle;
  return (
    <span
      data-testid="status"
      data-status={v.label}
      className={cn(
        "inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap",
        toneClasses(v.tone),
        className,
      )}
    >
      <Icon aria-hidden="true" className={cn("size-3.5", v.tone === "progress" && "motion-safe:animate-spin")} />
      <span>{v.label}</span>
      {v.detail && <span className="font-normal">· {v.detail}</span>}
    </span>
  );
}
