import type {
  AuthenticationRequest,
  ClientView,
  ConsentView,
  DecisionRecord,
  DeliveryRecord,
  OutcomeRecord,
  RequestDraft,
  RequestStatus,
  ScopeView,
} from '../../domain/authentication-request.js';
import { partitionOf } from '../../domain/identifiers.js';
import type { OpenBankingView } from '../../domain/openbanking.js';

/*
 * A request record in Redis is one string of `name=value` lines. A string, not a hash: a hash with
 * one value over 64 bytes (hash-max-listpack-value) is kept as a hash table with some 60 bytes of
 * overhead per field, and the scripts edit these lines as easily as hash fields. No value holds a line
 * break (JSON escapes them), so a line is found by its name alone.
 *
 *   st        status                      ex   expiry, ms since the epoch
 *   h         consent hash, once the view is final; the view is then rebuilt from `v` (see viewLine)
 *   dc, oc    decision and outcome, JSON   lk   SHA-256 of the magic link's secret
 *   d         one delivery attempt, JSON with one-letter names; one line each, in order
 *   cl        a claimed token (RequestRepository.claim); one line each
 *   the draft without what the key holds (request id, partition) or `ex` holds (expiry), a line per
 *   field under a name of a letter or two (DRAFT_STRINGS, DRAFT_JSON, `r`/`rj` for the scopes);
 *   a draft field without a short name goes under its own name, as JSON.
 */

/** Draft fields kept as text: JSON string escapes, without the quotes. */
const DRAFT_STRINGS = {
  l: 'loginId',
  s: 'loginState',
  u: 'userId',
  i: 'userIdentifier',
  c: 'clientId',
  n: 'clientName',
  b: 'bindingMessage',
  oi: 'openbankingIntentId',
  ok: 'openbankingKind',
} as const satisfies Record<string, keyof RequestDraft>;
/** Draft fields kept as JSON. */
const DRAFT_JSON = { a: 'authorizationDetails', t: 'createdAt' } as const satisfies Record<string, keyof RequestDraft>;
/** Requested scopes that are names only: the names, separated by spaces (`r`); any others as JSON (`rj`). */
const SCOPE_NAMES = 'r';
const SCOPES_JSON = 'rj';
const KEPT_IN_KEY_OR_EXPIRY = new Set<string>(['requestId', 'partition', 'expiresAt']);

const SHORT_NAME_OF: Record<string, string> = Object.fromEntries(
  Object.entries({ ...DRAFT_STRINGS, ...DRAFT_JSON }).map(([short, full]) => [full, short]),
);
const STRING_FIELD: Record<string, string> = DRAFT_STRINGS;
const JSON_FIELD: Record<string, string> = DRAFT_JSON;

/** Delivery records with one-letter names, in the order their fields came. */
const DELIVERY_NAMES: Record<string, string> = {
  channel: 'c',
  result: 'r',
  at: 't',
  deviceId: 'd',
  errorCode: 'e',
  message: 'm',
  retryable: 'y',
};
const DELIVERY_FULL_NAMES: Record<string, string> = Object.fromEntries(Object.entries(DELIVERY_NAMES).map(([full, short]) => [short, full]));

const text = (value: string): string => JSON.stringify(value).slice(1, -1);
const fromText = (value: string): string => JSON.parse(`"${value}"`) as string;
const line = (name: string, value: string): string => `${name}=${value}\n`;

/** The draft's lines, as the create script stores them after the status and expiry. */
export function draftLines(draft: RequestDraft): string {
  let lines = '';
  for (const [name, value] of Object.entries(draft)) {
    if (KEPT_IN_KEY_OR_EXPIRY.has(name) || value === undefined || (name === 'userId' && value === null)) continue;
    if (name === 'requestedScopes') {
      lines += scopeLine(value as ScopeView[]);
      continue;
    }
    const short = SHORT_NAME_OF[name];
    if (short !== undefined && short in STRING_FIELD && typeof value === 'string') lines += line(short, text(value));
    else lines += line(short !== undefined && short in JSON_FIELD ? short : name, JSON.stringify(value));
  }
  return lines;
}

function scopeLine(scopes: ScopeView[]): string {
  const namesOnly = scopes.every((scope) => Object.keys(scope).length === 1 && /^[\x21-\x7e]+$/.test(scope.name));
  return namesOnly ? line(SCOPE_NAMES, scopes.map((scope) => scope.name).join(' ')) : line(SCOPES_JSON, JSON.stringify(scopes));
}

/**
 * The final view without what the draft already holds: the request id, times, client id, binding
 * message, requested scope names and authorization details come from the draft on reading. The
 * rest goes into a small JSON object: client name `n` and logo `l` (and id `i` if it differs), scope
 * descriptions `s` ([display_name, description] by requested scope; left out when the scopes are the
 * requested ones), authorization details `a` if they differ, Open Banking `o`, binding choices `b`.
 * A view this cannot give back exactly, key order included, is kept whole as `{"view": …}`.
 */
export function viewLine(view: ConsentView, draft: RequestDraft): string {
  const compact: CompactView = {};
  if (view.client.id !== draft.clientId && view.client.id !== undefined) compact.i = view.client.id;
  if (view.client.name !== undefined) compact.n = view.client.name;
  if (view.client.logo_uri !== undefined) compact.l = view.client.logo_uri;
  if (JSON.stringify(view.scopes) !== JSON.stringify(draft.requestedScopes)) {
    compact.s = view.scopes.map((scope) => {
      const described: Array<string | null> = [scope.display_name ?? null];
      if (scope.description !== undefined) described.push(scope.description);
      return described[0] === null && described.length === 1 ? [] : described;
    });
  }
  if (view.authorization_details !== undefined && JSON.stringify(view.authorization_details) !== JSON.stringify(draft.authorizationDetails)) {
    compact.a = view.authorization_details;
  }
  if (view.openbanking !== undefined) compact.o = view.openbanking;
  if (view.binding_choices !== undefined) compact.b = view.binding_choices;
  const exact = JSON.stringify(viewFrom(compact, draft)) === JSON.stringify(view);
  return JSON.stringify(exact ? compact : { view });
}

interface CompactView {
  i?: string;
  n?: string;
  l?: string;
  s?: Array<Array<string | null>>;
  a?: Record<string, unknown>[];
  o?: OpenBankingView;
  b?: string[];
  view?: ConsentView;
}

/** The view as buildConsentView (and then Open Banking and binding confirmation) built it. */
function viewFrom(compact: CompactView, draft: RequestDraft): ConsentView {
  if (compact.view !== undefined) return compact.view;
  const client: ClientView = {};
  const clientId = compact.i ?? draft.clientId;
  if (clientId !== undefined) client.id = clientId;
  if (compact.n !== undefined) client.name = compact.n;
  if (compact.l !== undefined) client.logo_uri = compact.l;
  const scopes =
    compact.s === undefined
      ? structuredClone(draft.requestedScopes)
      : compact.s.map((described, index) => {
          const scope: ScopeView = { name: draft.requestedScopes[index]?.name ?? '' };
          if (typeof described[0] === 'string') scope.display_name = described[0];
          if (typeof described[1] === 'string') scope.description = described[1];
          return scope;
        });
  const details = compact.a ?? draft.authorizationDetails;
  const view: ConsentView = {
    request_id: draft.requestId,
    client,
    ...(draft.bindingMessage !== undefined && draft.bindingMessage !== '' ? { binding_message: draft.bindingMessage } : {}),
    scopes,
    ...(details !== undefined && details.length > 0 ? { authorization_details: structuredClone(details) } : {}),
    created_at: new Date(draft.createdAt).toISOString(),
    expires_at: new Date(draft.expiresAt).toISOString(),
  };
  if (compact.o !== undefined) view.openbanking = compact.o;
  if (compact.b !== undefined) view.binding_choices = compact.b;
  return view;
}

export function deliveryLine(delivery: DeliveryRecord): string {
  return JSON.stringify(Object.fromEntries(Object.entries(delivery).map(([name, value]) => [DELIVERY_NAMES[name] ?? name, value])));
}

function deliveryFrom(json: string): DeliveryRecord {
  const stored = JSON.parse(json) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(stored).map(([name, value]) => [DELIVERY_FULL_NAMES[name] ?? name, value])) as unknown as DeliveryRecord;
}

/** The request a record holds; undefined for no record. */
export function requestFromRecord(record: string | null | undefined, requestId: string): AuthenticationRequest | undefined {
  if (record === null || record === undefined) return undefined;
  const fields = new Map<string, string>();
  const deliveries: DeliveryRecord[] = [];
  const draft: Record<string, unknown> = { requestId, partition: partitionOf(requestId), userId: null };
  for (const entry of record.split('\n')) {
    const at = entry.indexOf('=');
    if (at < 0) continue;
    const name = entry.slice(0, at);
    const value = entry.slice(at + 1);
    if (name === 'd') deliveries.push(deliveryFrom(value));
    else if (name === 'cl') continue;
    else if (name in STRING_FIELD) draft[STRING_FIELD[name]!] = fromText(value);
    else if (name in JSON_FIELD) draft[JSON_FIELD[name]!] = JSON.parse(value);
    else if (name === SCOPE_NAMES) draft.requestedScopes = value === '' ? [] : value.split(' ').map((scope) => ({ name: scope }));
    else if (name === SCOPES_JSON) draft.requestedScopes = JSON.parse(value);
    else if (RECORD_FIELDS.has(name)) fields.set(name, value);
    else draft[name] = JSON.parse(value);
  }
  const status = fields.get('st');
  if (status === undefined) return undefined;
  draft.expiresAt = Number(fields.get('ex'));
  const request: AuthenticationRequest = { ...(draft as unknown as RequestDraft), status: status as RequestStatus, deliveries };
  const consentHash = fields.get('h');
  const view = fields.get('v');
  if (consentHash !== undefined && view !== undefined) {
    request.view = viewFrom(JSON.parse(view) as CompactView, request);
    request.consentHash = consentHash;
  }
  const decision = fields.get('dc');
  if (decision !== undefined) request.decision = JSON.parse(decision) as DecisionRecord;
  const outcome = fields.get('oc');
  if (outcome !== undefined) request.outcome = JSON.parse(outcome) as OutcomeRecord;
  const link = fields.get('lk');
  if (link !== undefined) request.magicLinkHash = link;
  return request;
}

const RECORD_FIELDS = new Set(['st', 'ex', 'h', 'v', 'dc', 'oc', 'lk']);
