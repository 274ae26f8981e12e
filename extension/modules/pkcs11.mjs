// The companion's PKCS#11 module in Thunderbird: through it Thunderbird's own S/MIME (NSS) finds
// recipients in the contact cache and signs and decrypts with the keys the companion holds.
// `smime-companion install` registers the module with a native manifest of type "pkcs11"; the
// add-on loads it into Thunderbird on the user's request (permission "pkcs11").

export const MODULE_NAME = "smime_companion";

/**
 * "loaded": Thunderbird uses the module; "not_loaded": registered on this computer, not loaded;
 * "unavailable": no registration found (Thunderbird's only answer is an error); "unsupported":
 * this Thunderbird offers no pkcs11 API to the add-on.
 */
export async function moduleState(pkcs11 = globalThis.browser?.pkcs11) {
  if (!pkcs11?.isModuleInstalled) return "unsupported";
  try {
    return (await pkcs11.isModuleInstalled(MODULE_NAME)) ? "loaded" : "not_loaded";
  } catch {
    return "unavailable";
  }
}

/** Loads the module into Thunderbird (flags 0: the module itself marks its certificates public). */
export async function installModule(pkcs11 = globalThis.browser?.pkcs11) {
  await pkcs11.installModule(MODULE_NAME, 0);
  return moduleState(pkcs11);
}
