import { test } from "node:test";
import assert from "node:assert/strict";
import { ewsId, itemIdFromUrl, messageKey, restId } from "../../extension/outlook-web/modules/owa-url.mjs";

const REST = "AAMkADAwATM0MDAAMS1hYjc4LWI2NTMtMDACLTAwCgBGAAAD-ab_cd==";

test("Exchange Online addresses name the open message in the path", () => {
  assert.equal(itemIdFromUrl(`https://outlook.office.com/mail/inbox/id/${encodeURIComponent(REST)}`), REST);
  assert.equal(itemIdFromUrl(`https://outlook.office.com/mail/0/inbox/id/${encodeURIComponent(REST)}/`), REST);
  assert.equal(itemIdFromUrl(`https://outlook.office365.com/mail/deeplink/read/${encodeURIComponent(REST)}?ItemID=x`), REST);
  assert.equal(itemIdFromUrl("https://outlook.office.com/mail/inbox"), null);
  assert.equal(itemIdFromUrl("https://outlook.office.com/mail/inbox/id/"), null);
});

test("Exchange on premises addresses carry ItemID in the query or the fragment, + included", () => {
  const ews = "AAMkADAwATM0MDAAMS1hYjc4+b/2NTMtMDACLTAwCgBGAAAD==";
  assert.equal(itemIdFromUrl(`https://mail.example.com/owa/?ItemID=${encodeURIComponent(ews)}&exvsurl=1`), ews);
  assert.equal(itemIdFromUrl(`https://mail.example.com/owa/?ItemID=${ews.replace("/", "%2F")}`), ews, "a raw + is not a space");
  assert.equal(itemIdFromUrl(`https://mail.example.com/owa/#viewmodel=ReadMessageItem&ItemID=${encodeURIComponent(ews)}`), ews);
  assert.equal(itemIdFromUrl(`https://mail.example.com/owa/#path=/mail/inbox/id/${encodeURIComponent(REST)}`), REST);
});

test("anything that is not an item id is no message", () => {
  for (const bad of ["not a url", "https://x/mail/id/%E0%A4%A", "https://x/mail/id/a%20b", `https://x/mail/id/${"A".repeat(1025)}`, "https://x/mail/id/<script>"]) {
    assert.equal(itemIdFromUrl(bad), null, bad);
  }
});

test("REST and EWS forms of an id convert both ways, and the message key uses the REST form", () => {
  const ews = "AB/cd+EF==";
  assert.equal(restId(ews), "AB-cd_EF==");
  assert.equal(ewsId(restId(ews)), ews);
  assert.equal(messageKey("https://mail.example.com", ews), messageKey("https://mail.example.com", restId(ews)));
});
