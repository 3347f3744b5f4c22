// @ratewire/mailbox: a local SMTP sink for the tests and for `npm start` without SMTP_URL.
export {
  startMailbox,
  type CapturedMail,
  type MailAddress,
  type Mailbox,
  type MailboxMode,
  type MailboxOptions,
  type ModeOptions,
} from './mailbox.server.ts';
