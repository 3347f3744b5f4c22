// The mail catcher of `npm start` and `npm run services`. When SMTP_URL is not set, a local SMTP sink
// (@ratewire/mailbox) runs inside the bootstrap on loopback, port RATEWIRE_SMTP_PORT (52525), and
// writes every mail it is sent to <checkout>/.data/mail as an .eml file (beside the services' data);
// the apps get its address as SMTP_URL. It relays nothing: no mail leaves the machine. It stops with
// the bootstrap. When SMTP_URL is set, that server is used as it is and no catcher runs.
import { join } from 'node:path';

import { assertPortFree } from './ports.ts';
import { portSetting } from './services.ts';
import type { Log } from './system.ts';

export interface MailCatcher {
  /** SMTP_URL for the apps (empty when SMTP_URL was set: theirs passes through). */
  env: { SMTP_URL?: string };
  /** The folder captured mail is written to (null when SMTP_URL was set). */
  dir: string | null;
  stop(): Promise<void>;
}

/** smtp://user:password@host → smtp://***@host */
const masked = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

export async function startMailCatcher(data: string, log: Log): Promise<MailCatcher> {
  const set = process.env['SMTP_URL'];
  if (set) {
    log(`SMTP_URL is set: mail goes to ${masked(set)}`);
    return { env: {}, dir: null, stop: () => Promise.resolve() };
  }
  const { port, setting } = portSetting('RATEWIRE_SMTP_PORT', 52525);
  await assertPortFree('mail', port, setting);
  const dir = join(data, 'mail');
  // imported here, not at the top: the workspace is installed only once the bootstrap has run pnpm
  const { startMailbox } = await import('@ratewire/mailbox');
  const mailbox = await startMailbox({ host: '127.0.0.1', port, dir, keep: 50 });
  log(`mail: catching on :${port}, as SMTP_URL is not set (mail in ${dir})`);
  return { env: { SMTP_URL: mailbox.url }, dir, stop: () => mailbox.close() };
}

/** The line telling where captured mail is read. */
export const mailLine = (dir: string) =>
  `mail     captured in ${dir} (one .eml file each; nothing leaves this machine)`;
