import { test } from "node:test";
import assert from "node:assert/strict";
import { Op, PAGE_OPS } from "../../extension/modules/ops.mjs";
import { protocolOps } from "./docs.mjs";

test("every op the add-on calls is in the host's op table (docs/PROTOCOL.md)", () => {
  const documented = new Set(protocolOps());
  assert.ok(documented.size >= 20, "the op table was found");
  for (const op of Object.values(Op)) assert.ok(documented.has(op), op);
});

test("pages may ask only for contact and identity ops, never uploads or the handshake", () => {
  const ops = new Set(Object.values(Op));
  for (const op of PAGE_OPS) {
    assert.ok(ops.has(op), op);
    assert.match(op, /^(contacts_|identities_|recipients_check$|backup_status$|expiry_radar$)/, op);
  }
  assert.ok(PAGE_OPS.has(Op.identitiesImport) && PAGE_OPS.has(Op.contactsImport));
});
