import nodemailer from 'nodemailer'

/** Sends mail for on_failure.email (docs/outcomes.md#on_failure). */
export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>
  close(): void
}

/**
 * A mailer over SMTP (`CUEKIT_SMTP_URL`: `smtp://user:pass@host:587`, `smtps://…:465`; nodemailer's
 * URL options such as `?tls.rejectUnauthorized=false` apply). Each send must finish within
 * `timeoutMs`, so a dead mail server fails the attempt (and it is retried) instead of holding it.
 */
export function createMailer(url: string, from: string, timeoutMs = 10_000): Mailer {
  const transport = nodemailer.createTransport(
    { url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs },
    { from },
  )
  return {
    async send(message) {
      await transport.sendMail({ from, ...message })
    },
    close: () => transport.close(),
  }
}

/** What a cue's `warning` says when it asks for on_failure mail this server cannot send. */
export const MAIL_SKIPPED_NOTE =
  'on_failure.email is skipped: this server has no SMTP server (CUEKIT_SMTP_URL is not set).'

/**
 * A cue's `warning` with the mail note added when the request set `on_failure` with `email` (its
 * default) and no SMTP server is configured; a cue without `on_failure` is not told each time.
 */
export function withMailNote(
  warning: string | null,
  onFailure: { email: boolean } | null | undefined,
  smtp: unknown,
): string | null {
  if (smtp || !onFailure?.email) return warning
  return warning ? `${warning} ${MAIL_SKIPPED_NOTE}` : MAIL_SKIPPED_NOTE
}
