// Small DOM helpers for the add-on's pages. Text always goes in as textContent: certificate
// fields and addresses are chosen by whoever made them.

export function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined && content !== null) node.textContent = content;
  return node;
}

export function text(id, value) {
  document.getElementById(id).textContent = value ?? "";
}

export function byId(id) {
  return document.getElementById(id);
}

/** A <dl> of {label, value, kind} rows; `kind` becomes the value's class (fingerprint, mono). */
export function definitionList(rows) {
  const dl = el("dl");
  for (const row of rows) dl.append(el("dt", null, row.label), el("dd", row.kind ?? null, row.value));
  return dl;
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
