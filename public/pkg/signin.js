// The sign-in pages' only script. /login and /login/verify are served
// without the WebAssembly app (it is what everyone loads every day, often on
// a phone): their forms are plain forms that work without JavaScript, and
// this module adds the one thing a form can't do, passkeys —
//   /login:         the "Sign in with a passkey" button, and passkeys offered
//                   in the username field's autofill (conditional mediation);
//   /login/verify:  the "Use a passkey" button of a later sign-in step.
// It calls the same server functions the app would (`/api/auth/…`), turns
// WebAuthn options from JSON into the browser's call and the browser's answer
// back into JSON (webauthn-rs's shapes), and goes where the server says.

const b64urlToBytes = (s) => {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};
const bytesToB64url = (buf) =>
  btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** The browser's refusal, in words (the same as the app's). */
function browserMessage(e) {
  switch (e && e.name) {
    case 'NotAllowedError':
      return 'The passkey request was cancelled or timed out. Try again when you are ready.';
    case 'SecurityError':
      return "The browser refused: passkeys need this site's own address (https, or localhost).";
    case 'NotSupportedError':
      return 'This browser or device does not support passkeys.';
    case 'AbortError':
      return 'The passkey request was stopped.';
    default:
      return 'The browser could not use a passkey here.';
  }
}

/** The server's refusal (the app's error type, as JSON), in words. */
function serverMessage(error) {
  if (error && typeof error === 'object') {
    if (typeof error.Refused === 'string') return error.Refused;
    if (Array.isArray(error.Invalid) && error.Invalid[0]) return error.Invalid[0].message;
    if (error.RateLimited) return `Too many attempts. Try again in ${error.RateLimited.retry_after_secs} seconds.`;
  }
  if (error === 'SignInExpired') return 'Your sign-in expired. Please start again.';
  if (error === 'InvalidCredentials') return 'The username, email or password is not right.';
  return 'Something went wrong. Please try again.';
}

class Refusal extends Error {}

/** Calls a server function with form fields; its JSON answer, or a Refusal. */
async function call(endpoint, fields) {
  let response;
  try {
    response = await fetch(`/api/auth/${endpoint}`, { method: 'POST', body: new URLSearchParams(fields) });
  } catch {
    throw new Refusal('The server could not be reached. Check your connection and try again.');
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Refusal(serverMessage(body));
  return body;
}

let pendingAutofill = null;

/** Asks the browser for a passkey with webauthn-rs's request options. */
async function getPasskey(optionsJson, conditional) {
  if (pendingAutofill) pendingAutofill.abort();
  const { publicKey } = JSON.parse(optionsJson);
  const options = {
    ...publicKey,
    challenge: b64urlToBytes(publicKey.challenge),
    allowCredentials: (publicKey.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) })),
  };
  delete options.extensions;
  const request = { publicKey: options };
  if (conditional) {
    pendingAutofill = new AbortController();
    request.signal = pendingAutofill.signal;
    request.mediation = 'conditional';
  }
  let credential;
  try {
    credential = await navigator.credentials.get(request);
  } catch (e) {
    // An autofill request ends quietly (the person typed a password, or
    // chose the button instead); a request they started says why it failed.
    if (conditional) throw e;
    throw new Refusal(browserMessage(e));
  }
  if (!credential) throw new Refusal('The browser gave no passkey.');
  const r = credential.response;
  return JSON.stringify({
    id: credential.id,
    rawId: bytesToB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: bytesToB64url(r.authenticatorData),
      clientDataJSON: bytesToB64url(r.clientDataJSON),
      signature: bytesToB64url(r.signature),
      userHandle: r.userHandle ? bytesToB64url(r.userHandle) : null,
    },
    extensions: {},
  });
}

const next = () => document.querySelector('input[name=next]')?.value || '';

/** A passkey ceremony: start, ask the browser, finish, then go where the server says. */
async function ceremony(start, finish, startFields, conditional) {
  const challenge = await call(start, startFields);
  const credential = await getPasskey(challenge.options, conditional);
  const target = await call(finish, { ceremony: challenge.ceremony, credential, next: next() });
  window.location.assign(target);
}

/** Wires a passkey button: busy text while waiting, the reason when it fails. */
function wire(button, run) {
  const label = button.textContent;
  const error = document.createElement('div');
  error.className = 'alert alert--error';
  error.setAttribute('role', 'alert');
  error.hidden = true;
  button.before(error);
  button.hidden = false;
  button.addEventListener('click', async () => {
    error.hidden = true;
    button.disabled = true;
    button.textContent = 'Waiting for your passkey…';
    try {
      await run();
    } catch (e) {
      // A refusal says why; a stopped autofill request is not the person's doing.
      error.textContent = e instanceof Refusal ? e.message : 'The browser could not use a passkey here.';
      error.hidden = false;
      button.disabled = false;
      button.textContent = label;
    }
  });
}

// A plain form is sent once: its button shows that it is working.
for (const form of document.querySelectorAll('form')) {
  form.addEventListener('submit', () => {
    const submit = form.querySelector('button[type=submit]');
    if (submit) setTimeout(() => (submit.disabled = true));
  });
}

if (window.PublicKeyCredential) {
  const signIn = document.querySelector('[data-passkey=sign-in]');
  if (signIn) {
    wire(signIn, () => ceremony('passkey_start', 'passkey_finish', { conditional: 'false' }, false));
    PublicKeyCredential.isConditionalMediationAvailable?.().then((available) => {
      if (!available) return;
      // Waits until the person picks a passkey in the username field's autofill.
      ceremony('passkey_start', 'passkey_finish', { conditional: 'true' }, true).catch((e) => {
        if (!(e instanceof Refusal)) return;
        const error = signIn.previousElementSibling;
        error.textContent = e.message;
        error.hidden = false;
      });
    });
  }
  const step = document.querySelector('[data-passkey=step]');
  if (step) wire(step, () => ceremony('passkey_step_start', 'passkey_step_finish', {}, false));
}

// For the end-to-end tests: this page's script is ready.
window.__latchkeyPageReady = true;
performance.mark('latchkey:interactive'); // time to interactive, for bench/
