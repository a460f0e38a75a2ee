import type { RequestHandler } from 'express';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

/**
 * Once the JSON parser has read the body, the API only needs to know whether it was JSON; the media
 * type is narrowed to `application/json` or `application/octet-stream` for what comes after. The
 * OpenAPI validator answers 415 all the same, but its response validation compiles and caches a
 * schema per request media type and uses the type in a schema URI: any other text there would let
 * a caller grow that cache without bound, and a `%` made it throw (a 500).
 */
export const canonicalContentType: RequestHandler = (req, _res, next) => {
  const header = req.headers['content-type'];
  if (header !== undefined) {
    const mediaType = header.split(';')[0]?.trim().toLowerCase() ?? '';
    req.headers['content-type'] = JSON_MEDIA_TYPE.test(mediaType) ? 'application/json' : 'application/octet-stream';
  }
  next();
};
