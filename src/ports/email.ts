/** The e-mail channel: a mail transport and the templates of the magic-link message. */

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Hands the message to the mail server; throws when it could not (the job retries). */
  send(message: EmailMessage): Promise<void>;
  close(): void;
}

/** One template for requests with a binding message, one for those without. */
export type EmailTemplateName = 'with-binding-message' | 'without-binding-message';

/** What templates may use, as `{{name}}`. */
export interface EmailTemplateVariables {
  /** The client's name, as the consent view shows it. */
  app_name: string;
  magic_link: string;
  binding_message: string;
  request_id: string;
  /** ISO 8601, UTC. */
  expires_at: string;
  /** Whole minutes left, at least 1. */
  expires_in_minutes: string;
}

export const EMAIL_TEMPLATE_VARIABLES: ReadonlyArray<keyof EmailTemplateVariables> = [
  'app_name',
  'magic_link',
  'binding_message',
  'request_id',
  'expires_at',
  'expires_in_minutes',
];

export interface EmailTemplates {
  render(name: EmailTemplateName, variables: EmailTemplateVariables): Omit<EmailMessage, 'to'>;
}

export interface EmailChannel {
  mailer: Mailer;
  templates: EmailTemplates;
}
