import type { OpenBankingKind } from '../../../domain/openbanking.js';
import { brasilDataAccess } from './brasil-data-access.js';
import { brasilPayment } from './brasil-payment.js';
import type { ConsentPage } from './consent-page.js';
import { ukAccountAccess } from './uk-account-access.js';
import { ukDomesticPayment } from './uk-domestic-payment.js';

/** Kind → its consent page. */
export const consentPages: Record<OpenBankingKind, ConsentPage> = {
  uk_account_access: ukAccountAccess,
  uk_domestic_payment: ukDomesticPayment,
  brasil_data_access: brasilDataAccess,
  brasil_payment: brasilPayment,
};
