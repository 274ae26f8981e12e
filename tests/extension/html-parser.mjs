// An HTML parser for the sanitiser's node tests: Debian's jsdom (package node-jsdom), whose parser
// (parse5) builds trees by the WHATWG HTML parsing algorithm, as the browser's DOMParser does. The
// browser suite (tests/outlook-web) runs the same cases through Chromium's own parser.
// Debian installs it in /usr/share/nodejs, which only Debian's own node searches.

import Module, { createRequire } from "node:module";

const DEBIAN_NODE_PATH = "/usr/share/nodejs";

function loadJsdom() {
  const paths = (process.env.NODE_PATH ?? "").split(":").filter(Boolean);
  if (!paths.includes(DEBIAN_NODE_PATH)) {
    process.env.NODE_PATH = [...paths, DEBIAN_NODE_PATH].join(":");
    Module._initPaths();
  }
  try {
    return createRequire(import.meta.url)("jsdom");
  } catch (e) {
    throw new Error(`the sanitiser's tests need jsdom: installer/debian-packages.sh node-jsdom (${e.message})`);
  }
}

const { JSDOM } = loadJsdom();
const { window } = new JSDOM("<!DOCTYPE html>");

/** A DOMParser, as `new DOMParser()` in a page. */
export const parser = new window.DOMParser();

/** The document a frame would make of `html`. */
export function parse(html) {
  return parser.parseFromString(html, "text/html");
}
