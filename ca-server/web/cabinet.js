// The applicants' personal cabinet. Keys are made here, in the browser, with
// WebCrypto (RSA-2048) and never sent anywhere: the server gets certificate
// requests and signed requests only, through the same /api/v1/ every client uses.
// Until the certificates are issued the keys wait in this browser's IndexedDB;
// then they go, with the certificates, into PKCS#12 key files protected by a
// password the applicant chooses (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, a
// SHA-256 MAC), the form the `ca` command writes.
"use strict";

(() => {
  const { pkijs, asn1js } = window.PKI;
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || "kk";
  let texts = {};

  /** PBKDF2 and MAC iterations of the key files: the command line's work factor. */
  const ITERATIONS = 600000;
  const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  const OID = {
    data: "1.2.840.113549.1.7.1",
    signedData: "1.2.840.113549.1.7.2",
    contentType: "1.2.840.113549.1.9.3",
    messageDigest: "1.2.840.113549.1.9.4",
    signingTime: "1.2.840.113549.1.9.5",
    signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
    friendlyName: "1.2.840.113549.1.9.20",
    localKeyId: "1.2.840.113549.1.9.21",
    keyBag: "1.2.840.113549.1.12.10.1.2",
    certBag: "1.2.840.113549.1.12.10.1.3",
    rsa: "1.2.840.113549.1.1.1",
    subjectKeyId: "2.5.29.14",
    basicConstraints: "2.5.29.19",
  };

  // ---- words ------------------------------------------------------------------

  function t(key, vars) {
    let text = texts[key];
    if (text === undefined) return undefined;
    for (const [k, v] of Object.entries(vars || {})) text = text.split(`{${k}}`).join(v);
    return text;
  }

  /** A failure to show: a key of the translations, or an API error body. */
  class Failure extends Error {
    constructor(key, body) {
      super(key);
      this.key = key;
      this.body = body;
    }
  }

  function describe(err) {
    if (err instanceof Failure && err.body && err.body.error) {
      const e = err.body.error;
      if (e.code === "invalid_application" && e.reason && t(`reason.${e.reason}`)) {
        const field = e.field && t(`field.${e.field}`);
        return field ? `${field}: ${t(`reason.${e.reason}`)}` : t(`reason.${e.reason}`);
      }
      return t(`error.${e.code}`) || e.message;
    }
    if (err instanceof Failure) return t(err.key) || err.key;
    return t("error.unexpected", { detail: String(err && err.message ? err.message : err) });
  }

  function say(text, ok) {
    const box = $("message");
    box.textContent = text;
    box.classList.toggle("ok", !!ok);
    box.hidden = !text;
    if (text) box.scrollIntoView({ block: "nearest" });
  }

  function fail(err) {
    say(describe(err));
    if (err instanceof Failure && err.body && err.body.error && err.body.error.field) {
      const input = $(err.body.error.field === "storage" ? "storage" : err.body.error.field);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
  }

  /** Run `work` with the form's button disabled and a note of what is going on. */
  async function busy(form, key, work) {
    // What happens and what went wrong are said right under the form acted on.
    form.after($("busy"), $("message"));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    $("busy").textContent = t(key) || "";
    say("");
    for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    try {
      await work();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
      $("busy").textContent = "";
    }
  }

  // ---- bytes --------------------------------------------------------------------

  const utf8 = (s) => new TextEncoder().encode(s);
  const toB64 = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  const pemBody = (pem) => fromB64(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  const sha256 = (data) => crypto.subtle.digest("SHA-256", data);
  const copy = (view) => view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);

  function compare(a, b) {
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  }

  // ---- the API --------------------------------------------------------------------

  async function call(method, path, { json, secret } = {}) {
    const headers = { Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    if (secret !== undefined) headers["X-Application-Secret"] = secret;
    let response;
    try {
      response = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), credentials: "same-origin" });
    } catch (_) {
      throw new Failure("error.network");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) throw new Failure("error.unexpected_answer", body && body.error ? body : null);
    return body;
  }

  // ---- keys and requests ---------------------------------------------------------

  const newKeyPair = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]);

  /** A PKCS#10 request for `keys`, base64 DER. Its subject is empty: the authority
   *  writes the subject from the verified applicant data, never from a request. */
  async function certificateRequest(keys) {
    const req = new pkijs.CertificationRequest();
    req.attributes = [];
    await req.subjectPublicKeyInfo.importKey(keys.publicKey);
    await req.sign(keys.privateKey, "SHA-256");
    return toB64(req.toSchema().toBER(false));
  }

  function store() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("nca-cabinet", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("keys");
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(new Failure("error.key_store"));
    });
  }

  /** One read-write transaction on the kept keys. */
  async function write(change) {
    const db = await store();
    await new Promise((resolve, reject) => {
      const tx = db.transaction("keys", "readwrite");
      change(tx.objectStore("keys"));
      tx.oncomplete = resolve;
      tx.onerror = () => reject(new Failure("error.key_store"));
    });
  }

  const keep = (number, value) => write((keys) => keys.put(value, number));
  const forget = (number) => write((keys) => keys.delete(number));

  async function kept(number) {
    const db = await store();
    return new Promise((resolve, reject) => {
      const get = db.transaction("keys").objectStore("keys").get(number);
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(new Failure("error.key_store"));
    });
  }

  // ---- certificates and key files ---------------------------------------------

  function extension(cert, oid) {
    return (cert.extensions || []).find((e) => e.extnID === oid);
  }

  /** The subject key identifier, which names the key files as the authority does. */
  function keyId(cert) {
    const ski = extension(cert, OID.subjectKeyId);
    return new Uint8Array(ski.parsedValue.valueBlock.valueHexView);
  }

  function isCa(cert) {
    const bc = extension(cert, OID.basicConstraints);
    return !!(bc && bc.parsedValue && bc.parsedValue.cA);
  }

  async function sameKey(publicKey, cert) {
    const spki = await crypto.subtle.exportKey("spki", publicKey);
    return compare(spki, cert.subjectPublicKeyInfo.toSchema().toBER(false)) === 0;
  }

  /** A PKCS#12 key file: the key shrouded, the certificate and its chain encrypted,
   *  a MAC over the whole; friendlyName and localKeyID carry the key id. */
  async function keyFile(privateKey, cert, chain, password) {
    const id = keyId(cert);
    const attributes = () => [
      new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: hex(id) })] }),
      new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: copy(id) })] }),
    ];
    const keyInfo = pkijs.PrivateKeyInfo.fromBER(await crypto.subtle.exportKey("pkcs8", privateKey));
    const keyBag = new pkijs.SafeBag({ bagId: OID.keyBag, bagValue: new pkijs.PKCS8ShroudedKeyBag({ parsedValue: keyInfo }), bagAttributes: attributes() });
    const certBags = [cert, ...chain].map((c, i) => {
      const bag = { bagId: OID.certBag, bagValue: new pkijs.CertBag({ parsedValue: c }) };
      if (i === 0) bag.bagAttributes = attributes();
      return new pkijs.SafeBag(bag);
    });
    const pfx = new pkijs.PFX({
      parsedValue: {
        integrityMode: 0,
        authenticatedSafe: new pkijs.AuthenticatedSafe({
          parsedValue: {
            safeContents: [
              { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [keyBag] }) },
              { privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certBags }) },
            ],
          },
        }),
      },
    });
    const pwd = copy(utf8(password));
    const pbes2 = { password: pwd, contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 }, hmacHashAlgorithm: "SHA-256", iterationCount: ITERATIONS };
    await keyBag.bagValue.makeInternalValues(pbes2);
    await pfx.parsedValue.authenticatedSafe.makeInternalValues({ safeContents: [{}, pbes2] });
    await pfx.makeInternalValues({ password: pwd, iterations: ITERATIONS, pbkdf2HashAlgorithm: "SHA-256", hmacHashAlgorithm: "SHA-256" });
    return pfx.toSchema().toBER(false);
  }

  const certificate = (pem) => pkijs.Certificate.fromBER(copy(pemBody(pem)));

  /** Key files for an issued pair: `keys` are {auth, sign} key pairs. */
  async function keyFiles(pair, keys, password) {
    const chain = pair.chain.map(certificate);
    const signChain = (pair.sign_chain || pair.chain).map(certificate);
    const files = [];
    for (const [prefix, pem, keyPair, ch] of [
      ["AUTH_RSA256_", pair.auth, keys.auth, chain],
      ["RSA256_", pair.sign, keys.sign, signChain],
    ]) {
      const cert = certificate(pem);
      if (!(await sameKey(keyPair.publicKey, cert))) throw new Failure("error.wrong_certificate");
      const der = await keyFile(keyPair.privateKey, cert, ch, password);
      files.push({ name: `${prefix}${hex(keyId(cert))}.p12`, der });
    }
    return files;
  }

  function offer(list, files) {
    list.textContent = "";
    for (const f of files) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([f.der], { type: "application/x-pkcs12" }));
      a.download = f.name;
      a.textContent = f.name;
      const li = document.createElement("li");
      li.appendChild(a);
      list.appendChild(li);
      a.click();
    }
  }

  function checkPassword(first, second) {
    if (first.length < 6) throw new Failure("error.password_short");
    if (first !== second) throw new Failure("error.password_mismatch");
  }

  // ---- signed requests (renew, revoke) ----------------------------------------

  /** The holder's SIGN key and certificate out of a PKCS#12 key file. */
  async function openKeyFile(bytes, password) {
    const pwd = copy(utf8(password));
    let pfx;
    try {
      pfx = pkijs.PFX.fromBER(copy(bytes));
      await pfx.parseInternalValues({ password: pwd, checkIntegrity: true });
    } catch (_) {
      throw new Failure("error.key_file_password");
    }
    const safe = pfx.parsedValue.authenticatedSafe;
    try {
      await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pwd })) });
    } catch (_) {
      throw new Failure("error.key_file_legacy");
    }
    let keyInfo = null;
    const certs = [];
    for (const contents of safe.parsedValue.safeContents) {
      for (const bag of contents.value.safeBags) {
        if (bag.bagId === OID.keyBag) {
          try {
            await bag.bagValue.parseInternalValues({ password: pwd });
          } catch (_) {
            throw new Failure("error.key_file_legacy");
          }
          keyInfo = bag.bagValue.parsedValue;
        } else if (bag.bagId === OID.certBag) {
          certs.push(bag.bagValue.parsedValue);
        }
      }
    }
    const cert = certs.find((c) => !isCa(c));
    if (!keyInfo || !cert) throw new Failure("error.key_file_empty");
    if (keyInfo.privateKeyAlgorithm.algorithmId !== OID.rsa) throw new Failure("error.key_file_not_rsa");
    const privateKey = await crypto.subtle.importKey("pkcs8", keyInfo.toSchema().toBER(false), RSA, false, ["sign"]);
    return { privateKey, cert };
  }

  /** Attributes in DER order (a SET OF is sorted by encoding). */
  function sorted(attributes) {
    return attributes
      .map((a) => ({ a, der: a.toSchema().toBER(false) }))
      .sort((x, y) => compare(x.der, y.der))
      .map((x) => x.a);
  }

  /** A detached CMS signature over `content`: contentType, messageDigest, signingTime
   *  (the server accepts requests signed in the last 10 minutes) and
   *  signingCertificateV2 signed; the certificate included. */
  async function signDetached(content, signer) {
    const certDer = signer.cert.toSchema().toBER(false);
    const attributes = sorted([
      new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
      new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: await sha256(content) })] }),
      new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
      new pkijs.Attribute({
        type: OID.signingCertificateV2,
        values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: await sha256(certDer) })] })] })] })],
      }),
    ]);
    const signed = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.cert.issuer, serialNumber: signer.cert.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
        }),
      ],
      certificates: [signer.cert],
    });
    await signed.sign(signer.privateKey, 0, "SHA-256");
    const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) });
    return info.toSchema().toBER(false);
  }

  async function envelope(action, signer) {
    const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
    const bytes = utf8(JSON.stringify({ ...action, nonce }));
    return { request: toB64(bytes), signature: toB64(await signDetached(bytes, signer)) };
  }

  // ---- the page -----------------------------------------------------------------

  function value(id) {
    return $(id).value.trim();
  }

  function requireFields(form) {
    for (const input of form.querySelectorAll("[required]")) {
      if (input.closest("[hidden]")) continue;
      const empty = input.type === "file" ? input.files.length === 0 : !input.value.trim();
      if (empty) {
        const label = form.querySelector(`label[for="${input.id}"]`);
        input.setAttribute("aria-invalid", "true");
        input.focus();
        throw new Failure(t("error.required", { field: label ? label.textContent.trim() : input.id }));
      }
    }
  }

  function form() {
    const entity = $("kind-entity").checked;
    const applicant = {
      iin: value("iin"),
      surname: value("surname"),
      name: value("name"),
      patronymic: value("patronymic") || null,
      email: value("email") || null,
      entity: entity ? { bin: value("bin"), organization: value("organization"), role: $("role").value } : null,
      storage: $("storage").value,
      registration_center: value("center"),
    };
    return applicant;
  }

  const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;

  /** Keys on a card are made by the `ca` command, not in a browser. */
  function tokenCommands(a) {
    const dir = `keys-${a.iin}`;
    const apply = [`ca enroll apply --server ${location.origin} --dir ${dir} --storage ${a.storage}`, `--iin ${a.iin}`, `--surname ${quote(a.surname)}`, `--name ${quote(a.name)}`];
    if (a.patronymic) apply.push(`--patronymic ${quote(a.patronymic)}`);
    if (a.email) apply.push(`--email ${quote(a.email)}`);
    if (a.entity) apply.push(`--bin ${a.entity.bin} --org ${quote(a.entity.organization)} --role ${a.entity.role}`);
    apply.push(`--center ${quote(a.registration_center)}`);
    return [`ca enroll keygen --storage ${a.storage} --dir ${dir}`, apply.join(" \\\n    ")].join("\n");
  }

  async function apply(event) {
    event.preventDefault();
    const formEl = event.target;
    await busy(formEl, "busy.keys", async () => {
      requireFields(formEl);
      const applicant = form();
      $("apply-result").hidden = true;
      $("token-commands").hidden = true;
      if (applicant.storage !== "pc") {
        $("token-command-text").textContent = tokenCommands(applicant);
        $("token-commands").hidden = false;
        $("token-command-text").focus();
        return;
      }
      const keys = { auth: await newKeyPair(), sign: await newKeyPair() };
      const [auth_csr, sign_csr] = [await certificateRequest(keys.auth), await certificateRequest(keys.sign)];
      $("busy").textContent = t("busy.submit");
      const receipt = await call("POST", "/api/v1/applications", { json: { applicant, auth_csr, sign_csr } });
      await keep(receipt.number, keys);
      $("receipt-number").textContent = receipt.number;
      $("receipt-secret").textContent = receipt.secret;
      $("status-number").value = receipt.number;
      $("status-secret").value = receipt.secret;
      $("apply-result").hidden = false;
      say(t(`state_note.${receipt.state}`) || "", true);
      $("apply-result").focus();
    });
  }

  const localTime = (iso) => (iso ? new Date(iso).toLocaleString(lang) : "—");

  async function status(event) {
    if (event) event.preventDefault();
    const formEl = $("status-form");
    await busy(formEl, "busy.status", async () => {
      requireFields(formEl);
      const view = await call("GET", `/api/v1/applications/${encodeURIComponent(value("status-number"))}`, { secret: value("status-secret") });
      $("status-state").textContent = t(`state.${view.state}`) || view.state;
      $("status-submitted").textContent = localTime(view.submitted_at);
      $("status-expires").textContent = localTime(view.expires_at);
      const expires = $("status-expires").closest("dd");
      expires.hidden = expires.previousElementSibling.hidden = !view.expires_at;
      $("status-center").textContent = view.registration_center;
      const reject = $("status-reject");
      reject.hidden = !view.reject_reason;
      reject.textContent = view.reject_reason ? t("status.rejected_because", { reason: view.reject_reason }) : "";
      $("status-result").hidden = false;
      $("download-form").hidden = view.state !== "issued";
      $("download-links").textContent = "";
      say(t(`state_note.${view.state}`) || "", true);
    });
  }

  async function download(event) {
    event.preventDefault();
    const formEl = event.target;
    await busy(formEl, "busy.files", async () => {
      checkPassword($("download-password").value, $("download-password2").value);
      const number = value("status-number");
      const keys = await kept(number);
      if (!keys) throw new Failure("error.keys_not_here");
      const pair = await call("GET", `/api/v1/applications/${encodeURIComponent(number)}/certificates`, { secret: value("status-secret") });
      const files = await keyFiles(pair, keys, $("download-password").value);
      offer($("download-links"), files);
      $("forget-keys").hidden = false;
      say(t("download.done"), true);
    });
  }

  async function manage(event) {
    event.preventDefault();
    const formEl = event.target;
    await busy(formEl, "busy.sign", async () => {
      requireFields(formEl);
      const password = $("manage-password").value;
      const signer = await openKeyFile(new Uint8Array(await $("manage-file").files[0].arrayBuffer()), password);
      $("manage-result").hidden = true;
      $("manage-links").textContent = "";
      if ($("action-revoke").checked) {
        const body = await envelope({ action: "revoke", reason: $("reason").value }, signer);
        const answer = await call("POST", "/api/v1/revocations", { json: body });
        $("manage-result-text").textContent = t("manage.revoked", { serials: answer.revoked.join(", ") });
      } else {
        $("busy").textContent = t("busy.keys");
        const keys = { auth: await newKeyPair(), sign: await newKeyPair() };
        const action = { action: "renew", auth_csr: await certificateRequest(keys.auth), sign_csr: await certificateRequest(keys.sign) };
        const pair = await call("POST", "/api/v1/renewals", { json: await envelope(action, signer) });
        $("busy").textContent = t("busy.files");
        offer($("manage-links"), await keyFiles(pair, keys, password));
        $("manage-result-text").textContent = t("manage.renewed");
      }
      $("manage-result").hidden = false;
      say("");
    });
  }

  // ---- tabs, switches, language ----------------------------------------------------

  function showTab(tab) {
    for (const other of document.querySelectorAll("[role=tab]")) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    say("");
  }

  function setUpTabs() {
    const tabs = Array.from(document.querySelectorAll("[role=tab]"));
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => showTab(tab));
      tab.addEventListener("keydown", (e) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
        if (!step) return;
        const next = tabs[(i + step + tabs.length) % tabs.length];
        showTab(next);
        next.focus();
      });
    });
  }

  function setUp() {
    for (const a of document.querySelectorAll(".langs a")) {
      if (a.hreflang === lang) a.setAttribute("aria-current", "true");
    }
    for (const f of document.querySelectorAll("form")) f.noValidate = true;
    setUpTabs();
    const entity = () => {
      $("entity-fields").hidden = !$("kind-entity").checked;
    };
    $("kind-entity").addEventListener("change", entity);
    $("kind-individual").addEventListener("change", entity);
    const reason = () => {
      $("reason-field").hidden = !$("action-revoke").checked;
    };
    $("action-revoke").addEventListener("change", reason);
    $("action-renew").addEventListener("change", reason);
    $("apply-form").addEventListener("submit", apply);
    $("status-form").addEventListener("submit", status);
    $("download-form").addEventListener("submit", download);
    $("manage-form").addEventListener("submit", manage);
    // The keys wait in this browser only until the applicant has their key files.
    $("forget-keys").addEventListener("click", async () => {
      try {
        await forget(value("status-number"));
        $("forget-keys").hidden = true;
        say(t("download.forgotten"), true);
      } catch (err) {
        fail(err);
      }
    });
    document.body.dataset.ready = "true";
  }

  fetch("/cabinet/i18n.json")
    .then((r) => r.json())
    .then((all) => {
      texts = all[lang] || all.kk;
      setUp();
    })
    .catch((err) => {
      say(String(err));
      throw err;
    });
})();
