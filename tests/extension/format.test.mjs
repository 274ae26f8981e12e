import { test } from "node:test";
import assert from "node:assert/strict";
import { dateFormatter, dayFormatter } from "../../extension/modules/format.mjs";

test("date-time and date-only formatters differ only in the time of day", () => {
  const date = dateFormatter("en");
  const day = dayFormatter("en");
  const iso = "2026-11-27T10:00:00Z";
  assert.equal(day(iso), new Intl.DateTimeFormat("en", { dateStyle: "medium" }).format(new Date(iso)));
  assert.equal(date(iso), new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)));
  assert.notEqual(date(iso), day(iso));
});

test("missing or invalid times give null, from both formatters", () => {
  for (const format of [dateFormatter("en"), dayFormatter("de")]) {
    for (const bad of [null, undefined, "", "not a date"]) assert.equal(format(bad), null, String(bad));
  }
});
