// LDAP directories (docs/DIRECTORY.md): the states a directory ends in, what the compose check
// and the contacts page say about a lookup, the directories IT set in the add-on's managed
// storage (handed to the host with each request that looks up), and the options page's list
// and form. Pure apart from `managedDirectories`, which is handed the storage areas.

// Every state a directory can end in (docs/DIRECTORY.md, "States"); each has a text
// `dirstate_<state>` in both languages.
export const DIRECTORY_STATES = Object.freeze([
  "ok", "directory_unreachable", "directory_timeout", "directory_tls_failed", "directory_certificate_untrusted",
  "directory_bind_refused", "directory_password_missing", "directory_search_failed", "directory_bad_response",
]);

// The managed-storage key IT fills (extension/managed-schema.json).
export const MANAGED_KEY = "directories";

/** The message key of a directory's state. */
export function stateKey(state) {
  return `dirstate_${DIRECTORY_STATES.includes(state) ? state : "unknown"}`;
}

/**
 * The directories IT set for the add-on (storage.managed `directories`), or undefined. Thunderbird
 * rejects storage.managed.get() when IT configured nothing: that is no managed directory.
 */
export async function managedDirectories(storage) {
  try {
    const { [MANAGED_KEY]: list } = await storage.managed.get(MANAGED_KEY);
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}

/** `params` with IT's managed directories added when there are any. */
export function withManaged(params, managed) {
  return managed === undefined ? params : { ...params, managed_directories: managed };
}

/**
 * The compose check's notes about a lookup: one per directory that could not answer, saying
 * that recipients missing a certificate may be in it. `subs` entries that are `{key}` are
 * message keys to translate first.
 */
export function lookupNotes(lookup) {
  const failed = (lookup?.directories ?? []).filter((d) => d.state !== "ok");
  return failed.map((d) => ({ key: "compose_note_directory_failed", subs: [String(d.id), { key: stateKey(d.state) }] }));
}

/**
 * recipients_check's answers, each with what its lookup said (`directory_lookup`: the address's
 * entry, or null, and every directory's state), so an answer the live compose check keeps
 * (compose-watch.mjs RecipientCache) still says it. `key` compares addresses as the host does.
 */
export function withLookup(checks, lookup, key = String) {
  if (!lookup) return checks ?? [];
  const directories = lookup.directories ?? [];
  return (checks ?? []).map((c) => ({
    ...c,
    directory_lookup: { address: (lookup.addresses ?? []).find((a) => key(a.address) === key(c.address)) ?? null, directories },
  }));
}

/** One lookup (as recipients_check answers it) from answers with `withLookup`'s part; null for none. */
export function lookupOf(checks) {
  const parts = (checks ?? []).map((c) => c.directory_lookup).filter(Boolean);
  if (!parts.length) return null;
  const directories = new Map();
  for (const part of parts) for (const d of part.directories) directories.set(String(d.id), d);
  return { addresses: parts.map((p) => p.address).filter(Boolean), directories: [...directories.values()] };
}

/**
 * What the lookup said about one recipient: null when it was not looked up. `key` is how the
 * host compares addresses (recipients.mjs `addressKey`).
 */
export function rowDirectory(address, lookup, key = String) {
  if (!lookup || !address) return null;
  const found = (lookup.addresses ?? []).find((a) => key(a.address) === key(address));
  if (!found) return null;
  const answered = (lookup.directories ?? []).some((d) => d.state === "ok");
  return { found: Number(found.found) || 0, answered };
}

/**
 * The line under a compose-check row about the directories, or null: {key, subs} for a text,
 * or {key, count} for one that counts (`t.count`).
 */
export function rowDirectoryLine(row) {
  if (row.can === true) return row.certificate?.source === "directory" ? { key: "recipient_from_directory", subs: [] } : null;
  const d = row.directory;
  if (!d) return null;
  if (d.found > 0) return { key: "recipient_directory_found_unusable", count: d.found };
  return d.answered ? { key: "recipient_directory_not_found", subs: [] } : null;
}

/**
 * The contacts page's summary of a `contacts_lookup` answer: a severity, a headline and one
 * line per directory that failed and per address. `t` translates.
 */
export function lookupOutcome(result, { t }) {
  const lines = [];
  for (const d of result.directories ?? []) {
    if (d.state !== "ok") lines.push(t("lookup_directory_failed", [String(d.id), t(stateKey(d.state))]));
    else if (Number(d.other_address) > 0) lines.push(t.count("lookup_directory_other_address", Number(d.other_address), [String(d.id)]));
  }
  // Both lists come from the host, in its address form.
  const checks = new Map((result.recipients ?? []).map((r) => [String(r.address), r]));
  let usable = 0;
  let found = 0;
  for (const a of result.addresses ?? []) {
    const check = checks.get(String(a.address));
    const n = Number(a.found) || 0;
    found += n;
    if (check?.can_encrypt) {
      usable += 1;
      lines.push(t.count("lookup_address_can", n, [String(a.address)]));
    } else if (n > 0) {
      lines.push(t.count("lookup_address_unusable", n, [String(a.address), t(`recipient_${check?.reason ?? "never_seen"}`)]));
    } else {
      lines.push(t("lookup_address_not_found", [String(a.address)]));
    }
  }
  const total = (result.addresses ?? []).length;
  const allFailed = (result.directories ?? []).length > 0 && result.directories.every((d) => d.state !== "ok");
  const severity = allFailed ? "error" : usable === total && total > 0 ? "ok" : "warning";
  const headline = allFailed ? t("lookup_headline_failed") : found ? t.count("lookup_headline_found", found) : t("lookup_headline_none");
  return { severity, headline, lines, firstFound: (result.addresses ?? []).find((a) => Number(a.found) > 0)?.address ?? null };
}

/** One directory of `directories_list` for the options page. */
export function directoryRow(d, { t }) {
  const badges = [{ kind: "muted", text: t(`directory_origin_${["system", "managed", "user"].includes(d.origin) ? d.origin : "user"}`) }];
  if (d.url?.startsWith("ldap://") && !d.starttls) badges.push({ kind: "warning", text: t("directory_cleartext") });
  if (d.password === "missing") badges.push({ kind: "error", text: t("directory_password_missing_badge") });
  return {
    id: String(d.id),
    title: `${d.id} · ${d.url}${d.starttls ? " (StartTLS)" : ""}`,
    rows: [
      [t("directory_base_dn"), String(d.base_dn ?? "")],
      [t("directory_filter"), String(d.filter ?? "")],
      [t("directory_bind"), d.bind === "simple" ? t("directory_bind_simple", [String(d.bind_dn ?? "")]) : t("directory_bind_anonymous")],
    ],
    badges,
    editable: Boolean(d.editable),
    // A simple bind without IT's password file takes the user's password, whoever set the directory.
    needsPassword: d.bind === "simple" && d.password !== "file",
    passwordSet: d.password === "stored",
  };
}

/**
 * The settings entry the options page's form describes, for `directories_save`. Empty optional
 * fields are left out (the host fills in its defaults); the password travels separately.
 */
export function entryFromForm({ id = "", url = "", starttls = false, baseDn = "", filter = "", bindDn = "", caFile = "" } = {}) {
  const entry = { url: url.trim(), base_dn: baseDn.trim() };
  if (id.trim()) entry.id = id.trim();
  if (starttls && entry.url.toLowerCase().startsWith("ldap://")) entry.starttls = true;
  if (filter.trim()) entry.filter = filter.trim();
  if (bindDn.trim()) entry.bind_dn = bindDn.trim();
  if (caFile.trim()) entry.ca_file = caFile.trim();
  return entry;
}
