import { useState, type ReactNode } from "react";
import { toast } from "sonner";

import { useDeleteSite } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";

/** A confirmation dialog (role alertdialog… rendered as role dialog) whose confirm button is "Delete". */
export function DeleteSiteDialog({
  site,
  trigger,
  onDeleted,
}: {
  site: Pick<Deployment, "id" | "slug" | "name">;
  trigger: ReactNode;
  onDeleted?: () => void;
}) {
  const [open, setOpen] = useState(false);
  const del = useDeleteSite();
  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger asChild>{trigger}</AlertDialogTrigger>
      <AlertDialogContent role="dialog">
        <AlertDialogHeader>
          <AlertDialogTitle>Delete {site.name}?</AlertDialogTitle>
          <AlertDialogDescription>
            The site stops answering at once; its container, files and revisions are removed. This cannot be undone.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <Button
            variant="destructive"
            disabled={del.isPending}
            onClick={() =>
              del.mutate(site.slug, {
                onSuccess: () => {
                  setOpen(false);
                  toast.success(`Deleting ${site.name}`);
                  onDeleted?.();
                },
                onError: (e) => toast.error(`Could not delete ${site.name}: ${e.message}`),
              })
            }
          >
            {del.isPending ? "Deleting…" : "Delete"}
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
