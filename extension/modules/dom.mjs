// Small DOM helpers for the add-on's pages, and the only way views put text on screen. Text
// always goes in as textContent, never as markup, and through neutralize (untrusted.mjs):
// certificate fields, addresses, display names and file names are chosen by whoever made them,
// and may hold characters that reorder or hide what a reader sees. Our own texts pass unchanged.

import { neutralize } from "./untrusted.mjs";

export function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined && content !== null) node.textContent = neutralize(content);
  return node;
}

/** Sets the text of the element with id `id`. */
export function text(id, value) {
  setText(document.getElementById(id), value);
}

/** Sets the text of `node`. */
export function setText(node, value) {
  node.textContent = neutralize(value ?? "");
}

/** Sets the window's title (what assistive technology reads first). */
export function setDocumentTitle(value) {
  document.title = neutralize(value ?? "");
}

export function byId(id) {
  return document.getElementById(id);
}

/** A <dl> of {label, value, kind} rows; `kind` becomes the value's class (fingerprint, mono). */
export function definitionList(rows) {
  const dl = el("dl");
  for (const row of rows) dl.append(el("dt", null, row.label), valueNode(row));
  return dl;
}

/**
 * The <dd> of a {label, value, kind} row. A fingerprint (format.mjs groupFingerprint) is shown
 * with each of its lines on a line of its own; every other value is one line of text.
 */
export function valueNode(row) {
  const dd = el("dd", row.kind ?? null);
  if (row.kind !== "fingerprint") {
    setText(dd, row.value);
    return dd;
  }
  String(row.value ?? "").split("\n").forEach((line, i) => {
    if (i) dd.append(el("br"));
    dd.append(el("span", null, line));
  });
  return dd;
}

/**
 * Asks for confirmation in a modal <dialog>: a title, consequences as a list, confirm and cancel
 * buttons. Resolves to true when confirmed.
 */
export function confirmDialog({ title, consequences, confirm, cancel }) {
  const dialog = el("dialog", "confirm");
  const form = el("form");
  form.method = "dialog";
  const list = el("ul");
  for (const line of consequences) list.append(el("li", null, line));
  const buttons = el("div", "buttons");
  const no = el("button", null, cancel);
  no.value = "cancel";
  const yes = el("button", "danger", confirm);
  yes.value = "confirm";
  buttons.append(no, yes);
  form.append(el("h2", null, title), list, buttons);
  dialog.append(form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    dialog.showModal();
    no.focus(); // the safe choice is the default one
  });
}
