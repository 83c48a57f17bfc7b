import { useState } from "react";
import { Eye, EyeOff, Webhook } from "lucide-react";

import { useWebhook } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import { CopyButton } from "@/components/CopyButton";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";

/** GitHub webhook setup: the payload URL and the secret (hidden until revealed), with the steps. */
export function WebhookCard({ site }: { site: Deployment }) {
  const q = useWebhook(site.slug, true);
  const [reveal, setReveal] = useState(false);
  // GET /webhook is being added to the API; until then the site object carries both fields
  const url = q.data?.webhook_url ?? site.webhook_url;
  const secret = q.data?.webhook_secret ?? site.webhook_secret;

  return (
    <Card className="gap-4">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <Webhook aria-hidden="true" className="size-4" />
          <h2>GitHub webhook</h2>
        </CardTitle>
        <CardDescription>
          {site.auto_deploy
            ? `A push to ${site.branch ?? "main"} deploys a new revision.`
            : "Auto-deploy is off: pushes are ignored until it is turned on in the configuration."}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {q.isPending ? (
          <Skeleton className="h-20 w-full" />
        ) : (
          <>
            <div className="grid gap-2">
              <Label htmlFor="webhook-url">Payload URL</Label>
              <div className="flex gap-2">
                <Input id="webhook-url" readOnly value={url} className="font-mono text-xs" onFocus={(e) => e.target.select()} />
                <CopyButton value={url} label="Copy the payload URL" />
              </div>
            </div>
            <div className="grid gap-2">
              <Label htmlFor="webhook-secret">Secret</Label>
              <div className="flex gap-2">
                <Input
                  id="webhook-secret"
                  readOnly
                  value={secret ? (reveal ? secret : "•".repeat(24)) : "(none)"}
                  className="font-mono text-xs"
                  aria-describedby="webhook-secret-state"
                />
                <Button
                  type="button"
                  variant="outline"
                  size="icon-sm"
                  aria-pressed={reveal}
                  aria-label={reveal ? "Hide the secret" : "Reveal the secret"}
                  title={reveal ? "Hide" : "Reveal"}
                  disabled={!secret}
                  onClick={() => setReveal((r) => !r)}
                >
                  {reveal ? <EyeOff aria-hidden="true" /> : <Eye aria-hidden="true" />}
                </Button>
                {secret && <CopyButton value={secret} label="Copy the secret" />}
              </div>
              <span id="webhook-secret-state" className="sr-only">
                {reveal ? "shown" : "hidden"}
              </span>
            </div>
          </>
        )}
        <ol className="text-muted-foreground grid list-decimal gap-1.5 pl-5 text-sm">
          <li>
            In the repository on GitHub: <span className="text-foreground">Settings → Webhooks → Add webhook</span>.
          </li>
          <li>
            <span className="text-foreground">Payload URL</span>: the URL above.
          </li>
          <li>
            <span className="text-foreground">Content type</span>: <code className="font-mono">application/json</code>.
          </li>
          <li>
            <span className="text-foreground">Secret</span>: the secret above.
          </li>
          <li>
            <span className="text-foreground">Which events</span>: “Just the push event”. Save: GitHub sends a ping, LaunchPad
            answers it.
          </li>
        </ol>
      </CardContent>
    </Card>
  );
}
