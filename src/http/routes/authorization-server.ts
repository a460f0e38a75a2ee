import { Router } from 'express';
import type { Dependencies } from '../../use-cases/dependencies.js';
import { startAuthentication } from '../../use-cases/start-authentication.js';
import { verifyUser } from '../../use-cases/verify-user.js';
import type { ApiSchemas } from '../api-types.js';

/** What SecureAuth calls. Both answer without any outbound HTTP call. */
export function authorizationServerRoutes(deps: Dependencies): Router {
  const router = Router();

  router.post('/user/verify', async (req, res) => {
    const body = req.body as ApiSchemas['VerifyUserRequest'];
    const response: ApiSchemas['VerifyUserResponse'] = { valid: await verifyUser(deps, body.user_identifier) };
    res.status(200).json(response);
  });

  router.post('/authentication/start', async (req, res) => {
    const body = req.body as ApiSchemas['StartAuthenticationRequest'];
    const { requestId } = await startAuthentication(deps, {
      ...body,
      authorization_details: body.authorization_details as Array<Record<string, unknown>> | undefined,
    });
    res.locals.requestId = requestId;
    const response: ApiSchemas['StartAuthenticationResponse'] = { request_id: requestId };
    res.status(200).json(response);
  });

  return router;
}
