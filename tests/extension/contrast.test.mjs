// The colour pairs the add-on's stylesheets use, in the light and the dark theme, against WCAG 2.1
// AA: text 4.5:1 (1.4.3; applied to all text, large text included, so no size rule is needed) and
// the colours that carry meaning without text (the severity stripes of status boxes and problem
// cards, the icons' fills and glyphs) 3:1 (1.4.11). Decorative lines (--line) are not checked.
//
// Sources: extension/colors.css (the palette of both themes) with every stylesheet that uses it,
// and the stylesheets with colours of their own: the banner in the message page
// (banner/banner.js) and the notice in Outlook's page (outlook-web/content.js). A text colour set
// without a background of its own may sit on any background its family of stylesheets uses, so
// every such pair is checked; a rule that sets both is checked as that pair. Also the header
// button's badges (look.mjs) and the icons' palettes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BADGE_COLORS, BADGE_TEXT_COLOR } from "../../extension/modules/look.mjs";
import { EXT, sourceFiles } from "./sources.mjs";

const TEXT = 4.5;
const NON_TEXT = 3;

/** WCAG relative luminance of "#rrggbb" (or "#rgb"). */
export function luminance(hex) {
  const h = hex.length === 4 ? hex.replace(/^#(.)(.)(.)$/, "#$1$1$2$2$3$3") : hex;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours. */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const read = (path) => readFileSync(`${EXT}/${path}`, "utf8");

/** Rules of a stylesheet as {selector, decls, dark}: `dark` for rules inside a prefers-color-scheme: dark block. */
function rules(css) {
  const out = [];
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  const walk = (body, dark) => {
    let i = 0;
    while (i < body.length) {
      const open = body.indexOf("{", i);
      if (open < 0) break;
      const head = body.slice(i, open).trim();
      if (head.startsWith("@media")) {
        let depth = 1;
        let j = open + 1;
        while (depth && j < body.length) depth += body[j] === "{" ? 1 : body[j] === "}" ? -1 : 0, j++;
        walk(body.slice(open + 1, j - 1), dark || /prefers-color-scheme:\s*dark/.test(head));
        i = j;
        continue;
      }
      const close = body.indexOf("}", open);
      const decls = {};
      for (const d of body.slice(open + 1, close).split(";")) {
        const k = d.indexOf(":");
        if (k > 0) decls[d.slice(0, k).trim()] = d.slice(k + 1).replace(/!important/, "").trim();
      }
      out.push({ selector: head, decls, dark });
      i = close + 1;
    }
  };
  walk(text, false);
  return out;
}

/** The palette of colors.css per theme: {light: {"--fg": "#…"}, dark: {…}}. */
function palette() {
  const all = rules(read("colors.css"));
  const light = {};
  const dark = {};
  for (const r of all) for (const [k, v] of Object.entries(r.decls)) if (k.startsWith("--")) (r.dark ? dark : light)[k] = v;
  return { light, dark: { ...light, ...dark } };
}

const COLOR = /(#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|var\(--[a-z0-9-]+\)|currentColor|transparent|inherit|none)/;

/** The colour a declaration value names in a theme, or null (none, transparent, inherit). */
function resolve(value, vars, current = null) {
  const m = String(value ?? "").match(COLOR);
  if (!m) return null;
  if (m[1].startsWith("#")) return m[1].toLowerCase();
  if (m[1] === "currentColor") return current;
  const v = m[1].match(/var\((--[a-z0-9-]+)\)/);
  return v ? resolve(vars[v[1]], vars) : null;
}

/** The text, surface and stripe colours of a family of stylesheets in one theme, and the fixed pairs. */
function family(sheets, vars, theme) {
  // For stylesheets with colours of their own, the dark block overrides the same selector.
  const merged = new Map();
  for (const r of sheets.flatMap(rules)) {
    if (r.dark && theme !== "dark") continue;
    merged.set(r.selector, { ...(merged.get(r.selector) ?? {}), ...r.decls, selector: r.selector });
  }
  const texts = [];
  const surfaces = new Set(vars["--bg"] ? [resolve("var(--bg)", vars)] : []);
  const pairs = [];
  const stripes = [];
  for (const decls of merged.values()) {
    const what = `${theme} ${decls.selector}`;
    if (/:disabled/.test(decls.selector)) continue; // disabled controls are exempt (1.4.3)
    if (/^iframe/.test(decls.selector)) continue; // the frame of a message's own content (reader.css)
    const fg = decls.color ? resolve(decls.color, vars) : null;
    const bg = resolve(decls.background ?? decls["background-color"], vars);
    if (decls.opacity && Number(decls.opacity) < 1 && fg) assert.fail(`${what}: text under opacity ${decls.opacity} has no colour to check`);
    if (fg && bg) pairs.push({ what, fg, bg });
    else if (fg) texts.push({ what, fg });
    else if (bg) surfaces.add(bg);
    for (const prop of ["border-color", "border-inline-start", "border-left", "border"]) {
      const border = decls[prop] && !/var\(--line\)/.test(decls[prop]) ? resolve(decls[prop], vars, fg) : null;
      if (border) stripes.push({ what: `${what} ${prop}`, color: border, on: bg });
    }
  }
  return { texts, surfaces: [...surfaces], pairs, stripes };
}

function check(name, sheets, vars, theme, failures, report) {
  const f = family(sheets, vars, theme);
  const min = { text: Infinity, stripe: Infinity };
  const pass = (kind, ratio, what) => {
    const need = kind === "text" ? TEXT : NON_TEXT;
    min[kind] = Math.min(min[kind], ratio);
    if (ratio < need) failures.push(`${name} ${what}: ${ratio.toFixed(2)}:1 < ${need}:1`);
  };
  for (const { what, fg } of f.texts) for (const bg of f.surfaces) pass("text", contrast(fg, bg), `${what} ${fg} on ${bg}`);
  for (const { what, fg, bg } of f.pairs) pass("text", contrast(fg, bg), `${what} ${fg} on ${bg}`);
  // A stripe on its box's own background is checked against it; a border the colour of its own
  // fill (a filled button) against what the box stands on.
  for (const { what, color, on } of f.stripes) {
    for (const bg of on && on !== color ? [on] : f.surfaces) pass("stripe", contrast(color, bg), `${what} ${color} on ${bg}`);
  }
  report.push(`${name} (${theme}): text at least ${min.text.toFixed(2)}:1, severity stripes at least ${min.stripe.toFixed(2)}:1`);
}

const styleOf = (path) => read(path).match(/const STYLE = `([\s\S]*?)`;/)[1];

test("every colour pair of the stylesheets meets WCAG AA in both themes", () => {
  const themes = palette();
  const pages = sourceFiles(/\.css$/).filter((p) => !p.startsWith("icons/") && p !== "colors.css").map(read);
  const failures = [];
  const report = [];
  for (const theme of ["light", "dark"]) {
    check("pages, popups", pages, themes[theme], theme, failures, report);
    check("banner", [styleOf("banner/banner.js")], {}, theme, failures, report);
    check("Outlook notice", [styleOf("outlook-web/content.js")], {}, theme, failures, report);
  }
  if (process.env.CONTRAST_REPORT) console.log(report.join("\n"));
  assert.deepEqual(failures, []);
});

test("the badges of the header and compose buttons are readable: white on their fill, 4.5:1", () => {
  for (const [severity, fill] of Object.entries(BADGE_COLORS)) {
    assert.ok(contrast(BADGE_TEXT_COLOR, fill) >= TEXT, `${severity}: ${contrast(BADGE_TEXT_COLOR, fill).toFixed(2)}:1`);
  }
  // Nothing else paints a badge: the background page takes its colours from look.mjs.
  for (const path of ["background.js", "outlook-web/service-worker.mjs"]) {
    assert.doesNotMatch(read(path), /setBadge\w*Color\(\{[^}]*#[0-9a-f]{3,6}/i, path);
  }
});

test("the icons' colours stand out from the toolbar (3:1), and their glyphs from the fill", () => {
  const TOOLBARS = { light: ["#ffffff", "#f9f9fb", "#f0f0f4"], dark: ["#1c1b22", "#2b2a33", "#42414d"] };
  for (const theme of ["light", "dark"]) {
    const css = readFileSync(`${EXT}/icons/src/palette-${theme}.css`, "utf8");
    const fills = Object.fromEntries([...css.matchAll(/\.([a-z-]+)\{(?:fill|stroke):(#[0-9a-f]{6})\}/g)].map((m) => [m[1], m[2]]));
    for (const severity of ["ok", "error", "warning", "info", "muted"]) {
      for (const toolbar of TOOLBARS[theme]) {
        assert.ok(contrast(fills[severity], toolbar) >= NON_TEXT, `${theme} ${severity} on ${toolbar}: ${contrast(fills[severity], toolbar).toFixed(2)}`);
      }
      if (severity !== "muted") {
        assert.ok(contrast(fills[severity], fills["f-glyph"]) >= NON_TEXT, `${theme} glyph on ${severity}: ${contrast(fills[severity], fills["f-glyph"]).toFixed(2)}`);
      }
    }
  }
});

test("the contrast check itself: known pairs and a failing one", () => {
  assert.equal(contrast("#000000", "#ffffff").toFixed(1), "21.0");
  assert.equal(contrast("#777777", "#ffffff").toFixed(2), "4.48"); // the classic just-failing grey
  const failures = [];
  check("sample", [".x { color: #777777; } .y { background: #ffffff; }"], {}, "light", failures, []);
  assert.equal(failures.length, 1);
  assert.throws(() => check("sample", [".x { color: #000; opacity: .5; }"], {}, "light", [], []), /opacity/);
});
