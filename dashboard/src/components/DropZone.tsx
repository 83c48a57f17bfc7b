import { useId, useRef, useState, type DragEvent } from "react";
import { FileArchive, FolderOpen, UploadCloud, X } from "lucide-react";

import { Button, buttonVariants } from "@/components/ui/button";
import { describePicked, pickedFromDataTransfer, pickedFromFileList, type Picked } from "@/lib/zip";
import { cn } from "@/lib/utils";

/**
 * Takes a .zip or .tar.gz, a whole folder, or loose files: by drop, by the "Site archive" file
 * input, or by the "Site folder" picker. What was picked is handed to onPick (zipped later).
 */
export function DropZone({
  picked,
  onPick,
  error,
  disabled,
}: {
  picked: Picked | null;
  onPick: (p: Picked | null) => void;
  error?: string | undefined;
  disabled?: boolean;
}) {
  const [over, setOver] = useState(false);
  const archiveRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const id = useId();
  const errId = error ? `${id}-error` : undefined;

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    void pickedFromDataTransfer(e.dataTransfer).then(
      (p) => onPick(p.kind === "empty" ? null : p),
      () => onPick(null),
    );
  };

  return (
    <div className="grid gap-3">
      <div
        data-testid="drop-zone"
        role="group"
        aria-labelledby={`${id}-title`}
        aria-describedby={errId}
        onDragEnter={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
        }}
        onDrop={onDrop}
        className={cn(
          "grid place-items-center gap-3 rounded-xl border-2 border-dashed px-4 py-8 text-center transition-colors",
          over ? "border-primary bg-accent" : "border-input",
          error && "border-destructive",
        )}
      >
        <UploadCloud aria-hidden="true" className="text-muted-foreground size-8" />
        <div className="grid gap-1">
          <p id={`${id}-title`} className="font-medium">
            Drop a folder, a .zip or a .tar.gz here
          </p>
          <p className="text-muted-foreground text-sm">A folder is zipped in your browser before it is sent.</p>
        </div>
        <div className="flex flex-wrap justify-center gap-2">
          <input
            ref={archiveRef}
            id={`${id}-archive`}
            type="file"
            aria-label="Site archive"
            accept=".zip,.tar.gz,.tgz,application/zip,application/gzip"
            disabled={disabled}
            aria-describedby={errId}
            aria-invalid={error ? true : undefined}
            className="peer/archive sr-only"
            onChange={(e) => {
              const files = e.target.files;
              onPick(files && files.length ? pickedFromFileList(files) : null);
            }}
          />
          <label
            htmlFor={`${id}-archive`}
            className={cn(
              buttonVariants({ variant: "outline", size: "sm" }),
              "cursor-pointer peer-focus-visible/archive:ring-ring/50 peer-focus-visible/archive:ring-[3px]",
              disabled && "pointer-events-none opacity-50",
            )}
          >
            <FileArchive aria-hidden="true" /> Choose an archive
          </label>
          <input
            ref={folderRef}
            id={`${id}-folder`}
            type="file"
            aria-label="Site folder"
            disabled={disabled}
            className="peer/folder sr-only"
            {...({ webkitdirectory: "", directory: "" } as Record<string, string>)}
            onChange={(e) => {
              const files = e.target.files;
              onPick(files && files.length ? pickedFromFileList(files) : null);
            }}
          />
          <label
            htmlFor={`${id}-folder`}
            className={cn(
              buttonVariants({ variant: "outline", size: "sm" }),
              "cursor-pointer peer-focus-visible/folder:ring-ring/50 peer-focus-visible/folder:ring-[3px]",
              disabled && "pointer-events-none opacity-50",
            )}
          >
            <FolderOpen aria-hidden="true" /> Choose a folder
          </label>
        </div>
      </div>

      {picked && picked.kind !== "empty" && (
        <div className="bg-muted/50 flex items-center gap-2 rounded-md border px-3 py-2 text-sm" data-testid="picked">
          {picked.kind === "archive" ? (
            <FileArchive aria-hidden="true" className="size-4 shrink-0" />
          ) : (
            <FolderOpen aria-hidden="true" className="size-4 shrink-0" />
          )}
          <span className="min-w-0 flex-1 truncate" aria-live="polite">
            {describePicked(picked)}
          </span>
          <Button
            type="button"
            variant="ghost"
            size="icon-sm"
            aria-label="Remove the selection"
            disabled={disabled}
            onClick={() => {
              if (archiveRef.current) archiveRef.current.value = "";
              if (folderRef.current) folderRef.current.value = "";
              onPick(null);
            }}
          >
            <X aria-hidden="true" />
          </Button>
        </div>
      )}
      {error && (
        <p id={errId} role="alert" className="text-destructive text-sm" data-field-error="file">
          {error}
        </p>
      )}
    </div>
  );
}
