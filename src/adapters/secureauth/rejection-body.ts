import type { AuthenticationRequest } from '../../domain/authentication-request.js';
import type { Rejection } from '../../ports/authorization-server.js';

/**
 * The body of a reject: the fields SecureAuth's scope-grant reject (`RejectScopeGrantRequest`) and its
 * consent-page rejects (`RejectConsentRequest`, UK and Brasil) have in common; a Brasil reject adds
 * its `rejection_reason`.
 */
export function rejectionBody(request: AuthenticationRequest, rejection: Rejection): Record<string, unknown> {
  return {
    id: request.loginId,
    login_state: request.loginState,
    error: rejection.error,
    error_description: rejection.description,
    error_cause: rejection.cause,
    status_code: 403,
  };
}
