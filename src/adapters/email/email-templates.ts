import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EMAIL_TEMPLATE_VARIABLES,
  type EmailMessage,
  type EmailTemplateName,
  type EmailTemplates,
  type EmailTemplateVariables,
} from '../../ports/email.js';
import { webAssetPath } from '../../support/project-files.js';

type Part = 'subject' | 'text' | 'html';

const PARTS: Record<Part, string> = { subject: 'subject.txt', text: 'txt', html: 'html' };
const NAMES: EmailTemplateName[] = ['with-binding-message', 'without-binding-message'];
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** `with-binding-message.html`, `…​.txt`, `…​.subject.txt`, and the same for `without-binding-message`. */
export const templateFileName = (name: EmailTemplateName, part: Part): string => `${name}.${PARTS[part]}`;

/**
 * The magic-link e-mail templates: `{{variable}}` placeholders (see {@link EMAIL_TEMPLATE_VARIABLES}),
 * HTML-escaped in the HTML part. Each of the six files may be replaced by a file of the same name in
 * `EMAIL_TEMPLATE_DIR`; the rest keep the built-in text. Templates are read and checked once, at
 * start-up, so a typo in a placeholder stops the start instead of sending a broken mail.
 */
export class FileEmailTemplates implements EmailTemplates {
  private readonly templates = new Map<string, string>();

  constructor(overrideDir?: string) {
    const problems: string[] = [];
    for (const name of NAMES) {
      for (const part of Object.keys(PARTS) as Part[]) {
        const file = templateFileName(name, part);
        const override = overrideDir === undefined ? undefined : join(overrideDir, file);
        const path = override !== undefined && existsSync(override) ? override : webAssetPath('email', file);
        const text = readFileSync(path, 'utf8');
        for (const match of text.matchAll(PLACEHOLDER)) {
          if (!(EMAIL_TEMPLATE_VARIABLES as readonly string[]).includes(match[1] ?? '')) problems.push(`${path}: unknown variable {{${match[1]}}}`);
        }
        this.templates.set(file, text);
      }
    }
    if (problems.length > 0) throw new Error(`invalid e-mail templates:\n  ${problems.join('\n  ')}`);
  }

  render(name: EmailTemplateName, variables: EmailTemplateVariables): Omit<EmailMessage, 'to'> {
    const fill = (part: Part, escape: (value: string) => string): string =>
      (this.templates.get(templateFileName(name, part)) ?? '').replace(PLACEHOLDER, (_whole, variable: string) =>
        escape(variables[variable as keyof EmailTemplateVariables] ?? ''),
      );
    return {
      // A subject is one line whatever a variable holds.
      subject: fill('subject', (value) => value.replace(/[\r\n]+/g, ' ')).trim(),
      text: fill('text', (value) => value),
      html: fill('html', escapeHtml),
    };
  }
}
