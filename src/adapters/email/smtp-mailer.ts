import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { EmailMessage, Mailer } from '../../ports/email.js';

/** Sends mail through an SMTP server (`SMTP_URL`, e.g. `smtp://user:pass@mail.example:587`). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.transport = createTransport(smtpUrl);
  }

  async send(message: EmailMessage): Promise<void> {
    const info = (await this.transport.sendMail({ from: this.from, ...message })) as { messageId?: string };
    // The address and the link stay out of the log: the link is a bearer secret.
    this.logger.debug({ messageId: info.messageId }, 'e-mail handed to the SMTP server');
  }

  close(): void {
    this.transport.close();
  }
}
