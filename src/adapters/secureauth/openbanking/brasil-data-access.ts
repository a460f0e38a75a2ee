import { z } from 'zod';
import { normalizeConsentStatus } from '../../../domain/openbanking.js';
import { describePermission } from '../../../domain/openbanking-permissions.js';
import type { Rejection } from '../../../ports/authorization-server.js';
import { acceptConsentRequest, epochMs, isoDateTime, readConsentBody, uniqueIds, type ConsentPage } from './consent-page.js';
import { rejectionBody } from '../rejection-body.js';

/** `BrazilCustomerDataAccessConsentV1`, the fields shown or checked. */
const dataAccessConsent = z.object({
  consentId: z.string(),
  permissions: z.array(z.string()).min(1),
  status: z.string(),
  expirationDateTime: z.string(),
  transactionFromDateTime: z.string().optional(),
  transactionToDateTime: z.string().optional(),
});

/** Open Finance Brasil's rejection reasons for data-access consents. */
export function dataAccessRejectionReason(rejection: Rejection): { code: string; details: string } {
  return { code: rejection.cause === 'denied_by_user' ? 'CUSTOMER_MANUALLY_REJECTED' : 'CONSENT_TECHNICAL_ISSUE', details: rejection.description };
}

/** `GET|POST {base}/open-banking-brasil/consent/{login}[/accept|/reject]` */
export const brasilDataAccess: ConsentPage = {
  kind: 'brasil_data_access',
  path: '/open-banking-brasil/consent',
  what: 'Brasil data-access consent',
  toConsent(body) {
    const read = readConsentBody(this.what, body, 'customer_data_access_consent', dataAccessConsent);
    if (read === undefined) return undefined;
    const { envelope, consent } = read;
    const expiresAt = epochMs(consent.expirationDateTime);
    return {
      kind: 'brasil_data_access',
      ids: uniqueIds(consent.consentId, ...envelope.ids),
      status: normalizeConsentStatus(consent.status),
      statusText: consent.status,
      terms: {
        consent_id: consent.consentId,
        permissions: consent.permissions.map(describePermission),
        access_expires_at: isoDateTime(consent.expirationDateTime) ?? consent.expirationDateTime,
        ...(consent.transactionFromDateTime ? { transactions_from: isoDateTime(consent.transactionFromDateTime) } : {}),
        ...(consent.transactionToDateTime ? { transactions_to: isoDateTime(consent.transactionToDateTime) } : {}),
      },
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      hasFixedDebtorAccount: false,
      client: envelope.client,
      scopes: envelope.scopes,
    };
  },
  acceptBody: acceptConsentRequest,
  rejectBody: (request, rejection) => ({ ...rejectionBody(request, rejection), rejection_reason: dataAccessRejectionReason(rejection) }),
};
