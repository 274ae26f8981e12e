// The one way the add-on reports an error it cannot show: to the console, named, with its code.

export function logError(e) {
  console.error("S/MIME Companion:", e?.code ?? "", e?.message ?? e);
}
