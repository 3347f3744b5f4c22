// The account's API keys: the list (name, prefix, scopes, last use, expiry, state), a form that
// creates one (its key is shown once, in a read-only field with a Copy button) and deleting a key
// after a confirmation in its row.
import {
  API_KEY_SCOPES,
  apiKeyList,
  createApiKeyBody,
  createdApiKeySchema,
  type ApiKeyDto,
  type ApiKeyScope,
  type CreatedApiKeyDto,
} from '@ratewire/contracts/api-keys.schemas';
import { useEffect, useRef, useState } from 'preact/hooks';

import { Field, FieldError, FormError, describedBy } from '../../components/field.tsx';
import { LoadStatus } from '../../components/load-status.tsx';
import { Source } from '../../components/page.tsx';
import { ago, formatDateTime, formatTime } from '../../core/format.ts';
import { useLoad } from '../../core/use.ts';
import { CopyButton } from './copy.tsx';
import { failureText, fieldsOf, issuesOf, type FieldMessages } from '../../core/form-errors.ts';
import { request } from '../../core/api.ts';

const SCOPE_TEXT: Record<ApiKeyScope, string> = {
  read: 'read — rates, currencies and conversions, limited per key',
  jobs: 'jobs — submit and read your exchange jobs',
  alerts: 'alerts — your alerts',
};

function stateOf(key: ApiKeyDto): 'revoked' | 'expired' | 'active' {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return 'expired';
  return 'active';
}

const when = (iso: string | null | undefined, none: string) =>
  iso ? <span title={iso}>{formatDateTime(iso)}</span> : <span class="muted">{none}</span>;

function CreatedKey({ created, onDone }: { created: CreatedApiKeyDto; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    field.current?.focus();
    field.current?.select();
  }, []);
  return (
    <div class="panel created-key" role="region" aria-labelledby="created-key-title">
      <h3 id="created-key-title">New key “{created.name}”</h3>
      <p class="warning" id="created-key-warning">
        <strong>Copy this key now: it is shown only this once.</strong> Ratewire keeps only its prefix ({created.prefix}
        ); if you lose the key, delete it and create another.
      </p>
      <label for="created-key">API key</label>
      <div class="copy-row">
        <input
          id="created-key"
          ref={field}
          readOnly
          value={created.key}
          spellcheck={false}
          autoComplete="off"
          aria-describedby="created-key-warning"
          class="mono"
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={created.key} label="Copy the key" />
      </div>
      <p class="hint">
        Send it as <code>X-API-Key: &lt;key&gt;</code> or <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <p>
        <button type="button" onClick={onDone}>
          I stored the key
        </button>
      </p>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKeyDto) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['read']);
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const toggle = (scope: ApiKeyScope, on: boolean) =>
    setScopes((now) => API_KEY_SCOPES.filter((s) => (s === scope ? on : now.includes(s))));
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const body = {
      name,
      scopes,
      // the key stops working at the start of the chosen day, UTC
      ...(expires ? { expires_at: `${expires}T00:00:00Z` } : {}),
    };
    const parsed = createApiKeyBody.safeParse(body);
    if (!parsed.success) {
      setErrors(issuesOf(parsed.error));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const created = await request('/api/v1/api-keys', {
        method: 'POST',
        body: parsed.data,
        schema: createdApiKeySchema,
      });
      setName('');
      setExpires('');
      onCreated(created);
    } catch (err) {
      setErrors(fieldsOf(err));
      setFailure(failureText(err, 'Creating the key'));
    } finally {
      setBusy(false);
    }
  };
  const scopeError = errors['scopes'];
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="create-key-title">
      <h3 id="create-key-title">Create a key</h3>
      <Field
        id="key-name"
        label="Name"
        hint="What the key is for, e.g. “price bot”."
        value={name}
        maxLength={100}
        error={errors['name']}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <fieldset aria-describedby={describedBy('key-scopes', false, scopeError)}>
        <legend>Scopes</legend>
        {API_KEY_SCOPES.map((scope) => (
          <div class="check" key={scope}>
            <input
              type="checkbox"
              id={`key-scope-${scope}`}
              checked={scopes.includes(scope)}
              onChange={(e) => toggle(scope, e.currentTarget.checked)}
            />
            <label for={`key-scope-${scope}`}>{SCOPE_TEXT[scope]}</label>
          </div>
        ))}
        <FieldError id="key-scopes-error" message={scopeError} />
      </fieldset>
      <Field
        id="key-expires"
        label="Expires (optional)"
        type="date"
        hint="The key stops working at 00:00 UTC that day. Without a date it works until you delete it."
        value={expires}
        error={errors['expires_at']}
        onInput={(e) => setExpires(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create the key'}
        </button>
      </p>
    </form>
  );
}

function KeyRow({ item, onDeleted }: { item: ApiKeyDto; onDeleted: (name: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const confirmButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);
  const remove = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      await request(`/api/v1/api-keys/${encodeURIComponent(item.id)}`, { method: 'DELETE' });
      onDeleted(item.name);
    } catch (err) {
      setFailure(failureText(err, 'Deleting the key'));
      setBusy(false);
    }
  };
  const state = stateOf(item);
  return (
    <tr data-key-id={item.id}>
      <th scope="row">{item.name}</th>
      <td>
        <code>{item.prefix}</code>
      </td>
      <td>{item.scopes.join(', ')}</td>
      <td class="hide-narrow">{when(item.created_at, '—')}</td>
      <td class="hide-narrow">{item.last_used_at ? ago(item.last_used_at) : <span class="muted">never</span>}</td>
      <td class="hide-narrow">{when(item.expires_at, 'never')}</td>
      <td>
        <span class={`badge key-${state}`}>{state}</span>
      </td>
      <td>
        {state !== 'revoked' &&
          (confirming ? (
            <span class="confirm-delete" role="group" aria-label={`Delete the key ${item.name}?`}>
              <span>Delete “{item.name}”? Programs using it stop working.</span>{' '}
              <button type="button" class="danger" ref={confirmButton} disabled={busy} onClick={() => void remove()}>
                Yes, delete
              </button>{' '}
              <button
                type="button"
                class="secondary"
                disabled={busy}
                onClick={() => {
                  setConfirming(false);
                  setTimeout(() => deleteButton.current?.focus());
                }}
              >
                Cancel
              </button>
            </span>
          ) : (
            <button
              type="button"
              class="secondary"
              ref={deleteButton}
              aria-label={`Delete the key ${item.name}`}
              onClick={() => setConfirming(true)}
            >
              Delete
            </button>
          ))}
        <FormError message={failure} />
      </td>
    </tr>
  );
}

export function ApiKeys() {
  const [list, reload] = useLoad(
    (signal) => request('/api/v1/api-keys', { schema: apiKeyList, signal }).then((l) => ({ ...l, at: Date.now() })),
    [],
  );
  const [created, setCreated] = useState<CreatedApiKeyDto | null>(null);
  const [status, setStatus] = useState('');
  return (
    <section class="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p class="hint">Keys let programs call the API as you, within their scopes. They never manage the account.</p>
      {created ? (
        <CreatedKey
          created={created}
          onDone={() => {
            setCreated(null);
            document.getElementById('key-name')?.focus();
          }}
        />
      ) : null}
      <p role="status" class="visually-hidden">
        {status}
      </p>
      <LoadStatus loaded={list} what="the keys" reload={reload} />
      {list.state === 'ready' &&
        (list.value.items.length === 0 ? (
          <p>No keys yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="keys">
              <caption class="visually-hidden">Your API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scopes</th>
                  <th scope="col" class="hide-narrow">
                    Created
                  </th>
                  <th scope="col" class="hide-narrow">
                    Last used
                  </th>
                  <th scope="col" class="hide-narrow">
                    Expires
                  </th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.value.items.map((item) => (
                  <KeyRow
                    key={item.id}
                    item={item}
                    onDeleted={(name) => {
                      setStatus(`The key ${name} was deleted.`);
                      reload();
                      document.getElementById('key-name')?.focus();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {list.state === 'ready' && (
        <Source>Keys as the API lists them, read at {formatTime(new Date(list.value.at).toISOString())}.</Source>
      )}
      <CreateKeyForm
        onCreated={(key) => {
          setCreated(key);
          setStatus(`The key ${key.name} was created.`);
          reload();
        }}
      />
    </section>
  );
}
