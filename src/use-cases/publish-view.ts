import type { AuthenticationRequest, ConsentView } from '../domain/authentication-request.js';
import { consentHash } from '../domain/consent-view.js';
import { jobFor } from '../ports/jobs.js';
import { withBindingChoices } from './binding-confirmation.js';
import type { Dependencies } from './dependencies.js';
import { emailJobsFor } from './deliver-email.js';

/**
 * The last step of preparing any request, regular or Open Banking: add the binding-message choices
 * when confirmation is on, fix the view (devices list the request from now on), then prompt the user
 * on their devices and, where it applies, by e-mail. False when the request was no longer pending.
 */
export async function publishView(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'config' | 'users' | 'devices' | 'email' | 'clock'>,
  request: AuthenticationRequest,
  view: ConsentView,
): Promise<boolean> {
  const shown = withBindingChoices(view, deps.config.bindingConfirmation);
  const stored = await deps.requests.setView(request.requestId, shown, consentHash(shown));
  if (!stored.ok) return false;
  const emailJobs = await emailJobsFor(deps, stored.request);
  await deps.jobs.add([jobFor('deliver-prompt', { requestId: request.requestId }), ...emailJobs]);
  return true;
}
