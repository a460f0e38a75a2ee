import { z } from 'zod';
import type { AccountIdentificationView, BrasilAccountIdentification } from '../../../domain/openbanking.js';
import { normalizeConsentStatus } from '../../../domain/openbanking.js';
import type { Rejection } from '../../../ports/authorization-server.js';
import { acceptConsentRequest, epochMs, isoDateTime, readConsentBody, uniqueIds, type ConsentPage } from './consent-page.js';
import { rejectionBody } from '../rejection-body.js';

/** `OpenbankingBrasilPayment{Creditor,Debtor}Account` */
const account = z.object({
  accountType: z.string(),
  ispb: z.string(),
  issuer: z.string().optional(),
  number: z.string(),
});

/** `BrazilCustomerPaymentConsent`, the fields shown or checked. */
const paymentConsent = z.object({
  consentId: z.string(),
  status: z.string(),
  expirationDateTime: z.string(),
  creditor: z.object({ name: z.string(), cpfCnpj: z.string(), personType: z.string().optional() }),
  debtorAccount: account.optional(),
  payment: z.object({
    amount: z.string(),
    currency: z.string(),
    type: z.string(),
    date: z.string().optional(),
    schedule: z.object({ single: z.object({ date: z.string() }) }).optional(),
    details: z.object({
      localInstrument: z.string(),
      proxy: z.string().optional(),
      creditorAccount: account,
    }),
  }),
});

function accountView(value: z.infer<typeof account>): AccountIdentificationView {
  return {
    identification: value.number,
    bank_code: value.ispb,
    ...(value.issuer ? { branch: value.issuer } : {}),
    account_type: value.accountType,
  };
}

const identification = (value: z.infer<typeof account>): BrasilAccountIdentification => ({
  accountType: value.accountType,
  ispb: value.ispb,
  number: value.number,
  ...(value.issuer !== undefined ? { issuer: value.issuer } : {}),
});

/** Open Finance Brasil's rejection reasons for payment consents. */
export function paymentRejectionReason(rejection: Rejection): { code: string; details: string } {
  return { code: rejection.cause === 'denied_by_user' ? 'REJEITADO_USUARIO' : 'FALHA_INFRAESTRUTURA', details: rejection.description };
}

/** `GET|POST {base}/open-banking-brasil/payment/{login}[/accept|/reject]`; its accept is `AcceptPaymentConsent`. */
export const brasilPayment: ConsentPage = {
  kind: 'brasil_payment',
  path: '/open-banking-brasil/payment',
  what: 'Brasil payment consent',
  toConsent(body) {
    const read = readConsentBody(this.what, body, 'customer_payment_consent', paymentConsent);
    if (read === undefined) return undefined;
    const { envelope, consent } = read;
    const { payment } = consent;
    const executionDate = payment.date ?? payment.schedule?.single.date;
    const expiresAt = epochMs(consent.expirationDateTime);
    return {
      kind: 'brasil_payment',
      ids: uniqueIds(consent.consentId, ...envelope.ids),
      status: normalizeConsentStatus(consent.status),
      statusText: consent.status,
      terms: {
        consent_id: consent.consentId,
        payment: {
          amount: payment.amount,
          currency: payment.currency,
          creditor: {
            name: consent.creditor.name,
            document: consent.creditor.cpfCnpj,
            account: accountView(payment.details.creditorAccount),
            ...(payment.details.proxy ? { pix_key: payment.details.proxy } : {}),
          },
          ...(executionDate !== undefined ? { execution_date: executionDate } : {}),
          ...(consent.debtorAccount ? { debtor_account: accountView(consent.debtorAccount) } : {}),
          payment_type: payment.type,
          local_instrument: payment.details.localInstrument,
        },
        authorise_by: isoDateTime(consent.expirationDateTime) ?? consent.expirationDateTime,
      },
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      hasFixedDebtorAccount: consent.debtorAccount !== undefined,
      ...(consent.debtorAccount ? { brasilDebtorAccount: identification(consent.debtorAccount) } : {}),
      client: envelope.client,
      scopes: envelope.scopes,
    };
  },
  acceptBody(request, grant) {
    const debtor = grant.debtorAccount;
    return {
      ...acceptConsentRequest(request, grant),
      ...(debtor !== undefined
        ? { debtor_account: { account_type: debtor.accountType, ispb: debtor.ispb, number: debtor.number, ...(debtor.issuer !== undefined ? { issuer: debtor.issuer } : {}) } }
        : {}),
    };
  },
  rejectBody: (request, rejection) => ({ ...rejectionBody(request, rejection), rejection_reason: paymentRejectionReason(rejection) }),
};
