// A labelled form field: the label, the control, an optional hint and the field's error, linked to
// the control with aria-describedby (and aria-invalid while it is wrong) so screen readers read them.
// `FormError` is a form's own message (what the service answered), announced when it appears.
import type { ComponentChildren, JSX } from 'preact';

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'label' | 'class' | 'className'>;

export interface FieldProps extends InputProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string | undefined;
  /** A visually hidden label (the column header already says it); still read by screen readers. */
  hiddenLabel?: boolean;
  /** Classes of the wrapper. */
  class?: string;
}

/** The ids a control is described by: its hint and its error, when shown. */
export function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export function Field({ id, label, hint, error, hiddenLabel, class: className, ...input }: FieldProps) {
  return (
    <div class={className ? `field ${className}` : 'field'}>
      <label for={id} class={hiddenLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...input}
      />
      <FieldNotes id={id} hint={hint} error={error} />
    </div>
  );
}

/** A control's hint and error, with the ids `describedBy` names: for controls other than `<input>`. */
export function FieldNotes({ id, hint, error }: { id: string; hint?: ComponentChildren; error?: string | undefined }) {
  return (
    <>
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </>
  );
}

/** The message of one field, or nothing. */
export function FieldError({ id, message }: { id: string; message?: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error" role="alert">
      {message}
    </p>
  );
}

/** A form's message from the service (or a summary), announced when it appears. */
export function FormError({ message }: { message?: string | undefined }) {
  if (!message) return null;
  return (
    <p class="error form-error" role="alert">
      {message}
    </p>
  );
}
