import { Plus, Trash2 } from "lucide-react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { newEnvRow, validateEnvRows, type EnvRow } from "@/lib/validation";

/** Key/value rows for the build's environment variables; add and remove rows. */
export function EnvVarsEditor({
  idPrefix,
  rows,
  onChange,
  error,
  disabled,
}: {
  idPrefix: string;
  rows: EnvRow[];
  onChange: (rows: EnvRow[]) => void;
  error?: string | undefined;
  disabled?: boolean;
}) {
  const checks = validateEnvRows(rows);
  const update = (id: number, patch: Partial<EnvRow>) => onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  const errId = error || checks.general ? `${idPrefix}-env-error` : undefined;

  return (
    <fieldset className="grid gap-2" aria-describedby={errId}>
      <legend className="mb-2 text-sm font-medium">Environment variables</legend>
      {rows.length === 0 && <p className="text-muted-foreground text-sm">No variables.</p>}
      <ul className="grid gap-2">
        {rows.map((r, i) => {
          const rowErr = checks.rows[r.id];
          const rowErrId = rowErr ? `${idPrefix}-env-${r.id}-error` : undefined;
          return (
            <li key={r.id} className="grid gap-1">
              <div className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)_auto] gap-2 sm:grid-cols-[minmax(0,2fr)_minmax(0,3fr)_auto]">
                <Input
                  aria-label={`Variable ${i + 1} name`}
                  placeholder="NAME"
                  value={r.key}
                  disabled={disabled}
                  autoComplete="off"
                  spellCheck={false}
                  className="min-w-0 font-mono"
                  aria-invalid={rowErr ? true : undefined}
                  aria-describedby={rowErrId}
                  onChange={(e) => update(r.id, { key: e.target.value })}
                />
                <Input
                  aria-label={`Variable ${i + 1} value`}
                  placeholder="value"
                  value={r.value}
                  disabled={disabled}
                  autoComplete="off"
                  spellCheck={false}
                  className="min-w-0 font-mono"
                  onChange={(e) => update(r.id, { value: e.target.value })}
                />
                <Button
                  type="button"
                  variant="ghost"
                  size="icon"
                  disabled={disabled}
                  aria-label={`Remove variable ${r.key || i + 1}`}
                  onClick={() => onChange(rows.filter((x) => x.id !== r.id))}
                >
                  <Trash2 aria-hidden="true" />
                </Button>
              </div>
              {rowErr && (
                <p id={rowErrId} className="text-destructive text-sm">
                  {rowErr}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {(error || checks.general) && (
        <p id={errId} role="alert" className="text-destructive text-sm" data-field-error={`${idPrefix}-env`}>
          {error ?? checks.general}
        </p>
      )}
      <div>
        <Button type="button" variant="outline" size="sm" disabled={disabled} onClick={() => onChange([...rows, newEnvRow()])}>
          <Plus aria-hidden="true" /> Add variable
        </Button>
      </div>
    </fieldset>
  );
}
