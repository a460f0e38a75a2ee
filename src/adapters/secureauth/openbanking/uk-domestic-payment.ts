import { z } from 'zod';
import type { AccountIdentificationView } from '../../../domain/openbanking.js';
import { normalizeConsentStatus } from '../../../domain/openbanking.js';
import { acceptConsentRequest, epochMs, isoDateTime, readConsentBody, uniqueIds, type ConsentPage } from './consent-page.js';
import { rejectionBody } from '../rejection-body.js';

const amount = z.object({ Amount: z.string(), Currency: z.string() });

/** `OBWriteDomesticConsentResponse5DataInitiation{Creditor,Debtor}Account` */
const account = z.object({
  SchemeName: z.string().optional(),
  Identification: z.string().optional(),
  Name: z.string().optional(),
  SecondaryIdentification: z.string().optional(),
});

/** `DomesticPaymentConsent` (Open Banking UK: `OBWriteDomesticConsentResponse5Data` + `OBRisk1`), the fields shown or checked. */
const domesticPaymentConsent = z.object({
  ConsentId: z.string(),
  Status: z.string(),
  Initiation: z.object({
    InstructedAmount: amount,
    CreditorAccount: account,
    DebtorAccount: account.optional(),
    RemittanceInformation: z.object({ Reference: z.string().optional(), Unstructured: z.string().optional() }).optional(),
    LocalInstrument: z.string().optional(),
  }),
  Charges: z.array(z.object({ Amount: amount, ChargeBearer: z.string(), Type: z.string() })).optional(),
  ExpectedExecutionDateTime: z.string().optional(),
  Authorisation: z.object({ CompletionDateTime: z.string().optional() }).optional(),
});

function accountView(value: z.infer<typeof account>): AccountIdentificationView {
  return {
    ...(value.Name ? { name: value.Name } : {}),
    ...(value.Identification ? { identification: value.Identification } : {}),
    ...(value.SchemeName ? { scheme: value.SchemeName } : {}),
    ...(value.SecondaryIdentification ? { secondary_identification: value.SecondaryIdentification } : {}),
  };
}

/** `GET|POST {base}/open-banking/domestic-payment-consent/{login}[/accept|/reject]` */
export const ukDomesticPayment: ConsentPage = {
  kind: 'uk_domestic_payment',
  path: '/open-banking/domestic-payment-consent',
  what: 'domestic-payment consent',
  toConsent(body) {
    const read = readConsentBody(this.what, body, 'domestic_payment_consent', domesticPaymentConsent);
    if (read === undefined) return undefined;
    const { envelope, consent } = read;
    const { Initiation: initiation } = consent;
    const authoriseBy = isoDateTime(consent.Authorisation?.CompletionDateTime);
    const expiresAt = epochMs(consent.Authorisation?.CompletionDateTime);
    return {
      kind: 'uk_domestic_payment',
      ids: uniqueIds(consent.ConsentId, ...envelope.ids),
      status: normalizeConsentStatus(consent.Status),
      statusText: consent.Status,
      terms: {
        consent_id: consent.ConsentId,
        payment: {
          amount: initiation.InstructedAmount.Amount,
          currency: initiation.InstructedAmount.Currency,
          creditor: {
            ...(initiation.CreditorAccount.Name ? { name: initiation.CreditorAccount.Name } : {}),
            account: accountView(initiation.CreditorAccount),
          },
          ...(initiation.RemittanceInformation?.Reference ? { reference: initiation.RemittanceInformation.Reference } : {}),
          ...(initiation.RemittanceInformation?.Unstructured ? { remittance_information: initiation.RemittanceInformation.Unstructured } : {}),
          ...(consent.ExpectedExecutionDateTime ? { execution_date: isoDateTime(consent.ExpectedExecutionDateTime) } : {}),
          ...(initiation.DebtorAccount ? { debtor_account: accountView(initiation.DebtorAccount) } : {}),
          ...(consent.Charges && consent.Charges.length > 0
            ? {
                charges: consent.Charges.map((charge) => ({
                  type: charge.Type,
                  amount: charge.Amount.Amount,
                  currency: charge.Amount.Currency,
                  bearer: charge.ChargeBearer,
                })),
              }
            : {}),
          ...(initiation.LocalInstrument ? { local_instrument: initiation.LocalInstrument } : {}),
        },
        ...(authoriseBy !== undefined ? { authorise_by: authoriseBy } : {}),
      },
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      hasFixedDebtorAccount: initiation.DebtorAccount !== undefined,
      client: envelope.client,
      scopes: envelope.scopes,
    };
  },
  acceptBody: acceptConsentRequest,
  rejectBody: rejectionBody,
};
