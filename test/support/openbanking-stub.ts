/**
 * A local stand-in for SecureAuth's Open Banking consent-page APIs (UK account-access and
 * domestic-payment consents, Open Banking Brasil data-access and payment consents), served by the
 * SecureAuth stand-in of secureauth-stub.ts so it shares its token endpoint and tokens.
 *
 * What it checks, so that tests catch contract mistakes rather than merely replay them:
 * - bearer tokens carrying `manage_openbanking_consents`;
 * - accept bodies against `AcceptConsentRequest` (Brasil payments: `AcceptPaymentConsent`) and reject
 *   bodies against `RejectConsentRequest` of the kind's reference file, unknown properties rejected,
 *   plus `login_state` (and a reject's `id`) against the registered login;
 * - its own answers (`Get…ConsentResponse`, `ConsentAccepted`, `ConsentRejected`, `Error`) against the
 *   reference definitions, so fixtures stay honest.
 *
 * Paths: `{issuer}/open-banking/account-access-consent/{login}[/accept|/reject]`,
 * `…/open-banking/domestic-payment-consent/…`, `…/open-banking-brasil/consent/…` and
 * `…/open-banking-brasil/payment/…`; `basePath` moves them (a vanity domain).
 */
import type { IncomingHttpHeaders } from 'node:http';
import express from 'express';
import type { Request, Response } from 'express';
import { assertMatchesDefinition, validateAgainstDefinition, type ReferenceFile } from './reference-schemas.js';
import { startSecureAuthStub, type ScriptedResponse, type SecureAuthStub, type StubTools } from './secureauth-stub.js';

export type ConsentKind = 'uk_account_access' | 'uk_domestic_payment' | 'brasil_data_access' | 'brasil_payment';
export type ConsentPageOperation = 'get' | 'accept' | 'reject';

const REQUIRED_SCOPE = 'manage_openbanking_consents';
const TENANT = 'acme';
const WORKSPACE = 'ciba';

interface PageContract {
  path: string;
  file: ReferenceFile;
  /** Definition of the GET answer, and its property holding the kind's consent object. */
  response: string;
  field: string;
  accept: string;
  reject: string;
  /** `ConsentType` value the answer carries. */
  type: string;
}

export const consentPageContracts: Record<ConsentKind, PageContract> = {
  uk_account_access: {
    path: '/open-banking/account-access-consent',
    file: 'openbanking-uk-consent-page',
    response: 'GetAccountAccessConsentResponse',
    field: 'account_access_consent',
    accept: 'AcceptConsentRequest',
    reject: 'RejectConsentRequest',
    type: 'account_access',
  },
  uk_domestic_payment: {
    path: '/open-banking/domestic-payment-consent',
    file: 'openbanking-uk-consent-page',
    response: 'GetDomesticPaymentConsentResponse',
    field: 'domestic_payment_consent',
    accept: 'AcceptConsentRequest',
    reject: 'RejectConsentRequest',
    type: 'domestic_payment',
  },
  brasil_data_access: {
    path: '/open-banking-brasil/consent',
    file: 'openbanking-brasil-consent-page',
    response: 'GetOBBRCustomerDataAccessConsentResponse',
    field: 'customer_data_access_consent',
    accept: 'AcceptConsentRequest',
    reject: 'RejectConsentRequest',
    type: 'consents',
  },
  brasil_payment: {
    path: '/open-banking-brasil/payment',
    file: 'openbanking-brasil-consent-page',
    response: 'GetOBBRCustomerPaymentConsentResponse',
    field: 'customer_payment_consent',
    accept: 'AcceptPaymentConsent',
    reject: 'RejectConsentRequest',
    type: 'payments',
  },
};

export interface RequestedScopeInput {
  name: string;
  requested_name?: string;
  display_name?: string;
  description?: string;
}

export interface RegisterConsentInput {
  login_id: string;
  login_state: string;
  /** Undefined: SecureAuth knows the login but holds no Open Banking consent for it (every GET is 404). */
  kind?: ConsentKind;
  /** The kind's consent object (`AccountAccessConsent`, `DomesticPaymentConsent`, …). */
  consent?: Record<string, unknown>;
  client_id?: string;
  client_name?: string;
  requested_scopes?: RequestedScopeInput[];
  subject?: string;
}

export interface ConsentPageCall {
  kind: ConsentKind;
  operation: ConsentPageOperation;
  login: string;
  /** Parsed JSON body (accept/reject); undefined for GET. */
  body: unknown;
  headers: IncomingHttpHeaders;
  query: Record<string, string>;
  /** HTTP status the stub answered with. */
  status: number;
  /** Why the stub found the request invalid (schema errors, login_state/id mismatch). */
  validationErrors: string[];
}

export interface OpenBankingStubOptions {
  /** Where the consent pages are mounted; default the issuer path `/{tenant}/{workspace}`. */
  basePath?: string;
}

export interface OpenBankingStub {
  /** The SecureAuth stand-in underneath (token endpoint, scope-grant API). */
  readonly secureAuth: SecureAuthStub;
  readonly issuerUrl: string;
  /** `{origin}{basePath}`: what SECUREAUTH_OPENBANKING_URL must be when `basePath` is not the issuer's. */
  readonly openBankingUrl: string;
  readonly calls: readonly ConsentPageCall[];
  /** Errors in the stub's own answers (also answered as 500). Should stay empty. */
  readonly stubErrors: readonly string[];
  registerConsent(input: RegisterConsentInput): void;
  /** Changes a registered consent (as a client amending it would); the result is checked against the reference. */
  updateConsent(login: string, change: (consent: Record<string, unknown>) => void): void;
  failNext(operation: ConsentPageOperation, responses: ScriptedResponse[]): void;
  accepted(login: string): unknown[];
  rejected(login: string): unknown[];
  /** The calls that carried a body (accept and reject) for the login. */
  decisions(login: string): ConsentPageCall[];
  decisionOf(login: string): 'pending' | 'accepted' | 'rejected' | undefined;
  waitFor(predicate: (calls: readonly ConsentPageCall[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface LoginRecord {
  input: RegisterConsentInput;
  decision: 'pending' | 'accepted' | 'rejected';
  createdAt: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function consentResponse(login: LoginRecord): Record<string, unknown> {
  const { input } = login;
  if (input.kind === undefined || input.consent === undefined) throw new Error('no consent registered for this login');
  const contract = consentPageContracts[input.kind];
  const consentId = input.consent['ConsentId'] ?? input.consent['consentId'];
  const status = input.consent['Status'] ?? input.consent['status'];
  const body = {
    consent_id: consentId,
    tenant_id: TENANT,
    server_id: WORKSPACE,
    client_id: input.client_id ?? 'tpp-client',
    client_info: { client_name: input.client_name ?? 'Budget Buddy' },
    created_at: login.createdAt,
    requested_scopes: (input.requested_scopes ?? [{ name: 'openid' }]).map((scope) => ({
      ...scope,
      authorization_server_id: WORKSPACE,
      tenant_id: TENANT,
    })),
    status,
    type: contract.type,
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    [contract.field]: input.consent,
  };
  assertMatchesDefinition(contract.file, contract.response, body);
  return body;
}

interface StubState {
  calls: ConsentPageCall[];
  logins: Map<string, LoginRecord>;
  queues: Map<ConsentPageOperation, ScriptedResponse[]>;
}

/** The consent pages of every kind, for the stand-in's app, under `basePath`. */
function mountConsentPages(app: express.Express, tools: StubTools, basePath: string, state: StubState): void {
  const rawBody = express.text({ type: () => true, limit: '1mb' });
  const router = express.Router();

  for (const [kind, contract] of Object.entries(consentPageContracts) as Array<[ConsentKind, PageContract]>) {
    const handler = (operation: ConsentPageOperation) => (req: Request, res: Response) => {
      const loginParam = req.params['login'];
      const call: ConsentPageCall = {
        kind,
        operation,
        login: typeof loginParam === 'string' ? loginParam : '',
        body: undefined,
        headers: { ...req.headers },
        query: Object.fromEntries(new URL(req.originalUrl, 'http://stub.invalid').searchParams),
        status: 0,
        validationErrors: [],
      };
      state.calls.push(call);
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        call.status = status;
        res.status(status).set(headers).json(body);
      };
      const refuse = (status: number, code: string, message: string): void => {
        const body = tools.errorBody(status, code, message);
        assertMatchesDefinition(contract.file, 'Error', body);
        reply(status, body);
      };

      // The body is inspected first, so every recorded call carries what was sent and what is wrong with it.
      if (operation !== 'get') inspectBody(req, call, operation === 'accept' ? contract.accept : contract.reject, contract.file);

      if (tools.isDown()) return refuse(503, 'service_unavailable', 'service unavailable');
      const scripted = state.queues.get(operation)?.shift();
      if (scripted) {
        call.status = scripted.status;
        res.status(scripted.status).set(scripted.headers ?? {});
        if (scripted.body === undefined) res.end();
        else res.json(scripted.body);
        return;
      }
      const unauthorized = tools.checkBearer(req, REQUIRED_SCOPE);
      if (unauthorized) return reply(unauthorized.status, unauthorized.body, unauthorized.headers);
      if (call.validationErrors.length > 0) return refuse(400, 'bad_request', call.validationErrors.join('; '));

      const login = state.logins.get(call.login);
      if (!login) return refuse(404, 'not_found', 'login not found');
      // login_state is optional on a GET; accept and reject must carry the registered one.
      const loginState = operation === 'get' ? call.query['login_state'] : isObject(call.body) ? call.body['login_state'] : undefined;
      if ((operation !== 'get' || loginState !== undefined) && loginState !== login.input.login_state) {
        call.validationErrors.push(`login_state ${JSON.stringify(loginState)} does not match the registered login`);
        return refuse(403, 'forbidden', 'invalid login state');
      }
      // A GET or an accept needs a consent of this very kind; a reject only needs the login.
      const rejectingBareLogin = operation === 'reject' && login.input.kind === undefined;
      if (login.input.kind !== kind && !rejectingBareLogin) return refuse(404, 'not_found', 'consent not found');
      if (operation === 'get') return reply(200, consentResponse(login));

      if (login.decision !== 'pending') return refuse(403, `login_already_${login.decision}`, `login already ${login.decision}`);
      login.decision = operation === 'accept' ? 'accepted' : 'rejected';
      const body = { redirect_to: `http://${req.headers.host ?? 'stub.invalid'}/${TENANT}/${WORKSPACE}/oauth2/authorize?login_id=${encodeURIComponent(call.login)}&consent_verified=true` };
      assertMatchesDefinition(contract.file, operation === 'accept' ? 'ConsentAccepted' : 'ConsentRejected', body);
      reply(200, body);
    };
    router.get(`${contract.path}/:login`, handler('get'));
    router.post(`${contract.path}/:login/accept`, rawBody, handler('accept'));
    router.post(`${contract.path}/:login/reject`, rawBody, handler('reject'));
  }
  app.use(basePath, router);
}

/** Content type, JSON syntax, the reference definition (strict) and a reject's `id`; every problem is recorded. */
function inspectBody(req: Request, call: ConsentPageCall, definition: string, file: ReferenceFile): void {
  if (!req.is('application/json')) call.validationErrors.push(`content-type must be application/json, got ${req.headers['content-type'] ?? 'none'}`);
  try {
    call.body = JSON.parse(typeof req.body === 'string' ? req.body : '') as unknown;
  } catch {
    call.body = req.body;
    call.validationErrors.push('body is not valid JSON');
    return;
  }
  const result = validateAgainstDefinition(file, definition, call.body, { strictProperties: true });
  if (!result.valid) call.validationErrors.push(...result.errors.map((error) => `${definition}: ${error}`));
  if (call.operation === 'reject' && isObject(call.body) && call.body['id'] !== call.login) {
    call.validationErrors.push(`id ${JSON.stringify(call.body['id'])} does not match the login in the path (${call.login})`);
  }
}

/** Starts the SecureAuth stand-in with the Open Banking consent pages on 127.0.0.1, on a free port. */
export async function startOpenBankingStub(options: OpenBankingStubOptions = {}): Promise<OpenBankingStub> {
  const state: StubState = { calls: [], logins: new Map(), queues: new Map() };
  const basePath = options.basePath ?? `/${TENANT}/${WORKSPACE}`;
  const secureAuth = await startSecureAuthStub({
    tenant: TENANT,
    workspace: WORKSPACE,
    extraRoutes: (app, tools) => mountConsentPages(app, tools, basePath, state),
  });

  const bodiesOf = (operation: ConsentPageOperation, login: string): unknown[] =>
    state.calls.filter((call) => call.operation === operation && call.login === login).map((call) => call.body);

  return {
    secureAuth,
    issuerUrl: secureAuth.issuerUrl,
    openBankingUrl: `${secureAuth.origin}${basePath}`,
    calls: state.calls,
    get stubErrors() {
      return secureAuth.stubErrors;
    },
    registerConsent(input) {
      const login: LoginRecord = { input: structuredClone(input), decision: 'pending', createdAt: new Date().toISOString() };
      if (input.kind !== undefined) consentResponse(login); // throws here, in the test, if the fixture breaks the contract
      state.logins.set(input.login_id, login);
    },
    updateConsent(loginId, change) {
      const login = state.logins.get(loginId);
      if (login?.input.consent === undefined) throw new Error(`no consent registered for ${loginId}`);
      change(login.input.consent);
      consentResponse(login);
    },
    failNext(operation, responses) {
      state.queues.set(operation, [...(state.queues.get(operation) ?? []), ...responses]);
    },
    accepted: (login) => bodiesOf('accept', login),
    rejected: (login) => bodiesOf('reject', login),
    decisions: (login) => state.calls.filter((call) => call.login === login && call.operation !== 'get'),
    decisionOf: (login) => state.logins.get(login)?.decision,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(state.calls)) {
        if (Date.now() >= deadline) {
          const seen = state.calls.map((call) => `${call.operation} ${call.kind} ${call.login} -> ${call.status}`).join(', ');
          throw new Error(`openbanking-stub waitFor: condition not met within ${timeoutMs} ms; calls: [${seen}]`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => secureAuth.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures: consents that follow the reference definitions
// ---------------------------------------------------------------------------------------------

const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();
const inMinutes = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString();

/** A consent awaiting authorisation, of the given kind, with the id given. */
export function exampleConsent(kind: ConsentKind, consentId: string): Record<string, unknown> {
  const now = new Date().toISOString();
  switch (kind) {
    case 'uk_account_access':
      return {
        ConsentId: consentId,
        CreationDateTime: now,
        StatusUpdateDateTime: now,
        Status: 'AwaitingAuthorisation',
        Permissions: ['ReadAccountsBasic', 'ReadBalances', 'ReadTransactionsDetail'],
        ExpirationDateTime: inDays(90),
        TransactionFromDateTime: inDays(-365),
        TransactionToDateTime: inDays(90),
      };
    case 'uk_domestic_payment':
      return {
        ConsentId: consentId,
        CreationDateTime: now,
        StatusUpdateDateTime: now,
        Status: 'AwaitingAuthorisation',
        Initiation: {
          InstructionIdentification: 'ACME412',
          EndToEndIdentification: 'FRESCO.21302.GFX.20',
          InstructedAmount: { Amount: '165.88', Currency: 'GBP' },
          CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Inc' },
          RemittanceInformation: { Reference: 'FRESCO-101', Unstructured: 'Internal ops code 5120101' },
        },
        Authorisation: { AuthorisationType: 'Single', CompletionDateTime: inMinutes(30) },
        PaymentContextCode: 'EcommerceGoods',
      };
    case 'brasil_data_access':
      return {
        consentId,
        creationDateTime: now,
        statusUpdateDateTime: now,
        status: 'AWAITING_AUTHORISATION',
        permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'],
        expirationDateTime: inDays(90),
        transactionFromDateTime: inDays(-90),
        transactionToDateTime: inDays(90),
        document: { identification: '11111111111111', rel: 'CNPJ' },
      };
    case 'brasil_payment':
      return {
        consentId,
        creationDateTime: now,
        statusUpdateDateTime: now,
        status: 'AWAITING_AUTHORISATION',
        expirationDateTime: inMinutes(5),
        creditor: { personType: 'PESSOA_NATURAL', cpfCnpj: '58764789000137', name: 'Marco Antonio de Brito' },
        loggedUser: { document: { identification: '11111111111', rel: 'CPF' } },
        payment: {
          type: 'PIX',
          date: inDays(1).slice(0, 10),
          currency: 'BRL',
          amount: '1500.00',
          details: {
            localInstrument: 'DICT',
            proxy: '12345678901',
            creditorAccount: { ispb: '12345678', issuer: '1774', number: '1234567890', accountType: 'CACC' },
          },
        },
      };
  }
}
