import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEmailTemplates } from '../../src/adapters/email/email-templates.js';
import type { EmailTemplateVariables } from '../../src/ports/email.js';

const variables: EmailTemplateVariables = {
  app_name: 'Shop <Evil> & Co',
  magic_link: 'https://auth.example/magic-links/abc.def',
  binding_message: 'Pay "50" EUR',
  request_id: 'req-1',
  expires_at: '2026-01-01T12:02:00.000Z',
  expires_in_minutes: '2',
};

describe('e-mail templates', () => {
  it('fill every variable, escaping them in the HTML part only', () => {
    const message = new FileEmailTemplates().render('with-binding-message', variables);
    expect(message.subject).toBe('Shop <Evil> & Co asks you to confirm: Pay "50" EUR');
    expect(message.text).toContain('Pay "50" EUR');
    expect(message.text).toContain('https://auth.example/magic-links/abc.def');
    expect(message.text).toContain('req-1');
    expect(message.html).toContain('Shop &#60;Evil&#62; &#38; Co');
    expect(message.html).toContain('Pay &#34;50&#34; EUR');
    expect(message.html).not.toContain('<Evil>');
    for (const part of [message.subject, message.text, message.html]) expect(part).not.toMatch(/\{\{/);
  });

  it('keep subjects on one line', () => {
    const message = new FileEmailTemplates().render('with-binding-message', { ...variables, binding_message: 'line one\r\nBcc: x@evil.example' });
    expect(message.subject).not.toMatch(/[\r\n]/);
  });

  it('refuse an override with an unknown variable at start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'templates-'));
    try {
      await writeFile(join(dir, 'with-binding-message.txt'), 'Hi {{user_name}}');
      expect(() => new FileEmailTemplates(dir)).toThrow(/unknown variable \{\{user_name\}\}/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
