// The web authenticator: what the mobile app does, in the browser, over the same public device API.
//
// * Enrolment generates an ES256 key pair with WebCrypto; the private key is NOT extractable and is
//   kept (as a CryptoKey) in IndexedDB with the device id and token. Nothing secret is in localStorage.
// * Every device call carries a DPoP proof (RFC 9449) signed here: header {typ, alg, jwk}, claims
//   {htm, htu = PUBLIC_URL + path, jti, ath, iat} — exactly as dev/device-client.ts signs them.
// * Decisions are compact JWS {alg: ES256, typ: ciba-decision+jwt, kid: device_id} over
//   {request_id, action, consent_hash, [binding_choice], iat, jti}.
// * Pending requests are polled every 2 s (and at once when the page becomes visible).

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
const PUBLIC_URL = meta('ciba-public-url').replace(/\/+$/, '');
const POLL_INTERVAL_MS = 2000;

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

// --- encoding and signing ---------------------------------------------------------------------

function base64url(bytes) {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const base64urlJson = (value) => base64url(encoder.encode(JSON.stringify(value)));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** WebCrypto's ECDSA signature is r‖s (IEEE P1363), which is exactly the JWS ES256 format. */
async function signJws(privateKey, header, payload) {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, encoder.encode(signingInput));
  return `${signingInput}.${base64url(signature)}`;
}

async function accessTokenHash(token) {
  return base64url(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
}

async function dpopProof(device, method, path) {
  return signJws(
    device.privateKey,
    { typ: 'dpop+jwt', alg: 'ES256', jwk: device.publicJwk },
    { htm: method, htu: `${PUBLIC_URL}${path}`, jti: crypto.randomUUID(), ath: await accessTokenHash(device.deviceToken), iat: nowSeconds() },
  );
}

async function decisionToken(device, view, action, bindingChoice) {
  return signJws(
    device.privateKey,
    { alg: 'ES256', typ: 'ciba-decision+jwt', kid: device.deviceId },
    {
      request_id: view.request_id,
      action,
      consent_hash: view.consent_hash,
      ...(bindingChoice !== undefined ? { binding_choice: bindingChoice } : {}),
      iat: nowSeconds(),
      jti: crypto.randomUUID(),
    },
  );
}

// --- storage (IndexedDB keeps CryptoKey objects without exporting them) -------------------------

const DB_NAME = 'ciba-authenticator';
const STORE = 'device';
const RECORD = 'self';

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, operation) {
  const db = await openDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = operation(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

const loadDevice = () => withStore('readonly', (store) => store.get(RECORD));
const saveDevice = (device) => withStore('readwrite', (store) => store.put(device, RECORD));
const forgetDevice = () => withStore('readwrite', (store) => store.delete(RECORD));

// --- the device API ----------------------------------------------------------------------------

async function readBody(response) {
  const text = await response.text();
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

async function deviceCall(device, method, path, body) {
  const response = await fetch(`${PUBLIC_URL}${path}`, {
    method,
    cache: 'no-store',
    headers: {
      authorization: `DPoP ${device.deviceToken}`,
      dpop: await dpopProof(device, method, path),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await readBody(response) };
}

async function enrol(activationCode, name) {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const exported = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const publicJwk = { kty: exported.kty, crv: exported.crv, x: exported.x, y: exported.y };
  const response = await fetch(`${PUBLIC_URL}/device/v1/enrollments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ activation_code: activationCode, public_jwk: publicJwk, platform: 'web', name: name || defaultDeviceName() }),
  });
  const body = await readBody(response);
  if (response.status !== 201) throw new Error(body?.error_description ?? `enrolment failed (${response.status})`);
  const device = {
    deviceId: body.device_id,
    userId: body.user_id,
    deviceToken: body.device_token,
    privateKey: keys.privateKey,
    publicJwk,
    enrolledAt: new Date().toISOString(),
  };
  await saveDevice(device);
  return device;
}

function defaultDeviceName() {
  const platform = navigator.userAgentData?.platform ?? navigator.platform ?? '';
  return `Web browser${platform ? ` (${platform})` : ''}`.slice(0, 128);
}

// --- rendering (DOM nodes and textContent only: nothing from the server becomes markup) ----------

const STANDARD_SCOPES = {
  openid: 'Confirm who you are',
  profile: 'Your basic profile (name, picture)',
  email: 'Your e-mail address',
  phone: 'Your phone number',
  address: 'Your postal address',
  offline_access: 'Stay signed in',
};

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function initials(name) {
  return name
    .split(/\s+/)
    .map((word) => word[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

function logoOf(client, name) {
  const fallback = () => element('span', { className: 'logo logo-initials', 'aria-hidden': 'true', text: initials(name) });
  if (typeof client.logo_uri !== 'string' || !/^https:\/\//.test(client.logo_uri)) return fallback();
  const image = element('img', { className: 'logo', src: client.logo_uri, alt: '', width: '48', height: '48' });
  image.addEventListener('error', () => image.replaceWith(fallback()));
  return image;
}

const isPrimitive = (value) => ['string', 'number', 'boolean'].includes(typeof value);
const words = (key) => key.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** Amounts read as "50.00 EUR"; flat objects as "key: value, …"; anything deeper as JSON. */
function detailValue(value) {
  if (value === null || value === undefined) return '';
  if (isPrimitive(value)) return String(value);
  if (Array.isArray(value) && value.every(isPrimitive)) return value.join(', ');
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(isPrimitive)) {
    if (Object.keys(value).length === 2 && 'amount' in value && 'currency' in value) return `${value.amount} ${value.currency}`;
    return Object.entries(value).map(([key, item]) => `${words(key)}: ${item}`).join(', ');
  }
  return JSON.stringify(value);
}

function authorizationDetails(details) {
  const container = element('div');
  for (const detail of details) {
    const { type, ...rest } = detail;
    const list = element('dl');
    for (const [key, value] of Object.entries(rest)) {
      list.append(element('dt', { text: words(key) }), element('dd', { text: detailValue(value) }));
    }
    container.append(element('div', { className: 'detail' }, element('h3', { text: typeof type === 'string' ? words(type) : 'Details' }), list));
  }
  return container;
}

function formatLeft(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}

/** request_id → {view, card}; cards survive polls so a half-made pick is not lost. */
const cards = new Map();
let device;

function requestCard(view) {
  const name = view.client?.name ?? view.client?.id ?? 'An application';
  const titleId = `request-${view.request_id}-title`;
  const card = element('article', { className: 'request', 'aria-labelledby': titleId, 'data-request-id': view.request_id });
  card.append(
    element('header', { className: 'client' }, logoOf(view.client ?? {}, name),
      element('div', {}, element('h3', { id: titleId, text: name }), element('p', { className: 'subtitle', text: 'asks for your approval' }))),
  );
  if (Array.isArray(view.binding_choices)) {
    const fieldset = element('fieldset', { className: 'choices' }, element('legend', { text: 'Which message does your other screen show?' }));
    view.binding_choices.forEach((choice, index) => {
      const id = `choice-${view.request_id}-${index}`;
      const input = element('input', { type: 'radio', name: `binding-${view.request_id}`, value: choice, id });
      fieldset.append(element('label', { className: 'choice', for: id }, input, element('span', { text: choice })));
    });
    card.append(fieldset);
  } else if (typeof view.binding_message === 'string') {
    card.append(element('p', { className: 'binding-label', text: 'Check that your other screen shows' }), element('p', { className: 'binding', text: view.binding_message }));
  }
  const scopes = element('ul', { className: 'scopes' });
  for (const scope of view.scopes ?? []) {
    scopes.append(element('li', {}, element('span', { className: 'scope', text: scope.display_name ?? STANDARD_SCOPES[scope.name] ?? scope.name }),
      scope.description ? element('span', { className: 'scope-description', text: scope.description }) : undefined));
  }
  if ((view.scopes ?? []).length === 0) scopes.append(element('li', { text: 'No particular access' }));
  card.append(element('h4', { className: 'section', text: 'It wants' }), scopes);
  if (Array.isArray(view.authorization_details) && view.authorization_details.length > 0) {
    card.append(element('h4', { className: 'section', text: 'Details' }), authorizationDetails(view.authorization_details));
  }
  const countdown = element('span', { className: 'countdown', 'data-expires-at': view.expires_at });
  card.append(element('p', { className: 'expiry' }, 'Expires in ', countdown));
  const deny = element('button', { type: 'button', className: 'deny', text: 'Deny' });
  const approve = element('button', { type: 'button', className: 'approve', text: 'Approve' });
  const cardStatus = element('p', { className: 'card-status', role: 'alert' });
  card.append(element('div', { className: 'buttons' }, deny, approve), cardStatus);
  deny.addEventListener('click', () => void decide(view, 'deny', card));
  approve.addEventListener('click', () => void decide(view, 'approve', card));
  return card;
}

function setStatus(text, tone = '') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${tone}`;
}

function render(views) {
  const list = $('request-list');
  const listed = new Set(views.map((view) => view.request_id));
  for (const [id, entry] of cards) {
    if (!listed.has(id) && !entry.deciding) {
      entry.card.remove();
      cards.delete(id);
    }
  }
  for (const view of views) {
    const known = cards.get(view.request_id);
    if (known !== undefined && known.view.consent_hash === view.consent_hash) continue;
    const card = requestCard(view);
    if (known !== undefined) known.card.replaceWith(card);
    else list.append(card);
    cards.set(view.request_id, { view, card, deciding: false });
  }
  $('empty').hidden = cards.size > 0;
  tick();
}

function tick() {
  for (const countdown of document.querySelectorAll('.countdown')) {
    const left = Math.max(0, Math.round((Date.parse(countdown.dataset.expiresAt) - Date.now()) / 1000));
    countdown.textContent = left > 0 ? formatLeft(left) : 'expired';
    countdown.parentElement.classList.toggle('soon', left <= 15);
    if (left === 0) for (const button of countdown.closest('.request').querySelectorAll('button')) button.disabled = true;
  }
}

async function decide(view, action, card) {
  const entry = cards.get(view.request_id);
  const cardStatus = card.querySelector('.card-status');
  const picked = card.querySelector('input[type="radio"]:checked')?.value;
  if (action === 'approve' && Array.isArray(view.binding_choices) && picked === undefined) {
    cardStatus.textContent = 'Pick the message your other screen shows first.';
    return;
  }
  const buttons = card.querySelectorAll('button');
  for (const button of buttons) button.disabled = true;
  if (entry) entry.deciding = true;
  cardStatus.textContent = '';
  try {
    const token = await decisionToken(device, view, action, action === 'approve' ? picked : undefined);
    const response = await deviceCall(device, 'POST', `/device/v1/requests/${encodeURIComponent(view.request_id)}/decision`, { decision: token });
    const name = view.client?.name ?? 'the application';
    if (response.status === 202) {
      card.remove();
      cards.delete(view.request_id);
      $('empty').hidden = cards.size > 0;
      if (response.body?.status === 'approved') setStatus(`Approved: ${name} may go ahead.`, 'ok');
      else if (action === 'approve') setStatus(`Denied: the message you picked is not the one your other screen shows, so the request of ${name} was denied.`, 'error');
      else setStatus(`Denied: ${name} was refused.`, 'ok');
      return;
    }
    cardStatus.textContent = response.body?.error_description ?? `The answer was not accepted (${response.status}).`;
    if (response.status === 409 || response.status === 410) {
      setTimeout(() => {
        card.remove();
        cards.delete(view.request_id);
      }, 3000);
      return;
    }
  } catch (error) {
    cardStatus.textContent = `The answer could not be sent: ${error.message}`;
  }
  for (const button of buttons) button.disabled = false;
  if (entry) entry.deciding = false;
}

// --- polling -----------------------------------------------------------------------------------

let pollTimer;
let polling = false;

/** One poll at a time; the next is scheduled when this one ends. */
async function poll() {
  if (polling || device === undefined) return;
  polling = true;
  clearTimeout(pollTimer);
  const status = $('status');
  try {
    const response = await deviceCall(device, 'GET', '/device/v1/requests');
    if (response.status === 200) {
      render(response.body.requests);
      if (status.dataset.offline === '1') {
        delete status.dataset.offline;
        setStatus('');
      }
    } else if (response.status === 401 && response.body?.error === 'invalid_token') {
      await forgetDevice();
      device = undefined;
      showEnrolment('This browser was removed from your account. Enrol it again with a new activation code.');
    } else {
      setStatus(response.body?.error_description ?? `The service answered ${response.status}.`, 'error');
    }
  } catch {
    setStatus('The service cannot be reached; retrying…', 'error');
    status.dataset.offline = '1';
  } finally {
    polling = false;
    if (device !== undefined) pollTimer = setTimeout(poll, POLL_INTERVAL_MS);
  }
}

// --- screens -----------------------------------------------------------------------------------

function showEnrolment(message = '') {
  clearTimeout(pollTimer);
  for (const { card } of cards.values()) card.remove();
  cards.clear();
  $('requests').hidden = true;
  $('enrol').hidden = false;
  $('who').textContent = 'Approve sign-ins and payments from this browser.';
  setStatus(message, message ? 'error' : '');
}

function showRequests() {
  $('enrol').hidden = true;
  $('requests').hidden = false;
  $('who').textContent = `Signed in as ${device.userId}`;
  void poll();
}

async function start() {
  if (!window.isSecureContext || crypto.subtle === undefined) {
    showEnrolment('This page needs a secure connection (HTTPS) to keep its key safe.');
    $('enrol-form').querySelector('button').disabled = true;
    return;
  }
  device = await loadDevice().catch(() => undefined);
  if (device !== undefined) showRequests();
  else showEnrolment();

  $('enrol-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = $('activation-code').value.trim();
    if (code.length === 0) {
      setStatus('Enter your activation code.', 'error');
      return;
    }
    const button = event.target.querySelector('button');
    button.disabled = true;
    setStatus('Enrolling…');
    try {
      device = await enrol(code, $('device-name').value.trim());
      $('activation-code').value = '';
      setStatus('This browser is ready. Requests will appear here.', 'ok');
      showRequests();
    } catch (error) {
      setStatus(error.message, 'error');
    } finally {
      button.disabled = false;
    }
  });

  $('forget').addEventListener('click', async () => {
    if (device !== undefined) await deviceCall(device, 'DELETE', '/device/v1/devices/self').catch(() => undefined);
    await forgetDevice();
    device = undefined;
    showEnrolment('This browser was removed.');
  });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && device !== undefined) void poll();
  });
  setInterval(tick, 1000);
}

void start();
