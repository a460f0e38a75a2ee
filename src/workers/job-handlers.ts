import type { JobHandlers } from '../ports/jobs.js';
import { closePrompt } from '../use-cases/close-prompt.js';
import { completeRequest } from '../use-cases/complete-request.js';
import type { Dependencies } from '../use-cases/dependencies.js';
import { deliverEmail } from '../use-cases/deliver-email.js';
import { deliverPrompt } from '../use-cases/deliver-prompt.js';
import { sweepExpiredRequests } from '../use-cases/expire-request.js';
import { prepareRequest } from '../use-cases/prepare-request.js';

/** The queue's entry points: each job name runs one use case. */
export function jobHandlers(deps: Dependencies): JobHandlers {
  return {
    'prepare-request': ({ requestId }, context) => prepareRequest(deps, requestId, context),
    'deliver-prompt': ({ requestId }, context) => deliverPrompt(deps, requestId, context),
    'complete-request': ({ requestId }, context) => completeRequest(deps, requestId, context),
    'sweep-expired': () => sweepExpiredRequests(deps),
    'deliver-email': ({ requestId }, context) => deliverEmail(deps, requestId, context),
    'close-prompt': ({ requestId }, context) => closePrompt(deps, requestId, context),
  };
}
