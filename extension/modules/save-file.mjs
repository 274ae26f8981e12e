// Saving a file the host produced (an exported certificate, a backup of your key) where the user
// chooses. The `downloads` API with saveAs asks for the place; a backup belongs on a stick or in
// a password manager, not silently in the downloads folder.

/**
 * Asks where to save `bytes` as `name` and saves them there. Resolves to true when the file was
 * written, false when the user cancelled the dialog.
 */
export async function saveBytes(bytes, name, type, downloads = browser.downloads) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  try {
    let id;
    try {
      id = await downloads.download({ url, filename: name, saveAs: true, conflictAction: "uniquify" });
    } catch (e) {
      if (/cancel/i.test(e?.message ?? "")) return false;
      throw e;
    }
    return await finished(downloads, id);
  } finally {
    // The download holds its own reference once started; give it a moment before letting go.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

function finished(downloads, id) {
  return new Promise((resolve, reject) => {
    const listener = (delta) => {
      if (delta.id !== id || !delta.state) return;
      if (delta.state.current === "complete") done(() => resolve(true));
      else if (delta.state.current === "interrupted") done(() => reject(new Error(delta.error?.current ?? "interrupted")));
    };
    const done = (settle) => {
      downloads.onChanged.removeListener(listener);
      settle();
    };
    downloads.onChanged.addListener(listener);
    // A small file may have finished before the listener was added.
    downloads.search({ id }).then(([item] = []) => {
      if (item?.state === "complete") done(() => resolve(true));
      else if (item?.state === "interrupted") done(() => reject(new Error(item.error ?? "interrupted")));
    }).catch(() => {}); // no answer: the listener still tells how the download ends
  });
}
