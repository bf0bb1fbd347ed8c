// Passkeys (WebAuthn). A button with data-passkey="create" or "get" reads the options the server put in the page
// (the <script type="application/json"> named by data-options), asks the browser, puts its answer in the form's
// hidden "credential" field and submits the form: the server verifies it as any other form post.
"use strict";

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  const bytes = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function withIds(descriptors) {
  return (descriptors || []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));
}

function publicKey(kind, options) {
  const key = { ...options, challenge: fromBase64url(options.challenge) };
  if (kind === "create") {
    key.user = { ...options.user, id: fromBase64url(options.user.id) };
    key.excludeCredentials = withIds(options.excludeCredentials);
  } else {
    key.allowCredentials = withIds(options.allowCredentials);
  }
  return key;
}

function answer(credential) {
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toBase64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = toBase64url(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = toBase64url(response.authenticatorData);
    json.response.signature = toBase64url(response.signature);
    if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
  }
  return json;
}

document.querySelectorAll("button[data-passkey]").forEach((button) => {
  const form = button.form;
  const status = form.querySelector("[data-passkey-status]");
  if (!window.PublicKeyCredential) {
    button.disabled = true;
    if (status) status.textContent = "This browser does not support passkeys.";
    return;
  }
  button.addEventListener("click", async () => {
    const kind = button.dataset.passkey;
    if (kind === "create" && !form.reportValidity()) return;
    const options = JSON.parse(document.getElementById(button.dataset.options).textContent);
    if (status) status.textContent = "Follow your browser's prompt…";
    try {
      const key = publicKey(kind, options);
      const credential = kind === "create"
        ? await navigator.credentials.create({ publicKey: key })
        : await navigator.credentials.get({ publicKey: key });
      form.elements.credential.value = JSON.stringify(answer(credential));
      form.submit();
    } catch (error) {
      if (status) status.textContent = `No passkey was used (${error.name}). Try again, or use another way.`;
    }
  });
});
