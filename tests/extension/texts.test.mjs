import { test } from "node:test";
import assert from "node:assert/strict";
import { translator } from "../../extension/modules/texts.mjs";
import { code } from "./sources.mjs";

const messages = {
  de: { n_one: "$1 Zertifikat für $2", n_other: "$1 Zertifikate für $2", sum: "Zusammen $1" },
  en: { n_one: "$1 certificate for $2", n_other: "$1 certificates for $2", sum: "Together $1" },
};
const lookup = (lang) => (key, subs) => (messages[lang][key] ?? "").replace(/\$(\d)/g, (_, n) => subs[n - 1] ?? "");

test("counts pick the singular or plural text, never a pseudo-plural", () => {
  const de = translator(lookup("de"), { locale: "de" });
  assert.equal(de.count("n", 1, ["a@x.org"]), "1 Zertifikat für a@x.org");
  assert.equal(de.count("n", 2, ["a@x.org"]), "2 Zertifikate für a@x.org");
  assert.equal(de.count("n", 0, ["a@x.org"]), "0 Zertifikate für a@x.org");
  const en = translator(lookup("en"), { locale: "en" });
  assert.equal(en.count("n", 1, ["a@x.org"]), "1 certificate for a@x.org");
  assert.equal(en.count("n", 12, ["a@x.org"]), "12 certificates for a@x.org");
});

test("numbers among the substitutions are written the way the UI language writes them", () => {
  assert.equal(translator(lookup("de"), { locale: "de" })("sum", [10000]), "Zusammen 10.000");
  assert.equal(translator(lookup("en"), { locale: "en" })("sum", [10000]), "Together 10,000");
  assert.equal(translator(lookup("de"), { locale: "de" }).count("n", 1500, ["x"]), "1.500 Zertifikate für x");
  // Strings stay as they are: a fingerprint or a year is not a number to regroup.
  assert.equal(translator(lookup("de"), { locale: "de" })("sum", ["2026"]), "Zusammen 2026");
});

test("the translator is set up once (i18n.mjs), not in every entry file", () => {
  const builders = code().filter(({ path, text }) => /\btranslator\(/.test(text) && !["modules/texts.mjs", "modules/i18n.mjs"].includes(path));
  assert.deepEqual(builders.map((f) => f.path), []);
  const languages = code().filter(({ path, text }) => /getUILanguage\(\)/.test(text) && !["modules/i18n.mjs", "modules/page-i18n.mjs", "modules/platform.mjs"].includes(path));
  assert.deepEqual(languages.map((f) => f.path), []);
});
