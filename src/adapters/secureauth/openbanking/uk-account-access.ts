import { z } from 'zod';
import { normalizeConsentStatus } from '../../../domain/openbanking.js';
import { describePermission } from '../../../domain/openbanking-permissions.js';
import { acceptConsentRequest, epochMs, isoDateTime, readConsentBody, uniqueIds, type ConsentPage } from './consent-page.js';
import { rejectionBody } from '../rejection-body.js';

/** `AccountAccessConsent` (Open Banking UK), the fields shown or checked. */
const accountAccessConsent = z.object({
  ConsentId: z.string(),
  Permissions: z.array(z.string()).min(1),
  Status: z.string(),
  ExpirationDateTime: z.string().optional(),
  TransactionFromDateTime: z.string().optional(),
  TransactionToDateTime: z.string().optional(),
});

/** `GET|POST {base}/open-banking/account-access-consent/{login}[/accept|/reject]` */
export const ukAccountAccess: ConsentPage = {
  kind: 'uk_account_access',
  path: '/open-banking/account-access-consent',
  what: 'account-access consent',
  toConsent(body) {
    const read = readConsentBody(this.what, body, 'account_access_consent', accountAccessConsent);
    if (read === undefined) return undefined;
    const { envelope, consent } = read;
    const accessExpiresAt = isoDateTime(consent.ExpirationDateTime);
    const expiresAt = epochMs(consent.ExpirationDateTime);
    return {
      kind: 'uk_account_access',
      ids: uniqueIds(consent.ConsentId, ...envelope.ids),
      status: normalizeConsentStatus(consent.Status),
      statusText: consent.Status,
      terms: {
        consent_id: consent.ConsentId,
        permissions: consent.Permissions.map(describePermission),
        ...(accessExpiresAt !== undefined ? { access_expires_at: accessExpiresAt } : {}),
        ...(consent.TransactionFromDateTime ? { transactions_from: isoDateTime(consent.TransactionFromDateTime) } : {}),
        ...(consent.TransactionToDateTime ? { transactions_to: isoDateTime(consent.TransactionToDateTime) } : {}),
      },
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      hasFixedDebtorAccount: false,
      client: envelope.client,
      scopes: envelope.scopes,
    };
  },
  acceptBody: acceptConsentRequest,
  rejectBody: rejectionBody,
};
