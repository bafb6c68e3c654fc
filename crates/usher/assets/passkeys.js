// Passkeys: the browser's half of each WebAuthn ceremony. A form marked `data-passkey` asks
// usher for a challenge (`data-options`), hands it to the browser's passkey prompt, and posts
// the answer back as an ordinary form, so the server's answer (a redirect, a page) is followed
// as for any other form. Without this script, or without passkey support, the forms stay hidden.
"use strict";
(() => {
  const fromBase64url = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  };
  const toBase64url = (buffer) => {
    let raw = "";
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const decodeIds = (list) => (list || []).forEach((c) => { c.id = fromBase64url(c.id); });

  async function create(options) {
    const o = options.publicKey;
    o.challenge = fromBase64url(o.challenge);
    o.user.id = fromBase64url(o.user.id);
    decodeIds(o.excludeCredentials);
    const cred = await navigator.credentials.create({ publicKey: o });
    const r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toBase64url(r.attestationObject),
        clientDataJSON: toBase64url(r.clientDataJSON),
        transports: typeof r.getTransports === "function" ? r.getTransports() : undefined,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  async function get(options) {
    const o = options.publicKey;
    o.challenge = fromBase64url(o.challenge);
    decodeIds(o.allowCredentials);
    const request = { publicKey: o };
    if (options.mediation) request.mediation = options.mediation;
    const cred = await navigator.credentials.get(request);
    const r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  const supported = !!(window.PublicKeyCredential && navigator.credentials);
  document.querySelectorAll("[data-passkey-unsupported]").forEach((el) => { el.hidden = supported; });
  if (!supported) return;

  document.querySelectorAll("form[data-passkey]").forEach((form) => {
    form.hidden = false;
    const status = form.querySelector("[data-passkey-status]");
    const say = (text) => { if (status) status.textContent = text; };
    form.addEventListener("submit", async (event) => {
      if (form.elements.credential.value) return; // the answer is in: a plain submit
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      say(form.dataset.waiting || "");
      try {
        const res = await fetch(form.dataset.options, {
          method: "POST",
          headers: { "x-csrf-token": form.elements.csrf.value, accept: "application/json" },
          credentials: "same-origin",
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error((body.error && body.error.message) || form.dataset.failed);
        form.elements.ceremony.value = body.ceremony;
        const answer = form.dataset.passkey === "create"
          ? await create(body.options)
          : await get(body.options);
        form.elements.credential.value = JSON.stringify(answer);
        form.submit();
      } catch (e) {
        // NotAllowedError: the person closed the prompt, or it timed out; InvalidStateError:
        // this authenticator holds one of the account's passkeys already.
        const known = { NotAllowedError: form.dataset.cancelled, InvalidStateError: form.dataset.known };
        say((e && known[e.name]) || (e && e.message) || form.dataset.failed);
        if (button) button.disabled = false;
      }
    });
  });
})();
