// Passing notices (an alert fired, a job finished): announced politely to screen readers, closed
// with their button or after ten seconds; at most five at a time.
import { signal } from '@preact/signals';

export interface Toast {
  id: number;
  title: string;
  body?: string;
  tone?: 'info' | 'success' | 'warning' | 'error';
}

export const toasts = signal<Toast[]>([]);
let nextId = 1;
const TOAST_MS = 10_000;

export function toast(t: Omit<Toast, 'id'>): number {
  const id = nextId++;
  toasts.value = [...toasts.value, { ...t, id }].slice(-5);
  setTimeout(() => dismiss(id), TOAST_MS);
  return id;
}

export function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

export function Toasts() {
  return (
    <div class="toasts" role="region" aria-label="Notifications" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.tone ?? 'info'}`} role="status">
          <div class="toast-text">
            <strong>{t.title}</strong>
            {t.body && <p>{t.body}</p>}
          </div>
          <button type="button" class="icon-button" aria-label={`Dismiss: ${t.title}`} onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
