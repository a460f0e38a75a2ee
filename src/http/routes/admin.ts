import { Router } from 'express';
import type { Dependencies } from '../../use-cases/dependencies.js';
import { listAccounts, putAccounts } from '../../use-cases/manage-accounts.js';
import { createActivationCode, getUser, putUser, revokeDevice } from '../../use-cases/manage-users.js';
import { getDecisionEvidence, getRequestForAdmin } from '../../use-cases/view-requests.js';
import type { AuditEventType } from '../../ports/audit.js';
import { queryAudit } from '../../use-cases/query-audit.js';
import type { ApiSchemas } from '../api-types.js';
import { presentAccountList, presentAdminRequest, presentAuditPage, presentEvidence, presentUser } from '../presenters.js';
import { bankAccountFromWire } from '../../domain/account.js';
import { logRequestIdParam } from '../middleware/request-id-param.js';

/** Operator API under /admin/v1 (bearer ADMIN_API_TOKEN, checked before this router). */
export function adminRoutes(deps: Dependencies): Router {
  const router = Router();

  router.param('request_id', logRequestIdParam);

  router.get('/audit', async (req, res) => {
    const query = req.query as Record<string, string | undefined>;
    const page = await queryAudit(deps, {
      limit: query.limit === undefined ? 100 : Number(query.limit),
      ...(query.user_id !== undefined ? { userId: query.user_id } : {}),
      ...(query.request_id !== undefined ? { requestId: query.request_id } : {}),
      ...(query.type !== undefined ? { type: query.type as AuditEventType } : {}),
      ...(query.since !== undefined ? { since: Date.parse(query.since) } : {}),
      ...(query.cursor !== undefined ? { after: query.cursor } : {}),
    });
    res.status(200).json(presentAuditPage(page));
  });

  router.put('/users/:user_id', async (req, res) => {
    const body = req.body as ApiSchemas['UserInput'];
    const { user, devices } = await putUser(deps, req.params.user_id, {
      ...(body.display_name !== undefined ? { displayName: body.display_name } : {}),
      ...(body.aliases !== undefined ? { aliases: body.aliases } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
    });
    res.status(200).json(presentUser(user, devices));
  });

  router.get('/users/:user_id', async (req, res) => {
    const { user, devices } = await getUser(deps, req.params.user_id);
    res.status(200).json(presentUser(user, devices));
  });

  router.delete('/users/:user_id/devices/:device_id', async (req, res) => {
    await revokeDevice(deps, req.params.user_id, req.params.device_id);
    res.status(204).end();
  });

  router.post('/users/:user_id/activation-codes', async (req, res) => {
    const { activationCode, expiresAt } = await createActivationCode(deps, req.params.user_id);
    const response: ApiSchemas['ActivationCode'] = { activation_code: activationCode, expires_at: new Date(expiresAt).toISOString() };
    res.status(201).json(response);
  });

  router.put('/users/:user_id/accounts', async (req, res) => {
    const body = req.body as ApiSchemas['AccountList'];
    const accounts = await putAccounts(deps, req.params.user_id, body.accounts.map(bankAccountFromWire));
    res.status(200).json(presentAccountList(req.params.user_id, accounts));
  });

  router.get('/users/:user_id/accounts', async (req, res) => {
    res.status(200).json(presentAccountList(req.params.user_id, await listAccounts(deps, req.params.user_id)));
  });

  router.get('/requests/:request_id', async (req, res) => {
    const request = await getRequestForAdmin(deps, req.params.request_id);
    res.status(200).json(presentAdminRequest(request, deps.clock.now()));
  });

  router.get('/requests/:request_id/evidence', async (req, res) => {
    res.status(200).json(presentEvidence(await getDecisionEvidence(deps, req.params.request_id)));
  });

  return router;
}
