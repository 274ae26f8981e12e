// Long operations (import, backup, unlock, loading the security module) show that they run and
// cannot be started twice: while `work` runs, every control of `container` is disabled and a
// progress line with `label` is shown in it; afterwards they are as they were.

import { el } from "./dom.mjs";

export async function whileBusy(container, label, work) {
  const controls = [...container.querySelectorAll("button, input, select, textarea")].filter((c) => !c.disabled);
  for (const control of controls) control.disabled = true;
  const line = el("p", "busy");
  line.setAttribute("role", "status");
  line.append(el("progress"), el("span", null, label));
  container.append(line);
  container.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    line.remove();
    container.removeAttribute("aria-busy");
    for (const control of controls) control.disabled = false;
  }
}
