// The reader page of the Outlook-on-the-web extension: the content of a message Outlook on the
// web cannot show itself (encrypted, or signed in the opaque form), as the host decrypted and
// verified it, with both verdicts (signature and encryption) above it. The content is never put
// into Outlook's page, nor into this one: each text or HTML body is a document sanitize.mjs made
// (the HTML sanitised, the text as text) in a sandboxed frame without scripts, its own origin or
// remote content (`contentFrame`, the only place either extension puts markup on screen). What
// the extension says about the message (verdicts, headers, attachment names) is set through
// dom.mjs, neutralised. Attachments are saved as bytes where the user chooses (save-file.mjs),
// never opened here. Opened by the popup as reader.html?tab=ID&key=MESSAGE; the service worker
// fetches and asks the host again (`return_content`), so nothing of the content is kept anywhere
// but this page.

import { describe } from "../modules/describe.mjs";
import { markKey } from "../modules/banner.mjs";
import { byId, el, setDocumentTitle, setText, text } from "../modules/dom.mjs";
import { iconPaths } from "../modules/header-button.mjs";
import { certEmail, certName, stateLabel, summarize } from "../modules/look.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { date, t } from "../modules/i18n.mjs";
import { fromBase64, toBase64 } from "../modules/bytes.mjs";
import { logError } from "../modules/log.mjs";
import { saveBytes } from "../modules/save-file.mjs";
import { parseEntity, readable } from "./modules/mime.mjs";
import { FRAME_CSP, FRAME_SANDBOX, sanitizeHtml, textDocument } from "./modules/sanitize.mjs";
import { fileName } from "./modules/view.mjs";

const query = new URLSearchParams(location.search);

localizePage();
load().catch((e) => {
  logError(e);
  fail(e?.code ?? "internal_error");
});

async function load() {
  const tabId = Number.parseInt(query.get("tab") ?? "", 10);
  const answer = await browser.runtime.sendMessage({ type: "readerContent", tabId, key: query.get("key") ?? "" });
  if (!answer?.ok) return fail(answer?.error?.code ?? "internal_error");
  showVerdict(answer.reading);
  showHeaders(answer.headers ?? {});
  if (answer.mime_b64) showContent(fromBase64(answer.mime_b64));
  else text("body", t("owa_reader_no_content"));
  document.body.dataset.ready = "true";
}

function fail(code) {
  document.body.dataset.ready = "true";
  document.body.dataset.error = code;
  document.body.className = "warning";
  text("headline", t("owa_reader_failed"));
  text("summary", t(errorKey(code)));
}

function showVerdict(reading) {
  const view = describe(reading, { t, date });
  // A danger state (altered, broken or revoked signature, wrong sender) marks the content as the
  // Thunderbird banner does: not to be trusted, and why.
  const mark = byId("mark");
  mark.hidden = view.look.severity !== "error";
  if (!mark.hidden) setText(mark.querySelector("strong"), t(markKey(view.look.state)));
  const { signature, encryption } = summarize(reading);
  document.body.className = view.look.severity;
  document.body.dataset.signature = signature.state;
  document.body.dataset.encryption = encryption.state;
  const icon = byId("icon");
  icon.src = iconPaths(view.look.icon, matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light")[32];
  icon.hidden = false;
  text("headline", view.headline);
  text("summary", view.summary);
  setDocumentTitle(`${t("owa_reader_title")}: ${view.headline}`);
  // Both verdicts, each on its own line: who signed (and how it stands), how it was encrypted.
  const signer = signature.signer;
  const who = [certName(signer), certEmail(signer)].filter(Boolean).join(" · ");
  const rows = [
    [t("owa_reader_signature"), [t(stateLabel(signature.state)), who].filter(Boolean).join(" — ")],
    [t("owa_reader_encryption"), encryptionLine(encryption)],
  ];
  byId("layers").replaceChildren(...rows.flatMap(([label, value]) => [el("dt", null, label), el("dd", null, value)]));
  const problems = byId("problems");
  for (const problem of view.problems) {
    const card = el("div", `problem ${problem.severity}`);
    card.append(el("strong", null, problem.title), el("p", null, problem.explain), el("p", null, problem.advice));
    problems.append(card);
  }
}

function encryptionLine(encryption) {
  if (encryption.state !== "decrypted") return t(`enc_${encryption.state}`);
  const parts = [t("enc_decrypted")];
  if (encryption.content_cipher) parts.push(String(encryption.content_cipher).toUpperCase());
  parts.push(t(encryption.authenticated ? "value_integrity_yes" : "value_integrity_no"));
  return parts.join(" · ");
}

function showHeaders(headers) {
  const rows = [
    ["owa_reader_subject", headers.subject],
    ["field_header_from", headers.from],
    ["owa_reader_to", headers.to],
    ["owa_reader_cc", headers.cc],
    ["field_header_date", headers.date ? headerDate(headers.date) : null],
  ].filter(([, value]) => value);
  byId("headers").replaceChildren(...rows.flatMap(([key, value]) => [el("dt", null, t(key)), el("dd", null, value)]));
}

function headerDate(value) {
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? value : date(parsed.toISOString());
}

function showContent(bytes) {
  const content = readable(parseEntity(bytes));
  const inline = new Map();
  for (const [cid, part] of content.inline) inline.set(cid, { url: `data:${part.type};base64,${toBase64(part.bytes)}` });
  const body = byId("body");
  const frames = [];
  let blocked = 0;
  for (const block of content.blocks) {
    const doc = block.kind === "html" ? sanitizeHtml(block.text, { inline }) : textDocument(block.text);
    blocked += doc.blocked;
    const frame = contentFrame(doc, block.kind);
    // A text's frame as high as its lines (up to the HTML frame's height); the frame scrolls the rest.
    if (block.kind !== "html") frame.style.height = `min(70vh, ${Math.max(3, block.text.split("\n").length) * 19 + 24}px)`;
    frames.push(new Promise((resolve) => frame.addEventListener("load", resolve, { once: true })));
    body.append(frame);
  }
  if (!content.blocks.length) body.append(el("p", "muted", t("owa_reader_empty")));
  document.body.dataset.blocked = String(blocked);
  if (blocked) {
    const note = byId("remote-note");
    setText(note, t.count("owa_reader_remote_blocked", blocked));
    note.hidden = false;
  }
  showAttachments(content.attachments);
  // Loaded, with everything the frames were allowed to load (for the browser tests).
  Promise.all(frames).then(() => {
    document.body.dataset.framesLoaded = "true";
  });
}

/**
 * The frame a message's content is shown in: `doc` is what sanitizeHtml or textDocument made of
 * it, never anything else. No scripts, an opaque origin, no forms (FRAME_SANDBOX); links open in
 * a new tab outside it; its own policy (FRAME_CSP) also asked of the frame by the `csp`
 * attribute, on top of this page's, which a srcdoc frame inherits.
 */
function contentFrame(doc, kind) {
  const frame = el("iframe", kind === "html" ? "html" : "text");
  frame.setAttribute("sandbox", FRAME_SANDBOX);
  frame.setAttribute("csp", FRAME_CSP);
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.srcdoc = doc.html;
  return frame;
}

function showAttachments(attachments) {
  document.body.dataset.attachments = String(attachments.length);
  if (!attachments.length) return;
  byId("attachments").hidden = false;
  const list = byId("attachment-list");
  for (const [i, attachment] of attachments.entries()) {
    const name = fileName(attachment.name, `attachment-${i + 1}`);
    const li = el("li");
    // Saved as bytes where the user chooses, never opened here: an HTML attachment must not run as this extension.
    const save = el("button", "save", t("owa_reader_save"));
    save.dataset.fileName = name;
    save.addEventListener("click", () => saveBytes(attachment.bytes, name, "application/octet-stream").catch(logError));
    li.append(el("span", "name", name), el("span", "size", size(attachment.bytes.length)), el("span", "type muted", attachment.type), save);
    list.append(li);
  }
}

// Sizes go in as numbers: the translator writes them the UI language's way ("1,5 MiB" in German).
function size(bytes) {
  const tenths = (n) => Math.round(n * 10) / 10;
  if (bytes < 1024) return t("owa_size_bytes", [bytes]);
  if (bytes < 1024 * 1024) return t("owa_size_kib", [tenths(bytes / 1024)]);
  return t("owa_size_mib", [tenths(bytes / 1024 / 1024)]);
}
