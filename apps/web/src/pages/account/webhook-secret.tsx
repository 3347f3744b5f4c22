// The account's webhook secret, which signs the callbacks sent to the addresses it gives (a job's
// callback URL): hidden until shown, copyable, and rotated after a confirmation (the replaced
// secret still signs for a while, and the page says until when).
import { webhookSecretSchema } from '@ratewire/contracts/webhooks.schemas';
import { useState } from 'preact/hooks';

import { FormError } from '../../components/field.tsx';
import { LoadStatus } from '../../components/load-status.tsx';
import { Source } from '../../components/page.tsx';
import { formatDateTime } from '../../core/format.ts';
import { useLoad } from '../../core/use.ts';
import { CopyButton } from './copy.tsx';
import { failureText } from '../../core/form-errors.ts';
import { request } from '../../core/api.ts';

export function WebhookSecret() {
  const [secret, reload] = useLoad(
    (signal) => request('/api/v1/webhooks/secret', { schema: webhookSecretSchema, signal }),
    [],
  );
  const [shown, setShown] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [status, setStatus] = useState('');
  const rotate = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      await request('/api/v1/webhooks/secret/rotate', { method: 'POST', schema: webhookSecretSchema });
      setConfirming(false);
      setStatus('The secret was rotated.');
      reload();
    } catch (err) {
      setFailure(failureText(err, 'Rotating the secret'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="webhook-title">
      <h2 id="webhook-title">Webhook secret</h2>
      <p class="hint">
        It signs the callbacks Ratewire sends to the addresses you give (a job’s callback URL), as Standard Webhooks:
        check the <code>webhook-signature</code> header with it. Keep it private.
      </p>
      <LoadStatus loaded={secret} what="the secret" reload={reload} />
      {secret.state === 'ready' && (
        <>
          <label for="webhook-secret">Secret</label>
          <div class="copy-row">
            <input
              id="webhook-secret"
              class="mono"
              readOnly
              type={shown ? 'text' : 'password'}
              value={secret.value.secret}
              autoComplete="off"
              spellcheck={false}
            />
            <button type="button" class="secondary" aria-pressed={shown} onClick={() => setShown(!shown)}>
              {shown ? 'Hide' : 'Show'}
            </button>
            <CopyButton text={secret.value.secret} label="Copy the secret" />
          </div>
          <Source>
            Issued {formatDateTime(secret.value.created_at)}
            {secret.value.previous_expires_at &&
              `; the replaced secret still signs until ${formatDateTime(secret.value.previous_expires_at)}`}
            .
          </Source>
          <p class="account-actions">
            {confirming ? (
              <span role="group" aria-label="Rotate the webhook secret?">
                <span>Issue a new secret? The current one keeps signing for a while, so receivers can switch.</span>{' '}
                <button type="button" class="danger" disabled={busy} onClick={() => void rotate()}>
                  Yes, rotate
                </button>{' '}
                <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" class="secondary" onClick={() => setConfirming(true)}>
                Rotate the secret
              </button>
            )}
          </p>
        </>
      )}
      <p role="status" class="ok">
        {status}
      </p>
      <FormError message={failure} />
    </section>
  );
}
