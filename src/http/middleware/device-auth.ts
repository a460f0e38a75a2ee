import type { RequestHandler } from 'express';
import type { Device } from '../../domain/device.js';
import { authenticateDevice } from '../../use-cases/authenticate-device.js';
import type { Dependencies } from '../../use-cases/dependencies.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The device a DPoP-authenticated device call comes from. */
      device?: Device;
      /** The CIBA request a call concerns; request logs carry it (see app.ts). */
      requestId?: string;
    }
  }
}

/** DPoP-bound device token (RFC 9449) on every device call but enrolment. */
export function deviceAuth(deps: Pick<Dependencies, 'devices' | 'replayCache' | 'clock' | 'config'>): RequestHandler {
  return async (req, res, next) => {
    try {
      const dpop = req.headers.dpop;
      res.locals.device = await authenticateDevice(deps, {
        authorization: req.headers.authorization,
        dpop: Array.isArray(dpop) ? undefined : dpop,
        method: req.method,
        url: `${deps.config.http.publicUrl}${req.originalUrl.split('?')[0] ?? ''}`,
      });
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The authenticated device; only reachable behind {@link deviceAuth}. */
export function currentDevice(locals: { device?: Device }): Device {
  if (locals.device === undefined) throw new Error('device route reached without device authentication');
  return locals.device;
}
