import { Router } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Dependencies } from '../../use-cases/dependencies.js';
import { enrollDevice } from '../../use-cases/enroll-device.js';
import { unenrollOwnDevice, updateOwnDevice } from '../../use-cases/manage-own-device.js';
import { recordDecision } from '../../use-cases/record-decision.js';
import { getRequestForDevice, listRequestsForDevice } from '../../use-cases/view-requests.js';
import type { ApiSchemas } from '../api-types.js';
import { currentDevice } from '../middleware/device-auth.js';
import { guardActivation } from '../middleware/rate-limits.js';
import { logRequestIdParam } from '../middleware/request-id-param.js';
import { presentDevice } from '../presenters.js';

/** The authenticator app's API under /device/v1 (DPoP checked before this router, enrolment aside). */
export function deviceRoutes(deps: Dependencies, limiters: { activation: RateLimiterAbstract }): Router {
  const router = Router();

  router.param('request_id', logRequestIdParam);

  router.post('/enrollments', async (req, res) => {
    const body = req.body as ApiSchemas['EnrollmentRequest'];
    const enrollment = await guardActivation(limiters.activation, req, () =>
      enrollDevice(deps, { ...body, public_jwk: body.public_jwk as Record<string, unknown> }),
    );
    const response: ApiSchemas['Enrollment'] = {
      device_id: enrollment.deviceId,
      user_id: enrollment.userId,
      device_token: enrollment.deviceToken,
    };
    res.status(201).json(response);
  });

  router.get('/devices/self', (_req, res) => {
    res.status(200).json(presentDevice(currentDevice(res.locals)));
  });

  router.put('/devices/self', async (req, res) => {
    const body = req.body as ApiSchemas['DeviceUpdate'];
    res.status(200).json(presentDevice(await updateOwnDevice(deps, currentDevice(res.locals), body)));
  });

  router.delete('/devices/self', async (_req, res) => {
    await unenrollOwnDevice(deps, currentDevice(res.locals));
    res.status(204).end();
  });

  router.get('/requests', async (_req, res) => {
    const response: ApiSchemas['RequestList'] = { requests: await listRequestsForDevice(deps, currentDevice(res.locals)) };
    res.status(200).json(response);
  });

  router.get('/requests/:request_id', async (req, res) => {
    const response: ApiSchemas['RequestView'] = await getRequestForDevice(deps, currentDevice(res.locals), req.params.request_id);
    res.status(200).json(response);
  });

  router.post('/requests/:request_id/decision', async (req, res) => {
    const body = req.body as ApiSchemas['DecisionSubmission'];
    const result = await recordDecision(deps, {
      device: currentDevice(res.locals),
      requestId: req.params.request_id,
      decisionToken: body.decision,
    });
    const response: ApiSchemas['DecisionAccepted'] = { request_id: result.requestId, status: result.status };
    res.status(202).json(response);
  });

  return router;
}
