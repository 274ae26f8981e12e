// Why the extension could not get a message from Exchange, each a clear state in the popup with
// what to do: its text is `error_<code>` in _locales (like the host's error codes), and the
// buttons the popup offers for it are here. Pure.

export const OwaError = Object.freeze({
  notConfigured: "owa_not_configured", // no app registration (client ID) for Graph
  signedOut: "owa_signed_out", // no token, and getting one needs the user
  consentMissing: "owa_consent_missing", // the app may not read mail (Mail.Read not consented)
  signInFailed: "owa_sign_in_failed", // the identity provider refused the app registration
  network: "owa_network", // Graph, EWS or the sign-in could not be reached
  itemGone: "owa_item_gone", // the message was moved or deleted, or the id names none
  accessDenied: "owa_access_denied", // EWS refused (401/403, ErrorAccessDenied)
  serverError: "owa_server_error", // 5xx, throttling, an answer that is not what was asked
  tooLarge: "owa_too_large", // over the host's limit for one message
});

export const OWA_ERROR_CODES = Object.freeze(Object.values(OwaError));

// The popup's buttons per failure, most useful first. `type` is the request the popup sends back
// to the service worker; `key` its label; `closes`: the popup closes (a tab or window opens).
const ACTIONS = {
  [OwaError.notConfigured]: [{ type: "openOptions", key: "owa_action_settings", primary: true, closes: true }],
  [OwaError.signedOut]: [{ type: "signIn", key: "owa_action_sign_in", primary: true }],
  [OwaError.consentMissing]: [{ type: "signIn", key: "owa_action_consent", primary: true }],
  [OwaError.signInFailed]: [{ type: "signIn", key: "owa_action_sign_in" }, { type: "openOptions", key: "owa_action_settings", closes: true }],
  [OwaError.network]: [{ type: "recheck", key: "owa_action_retry", primary: true }],
  [OwaError.itemGone]: [{ type: "recheck", key: "owa_action_retry" }],
  [OwaError.accessDenied]: [{ type: "recheck", key: "owa_action_retry", primary: true }],
  [OwaError.serverError]: [{ type: "recheck", key: "owa_action_retry", primary: true }],
  [OwaError.tooLarge]: [],
};

/** The popup's buttons for a failure code (none for codes of the host: the popup has its own). */
export function actionsFor(code) {
  return ACTIONS[code] ?? [];
}

/** The HTTP status of a Graph answer as an error code; null for success. */
export function graphStatusError(status) {
  if (status >= 200 && status < 300) return null;
  if (status === 401) return OwaError.signedOut;
  if (status === 403) return OwaError.consentMissing;
  if (status === 404 || status === 400 || status === 410) return OwaError.itemGone;
  return OwaError.serverError;
}

/** The HTTP status of an EWS answer as an error code (SOAP faults come with 500); null for success. */
export function ewsStatusError(status) {
  if (status >= 200 && status < 300) return null;
  if (status === 401 || status === 403) return OwaError.accessDenied;
  if (status === 404) return OwaError.serverError; // no EWS at that address: a setting to fix
  return status === 500 ? null : OwaError.serverError; // 500 carries a SOAP answer: read it
}

/** An EWS ResponseCode (ErrorItemNotFound, …) as an error code; null for NoError. */
export function ewsResponseError(responseCode) {
  if (!responseCode || responseCode === "NoError") return null;
  if (/^Error(ItemNotFound|InvalidIdMalformed|InvalidIdEmpty|InvalidIdNotAnItemAttachmentId|InvalidStoreId|MissingItemForCreateItemAttachment|ItemCorrupt)/.test(responseCode)) {
    return OwaError.itemGone;
  }
  if (/^Error(AccessDenied|MailboxStoreUnavailable|NotDelegate|ImpersonateUserDenied)/.test(responseCode)) return OwaError.accessDenied;
  if (/^Error(MessageSizeExceeded|ResponseSchemaValidation.*Size)/.test(responseCode)) return OwaError.tooLarge;
  return OwaError.serverError;
}
