// Turns one reading of a message into what the details popup shows: the state's one name, a
// sentence, the problems with what to do about each, who signed, and behind "Technical details"
// the rest. Pure: texts come from `t` (texts.mjs translator) and dates from `date` (format.mjs),
// so node can check every path.
//
// Names and addresses shown as "who signed" come from the certificate only, never from the
// message header's display name, which anybody can set; and they are stated as facts only for a
// valid signature: for any other state they are what the certificate claims (`certificateLead`).

import { buttonLook, certEmail, certName, SENDER_WARNINGS, SIGNATURE_STATES, stateLabel, summarize, UNREADABLE } from "./look.mjs";
import { algorithmName, cipherName, distinguishedName, dnName, groupFingerprint } from "./format.mjs";
import { certificateRows, row } from "./cert-rows.mjs";
import { canRecheck, revocationOf, revocationSection, revokedFacts, summaryLine } from "./revocation.mjs";
import { DECISION_WARNINGS, keyChangeOf } from "./key-decision.mjs";

const SIGNATURE_STATES_WITHOUT_PROBLEM = new Set(["valid", "none"]);

// The encryption failures docs/INSPECT.md names, each with its text (`encfail_<failure>`). Those of
// `unsupported` call for different steps, so they bring their own advice (`encfail_<failure>_advice`);
// a failure a newer host names is shown by its code (`encfail_other`).
export const ENCRYPTION_FAILURES = Object.freeze({
  integrity_check_failed: { advice: false },
  decryption_failed: { advice: false },
  compressed_data: { advice: true },
  not_enveloped_data: { advice: true },
  bad_encoding: { advice: true },
});

/**
 * @returns {{look, headline, summary, advice, notices: string[], problems: object[], sections: object[], technical: object[], recheckRevocation: boolean, keyChange}}
 *   headline: the state's one name (look.mjs STATES), as on the header button and the banner
 *   summary: one sentence on what it means (the header button's tooltip)
 *   advice: what to do, for a state without problem cards (those bring their own)
 *   problems: {severity, title, explain, reason, advice, facts: string[]}
 *   sections: what the popup shows: who signed and what the certificate confirms, the encryption
 *   technical: what it shows behind "Technical details" (serial, methods, chain, layers, header)
 *   each section: {id, heading, lead?, rows: {label, value, kind?}[], paragraphs: string[]}
 *   keyChange: a contact's new key (key-decision.mjs keyChangeOf), shown as a decision card
 *     instead of its warnings; null for none
 */
export function describe(reading, { t, date }) {
  const facts = summarize(reading);
  const { signature, encryption, thunderbirdDecrypted } = facts;
  const look = buttonLook(reading);
  const signer = signature.signer ?? primarySigner(signature);
  const keyChange = keyChangeOf(reading);

  const notices = [];
  if (thunderbirdDecrypted) notices.push(t("notice_thunderbird_decrypted"));
  for (const w of signature.warnings ?? []) {
    if (keyChange && DECISION_WARNINGS.has(w.code)) continue; // the decision card says it
    if (!SENDER_WARNINGS.has(w.code)) notices.push(signatureWarning(w, t, date));
  }
  for (const w of encryption.warnings ?? []) notices.push(t(`encwarn_${w.code}`));

  const problems = [];
  if (UNREADABLE.has(encryption.state) && !thunderbirdDecrypted) problems.push(encryptionProblem(encryption, t));
  if (!SIGNATURE_STATES_WITHOUT_PROBLEM.has(signature.state)) {
    const list = signature.problems?.length ? signature.problems : [{ code: signature.state }];
    for (const p of list) problems.push(signatureProblem(p, signature, t, date));
  }
  // A warning that another sender may be shown is a problem card of its own, not a footnote.
  for (const w of (signature.warnings ?? []).filter((w) => SENDER_WARNINGS.has(w.code))) problems.push(senderProblem(w, t));

  const sections = [];
  const technical = [];
  // What the certificate says is a fact only when the signature is valid; for every other state
  // it is what the certificate claims, and the popup says why that is not proven.
  const proven = signature.state === "valid";
  const fingerprintShown = signature.state === "untrusted"; // its advice: compare the fingerprint
  if (signer) {
    sections.push(signerSection(signer, signature, { proven, fingerprintShown }, t, date));
    technical.push(signerDetails(signer, signature, { fingerprintShown }, t, date));
  }
  const chain = primaryChain(signature);
  if (signer && chain) technical.push(chainSection(chain, t, date));
  const revocation = signer ? revocationSection(revocationOf(primarySignerInfo(signature)), t, date) : null;
  if (revocation) technical.push(revocation);
  if (encryption.state !== "none") {
    sections.push(encryptionSection(encryption, thunderbirdDecrypted, t, date));
    technical.push(encryptionDetails(encryption, t, date));
  }
  const layers = signature.layers ?? [];
  if (layers.length > 1 || layers.some((l) => l.position !== "root")) technical.push(layersSection(layers, t));
  technical.push(messageSection(facts.message, signature.state, t, date));

  return {
    look,
    headline: t(look.label.key),
    summary: t.phrase(look.title),
    advice: problems.length ? "" : adviceText(signature.state, t),
    notices,
    problems,
    sections,
    technical: technical.filter((s) => s.rows.length || s.paragraphs.length),
    // The signer's revocation is unknown for a reason that may pass: offer to check again.
    recheckRevocation: canRecheck(primarySignerInfo(signature)),
    keyChange,
  };
}

// What to do when nothing is wrong: the advice of the signature state (valid, not signed).
function adviceText(state, t) {
  return SIGNATURE_STATES_WITHOUT_PROBLEM.has(state) ? t(`state_${state}_advice`) : "";
}

function primaryLayer(signature) {
  return (signature.layers ?? []).find((l) => l.position === "root") ?? null;
}

function primarySigner(signature) {
  return primaryLayer(signature)?.signers?.[0]?.certificate ?? null;
}

function primarySignerInfo(signature) {
  return primaryLayer(signature)?.signers?.[0] ?? null;
}

function primaryChain(signature) {
  const info = primarySignerInfo(signature);
  return info ? { chain: info.chain ?? [], anchor: info.anchor ?? null, omitted: info.chain_omitted ?? 0 } : null;
}

function signatureProblem(problem, signature, t, date) {
  const code = problem.code ?? signature.state;
  const known = SIGNATURE_STATES.includes(code);
  const facts = [];
  if (Number.isInteger(problem.depth)) facts.push(problem.depth === 0 ? t("fact_depth_signer") : t.count("fact_depth_issuer", problem.depth));
  if (problem.subject && problem.depth !== 0) facts.push(t("fact_certificate_subject", [problem.subject]));
  if (problem.not_after) facts.push(t("fact_not_after", [date(problem.not_after) ?? problem.not_after]));
  if (problem.not_before) facts.push(t("fact_not_before", [date(problem.not_before) ?? problem.not_before]));
  if (problem.at) facts.push(t("fact_checked_at", [date(problem.at) ?? problem.at]));
  if (problem.from || problem.certificate_emails) {
    facts.push(t("fact_from", [list(problem.from)]));
    facts.push(t("fact_certificate_emails", [list(problem.certificate_emails)]));
  }
  if (problem.parameter) facts.push(t("fact_parameter", [problem.parameter]));
  if (problem.header) facts.push(t("fact_header", [problem.header]));
  // Too many signers: how many the host checked of how many there are.
  if (Number.isInteger(problem.checked) && Number.isInteger(problem.count)) facts.push(t("fact_signers_checked", [problem.checked, problem.count]));
  if (code === "revoked") facts.push(...revokedFacts(problem, t, date));
  if (problem.signing_time || problem.date) {
    facts.push(t("fact_signing_time", [date(problem.signing_time) ?? "?"]));
    facts.push(t("fact_date_header", [date(problem.date) ?? "?"]));
  }
  return {
    severity: ["malformed", "content_altered", "revoked", "sender_mismatch"].includes(code) ? "error" : "warning",
    title: t(stateLabel(code)),
    // A state a newer host names is shown as a problem this add-on cannot name yet.
    explain: t(known ? `state_${code}_explain` : "look_unknown_title"),
    reason: problem.reason ? t(`reason_${problem.reason}`) : null,
    advice: t(known ? `state_${code}_advice` : "state_malformed_advice"),
    facts,
  };
}

function senderProblem(warning, t) {
  const key = `sigwarn_${warning.code}`;
  return {
    severity: "warning",
    title: t(stateLabel("doubtful_sender")),
    explain: t(key, [warning.name_address ?? "?", warning.address ?? "?"]),
    reason: null,
    advice: t(`${key}_advice`, [warning.name_address ?? "?"]),
    facts: [],
  };
}

// A misplaced layer says which part and what kind it is (signed or encrypted); a signing time
// outside the certificate's validity gives the three dates.
function signatureWarning(warning, t, date) {
  if (warning.code === "signing_time_outside_validity") {
    const when = (value) => date(value) ?? value ?? "?";
    return t("sigwarn_signing_time_outside_validity", [when(warning.signing_time), when(warning.not_before), when(warning.not_after)]);
  }
  if (warning.code !== "misplaced_layer") return t(`sigwarn_${warning.code}`);
  const where = warning.part ? t("value_part", [warning.part]) : t("value_whole_message");
  const kind = ["signed", "encrypted"].includes(warning.kind) ? `_${warning.kind}` : "";
  return t(`sigwarn_misplaced_layer${kind}`, [where]);
}

function encryptionProblem(encryption, t) {
  const failure = encryption.failure;
  const known = Object.hasOwn(ENCRYPTION_FAILURES, failure ?? "") ? ENCRYPTION_FAILURES[failure] : null;
  return {
    severity: failure === "integrity_check_failed" ? "error" : "warning",
    title: t(stateLabel(`enc_${encryption.state}`)),
    explain: t(`enc_${encryption.state}_explain`),
    reason: failure ? (known ? t(`encfail_${failure}`) : t("encfail_other", [failure])) : null,
    advice: known?.advice ? t(`encfail_${failure}_advice`) : t(`enc_${encryption.state}_advice`),
    facts: [],
  };
}

function list(value) {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
  return value ?? "—";
}

// Who signed, as far as the certificate says: name, address, organisation, when, until when and
// by whom it was issued. For a state other than valid the heading and the lead say that these
// are the certificate's claims, not facts.
function signerSection(cert, signature, { proven, fingerprintShown }, t, date) {
  const f = cert.subject_fields ?? {};
  const info = primarySignerInfo(signature);
  const rows = [
    row(t("field_name"), certName(cert) ?? t("value_no_name")),
    row(t("field_email"), certEmail(cert) ?? t("value_no_email")),
    ...certificateRows(cert, ["ignored_emails"], { t, date }),
    row(t("field_organization"), f.organization),
    row(t("field_department"), f.organizational_unit),
    row(t("field_role"), f.title),
    row(t("field_signing_time"), date(signature.signing_time ?? info?.signing_time)),
    ...certificateRows(cert, ["valid_until", "issued_by", ...(fingerprintShown ? ["fingerprint"] : [])], { t, date }),
  ].filter(Boolean);
  const state = proven ? "valid" : signature.state;
  return {
    id: "signer",
    heading: t(proven ? "section_signer" : "section_signer_claims"),
    lead: certificateLead(cert, state, t),
    rows,
    paragraphs: [],
  };
}

// The rest of the signer's certificate, for who wants to look closer.
function signerDetails(cert, signature, { fingerprintShown }, t, date) {
  const f = cert.subject_fields ?? {};
  const info = primarySignerInfo(signature);
  const rows = [
    row(t("field_organization_id"), f.organization_identifier),
    row(t("field_country"), [f.locality, f.state, f.country].filter(Boolean).join(", ")),
    ...certificateRows(cert, ["valid_from", ...(fingerprintShown ? [] : ["fingerprint"]), "serial", "key"], { t, date }),
    row(t("field_digest_algorithm"), algorithmName(info?.digest_algorithm)),
    row(t("field_signature_algorithm"), algorithmName(info?.signature_algorithm)),
    row(t("field_revocation"), summaryLine(revocationOf(info), t, date)),
  ].filter(Boolean);
  return { id: "signer-details", heading: t("section_certificate_details"), rows, paragraphs: [] };
}

/**
 * What a certificate says about its holder, in plain words: as a fact when its state is
 * `valid` (null or "valid"), else as the certificate's claim followed by why that is not proven
 * (`state`: a signature state, or a certificate's own: revoked, untrusted, expired, not_yet_valid).
 */
export function certificateLead(cert, state, t) {
  if (!state || state === "valid") return confirms(cert, t);
  const why = CLAIM_REASONS.has(state) ? `unproven_${state}` : "unproven_other";
  return `${claims(cert, t)} ${t(why)}`;
}

// The states with their own sentence on why a certificate's claims are not proven.
export const CLAIM_REASONS = new Set([
  "malformed", "content_altered", "unsupported_algorithm", "revoked", "untrusted", "expired", "not_yet_valid", "wrong_usage",
  "weak_algorithm", "no_sender_address", "sender_mismatch", "time_mismatch",
]);

/** What the certificate claims about its holder (the same facts as `confirms`, as claims). */
export function claims(cert, t) {
  return t(`claim_${validationKey(cert)}`, validationSubs(cert));
}

/** What the certificate confirms, in plain words, from its validation type and subject. */
export function confirms(cert, t) {
  return t(`validation_${validationKey(cert)}`, validationSubs(cert));
}

// The validation_/claim_ message of a certificate, and its substitutions.
function validationKey(cert) {
  const f = cert.subject_fields ?? {};
  const type = cert.validation?.type ?? "unknown";
  switch (type) {
    case "mailbox":
    case "individual":
      return type;
    // Sponsor validation names the organisation; without one, all it says is the person.
    case "sponsor":
      return f.organization ? "sponsor" : "individual";
    case "organization":
      return f.organizational_unit || f.title ? "organization_unit" : "organization";
    default:
      return "unknown";
  }
}

function validationSubs(cert) {
  const f = cert.subject_fields ?? {};
  const name = certName(cert) ?? "?";
  const email = certEmail(cert) ?? "?";
  const org = f.organization ?? "?";
  return {
    mailbox: [email],
    individual: [name, email],
    sponsor: [name, org, email],
    organization: [org, email],
    organization_unit: [org, f.organizational_unit || f.title, email],
    unknown: [email],
  }[validationKey(cert)];
}

function chainSection({ chain, anchor, omitted }, t, date) {
  const rows = chain.map((cert, i) =>
    row(
      i === 0 ? t("field_issued_by") : t("field_certified_by"),
      `${distinguishedName(cert.subject_fields, cert.subject)} · ${t("value_valid_until", [date(cert.not_after) ?? "?"])}`,
    ),
  );
  const paragraphs = [anchor ? t(`anchor_${anchor}`) : t("anchor_none")];
  // The host lists the nearest issuers only; a longer chain is counted.
  if (omitted > 0) paragraphs.push(t.count("chain_omitted", omitted));
  return { id: "chain", heading: t("section_chain"), rows: rows.filter(Boolean), paragraphs };
}

function encryptionSection(encryption, thunderbirdDecrypted, t, date) {
  const rows = [row(t("field_encryption_state"), thunderbirdDecrypted ? t("enc_thunderbird") : t(`enc_${encryption.state}`))];
  const mine = encryption.decrypted_with;
  const paragraphs = [];
  if (mine) {
    // The name as people read it ("Bob Reader"), not the distinguished name ("C=DE,CN=Bob Reader").
    const who = [dnName(mine.subject), (mine.emails ?? []).join(", ")].filter(Boolean).join(" · ");
    rows.push(row(t("field_encrypted_to_you"), who));
    if (mine.expired) paragraphs.push(t("enc_key_expired"));
    if (mine.replaced) paragraphs.push(t("enc_key_replaced"));
  }
  return { id: "encryption", heading: t("section_encryption"), rows: rows.filter(Boolean), paragraphs };
}

function encryptionDetails(encryption, t, date) {
  const rows = [row(t("field_cipher"), cipherName(encryption.content_cipher))];
  if (encryption.state === "decrypted") {
    rows.push(row(t("field_integrity"), t(encryption.authenticated ? "value_integrity_yes" : "value_integrity_no")));
  }
  const mine = encryption.decrypted_with;
  if (mine) {
    rows.push(row(t("field_fingerprint"), groupFingerprint(mine.fingerprint_sha256), "fingerprint"));
    rows.push(row(t("field_valid_until"), date(mine.not_after)));
  }
  for (const r of encryption.recipients ?? []) {
    const id = r.email ?? (r.subject_key_id ? t("value_key_id", [r.subject_key_id]) : t("value_issuer_serial", [dnName(r.issuer) || "?", r.serial ?? "?"]));
    const transport = algorithmName(r.key_transport);
    const label = r.mine ? t("field_recipient_you") : t("field_recipient");
    rows.push(row(label, transport ? t("value_with_method", [id, transport]) : id));
  }
  return { id: "encryption-details", heading: t("section_encryption_details"), rows: rows.filter(Boolean), paragraphs: [] };
}

function layersSection(layers, t) {
  const rows = layers.map((layer) => {
    const who = (layer.signers ?? []).map((s) => certName(s.certificate) ?? certEmail(s.certificate)).filter(Boolean).join(", ");
    const part = layer.part ? t("value_part", [layer.part]) : t("value_whole_message");
    return row(`${t(`position_${layer.position}`)} · ${part}`, [t(stateLabel(layer.state)), who].filter(Boolean).join(" · "));
  });
  return { id: "layers", heading: t("section_layers"), rows: rows.filter(Boolean), paragraphs: [] };
}

function messageSection(message, state, t, date) {
  const listed = message.from ?? [];
  let from = listed.map((m) => (m.name ? `${m.name} <${m.address}>` : m.address)).join(", ");
  // The host lists the first few mailboxes of a long From line and counts them all.
  const more = (message.from_count ?? listed.length) - listed.length;
  if (more > 0) from = `${from} ${t("value_more_mailboxes", [more])}`;
  const rows = [row(t("field_header_from"), from || "—"), row(t("field_header_date"), date(message.date))].filter(Boolean);
  const note = t(state === "valid" ? "message_header_note_signed" : "message_header_note_unsigned");
  return { id: "message", heading: t("section_message"), rows, paragraphs: [note] };
}
