// The account's alerts as a table: what each watches, its status (active, triggered, paused,
// expired), how often it fires, where firings go and when it last fired, with the actions on it —
// pause or resume (PATCH), send a test firing, show its firings, delete (after a confirmation in a
// modal dialog). Each action's outcome is announced; focus stays where the reader was.
import type { AlertDto } from '@ratewire/contracts/alerts.schemas';
import { useEffect, useRef } from 'preact/hooks';

import { formatDateTime } from '../../core/format.ts';
import { CHANNEL_WORDS, describeCondition, FREQUENCY_WORDS, SOURCE_WORDS } from './describe.ts';

export type AlertAction = 'pause' | 'resume' | 'test' | 'delete';

const STATUS_WORDS = { active: 'Active', triggered: 'Triggered', paused: 'Paused', expired: 'Expired' } as const;

export const alertName = (a: AlertDto): string => `${a.symbol} ${describeCondition(a.condition)}`;

export function StatusBadge({ status }: { status: AlertDto['status'] }) {
  return <span class={`badge alert-status alert-status-${status}`}>{STATUS_WORDS[status]}</span>;
}

/** "Delete …?" in a modal dialog: Escape or Cancel keeps the alert; focus returns to where it was. */
export function ConfirmDelete({
  alert,
  busy,
  onCancel,
  onConfirm,
}: {
  alert: AlertDto;
  busy: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return undefined;
    if (!el.open) el.showModal();
    cancel.current?.focus();
    return () => {
      if (el.open) el.close();
    };
  }, []);
  return (
    <dialog
      ref={dialog}
      class="confirm-dialog"
      aria-labelledby="confirm-delete-title"
      aria-describedby="confirm-delete-text"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-delete-title">Delete this alert?</h2>
      <p id="confirm-delete-text">
        {alertName(alert)} ({SOURCE_WORDS[alert.source]}) and its {alert.fired_count} firing
        {alert.fired_count === 1 ? '' : 's'} will be deleted. This cannot be undone.
      </p>
      <div class="dialog-actions">
        <button type="button" class="secondary" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          aria-disabled={busy ? 'true' : undefined}
          onClick={() => !busy && onConfirm()}
        >
          {busy ? 'Deleting…' : 'Delete alert'}
        </button>
      </div>
    </dialog>
  );
}

export function AlertTable({
  alerts,
  selected,
  busy,
  onAction,
  onSelect,
}: {
  alerts: AlertDto[];
  selected: string | null;
  /** The alert an action is running on. */
  busy: string | null;
  onAction: (alert: AlertDto, action: AlertAction) => void;
  onSelect: (alert: AlertDto | null) => void;
}) {
  return (
    <div class="table-wrap">
      <table class="alerts-table">
        <caption class="visually-hidden">Your alerts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">Status</th>
            <th scope="col" class="hide-narrow">
              Frequency
            </th>
            <th scope="col" class="hide-narrow">
              Sends to
            </th>
            <th scope="col">Last fired</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => {
            const name = alertName(a);
            const open = selected === a.id;
            const running = busy === a.id;
            const canResume = a.status !== 'active';
            return (
              <tr key={a.id} data-alert={a.id} data-status={a.status} class={open ? 'selected' : undefined}>
                <th scope="row" class="alert-name">
                  <span class="alert-symbol">{a.symbol}</span>{' '}
                  <span class="alert-condition">{describeCondition(a.condition)}</span>
                  <span class="muted alert-source"> · {SOURCE_WORDS[a.source]}</span>
                </th>
                <td>
                  <StatusBadge status={a.status} />
                  {a.frequency === 'every_time' && !a.armed && a.status === 'active' && (
                    <span class="muted"> (waiting to re-arm)</span>
                  )}
                </td>
                <td class="hide-narrow">
                  {FREQUENCY_WORDS[a.frequency]}
                  {a.cooldown_seconds > 0 && <span class="muted">, cooldown {a.cooldown_seconds} s</span>}
                  {a.expires_at && (
                    <span class="muted">
                      , expires <time dateTime={a.expires_at}>{formatDateTime(a.expires_at)}</time>
                    </span>
                  )}
                </td>
                <td class="hide-narrow">{a.channels.map((c) => CHANNEL_WORDS[c]).join(', ')}</td>
                <td>
                  {a.last_fired_at ? (
                    <time dateTime={a.last_fired_at} title={a.last_fired_at}>
                      {formatDateTime(a.last_fired_at)}
                    </time>
                  ) : (
                    <span class="muted">Never</span>
                  )}
                  <span class="muted fired-count">
                    {' '}
                    ({a.fired_count} firing{a.fired_count === 1 ? '' : 's'})
                  </span>
                </td>
                <td>
                  <div class="row-actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-expanded={open}
                      aria-controls={open ? 'alert-firings' : undefined}
                      onClick={() => onSelect(open ? null : a)}
                    >
                      {open ? 'Hide firings' : 'Firings'}
                      <span class="visually-hidden"> of {name}</span>
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      aria-disabled={running ? 'true' : undefined}
                      onClick={() => !running && onAction(a, canResume ? 'resume' : 'pause')}
                    >
                      {canResume ? 'Resume' : 'Pause'}
                      <span class="visually-hidden"> {name}</span>
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      aria-disabled={running ? 'true' : undefined}
                      onClick={() => !running && onAction(a, 'test')}
                    >
                      Send a test firing<span class="visually-hidden"> of {name}</span>
                    </button>
                    <button
                      type="button"
                      class="danger"
                      aria-disabled={running ? 'true' : undefined}
                      onClick={() => !running && onAction(a, 'delete')}
                    >
                      Delete<span class="visually-hidden"> {name}</span>
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
