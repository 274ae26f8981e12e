import { test } from "node:test";
import assert from "node:assert/strict";
import { isHostDown, Op, PAGE_OPS } from "../../extension/modules/ops.mjs";
import { readdirSync } from "node:fs";
import { protocolOps, read, ROOT } from "./docs.mjs";

test("every op the add-on calls is in the host's op table (docs/PROTOCOL.md)", () => {
  const documented = new Set(protocolOps());
  assert.ok(documented.size >= 20, "the op table was found");
  for (const op of Object.values(Op)) assert.ok(documented.has(op), op);
});

test("pages may ask only for contact, directory and identity ops, never uploads or the handshake", () => {
  const ops = new Set(Object.values(Op));
  for (const op of PAGE_OPS) {
    assert.ok(ops.has(op), op);
    assert.match(op, /^(contacts_|identities_|directories_|recipients_check$|backup_status$|expiry_radar$)/, op);
  }
  assert.ok(PAGE_OPS.has(Op.identitiesImport) && PAGE_OPS.has(Op.contactsImport));
});

test("a missing host, one that does not start and one that refuses the add-on all count as host down", () => {
  for (const code of ["host_missing", "host_broken", "caller_not_allowed"]) assert.equal(isHostDown(code), true, code);
  for (const code of ["timeout", "disconnected", "op_unavailable", "internal_error", "wrong_password", null, undefined, ""]) {
    assert.equal(isHostDown(code), false, String(code));
  }
});

test("no script keeps a list of host-down codes of its own: they all ask isHostDown", () => {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(`${ROOT}${dir}`, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}${entry.name}/`);
      else if (/\.(mjs|js)$/.test(entry.name) && entry.name !== "ops.mjs") files.push(`${dir}${entry.name}`);
    }
  };
  walk("extension/");
  assert.ok(files.length > 20, files.join());
  for (const file of files) assert.ok(!/["']host_(missing|broken)["']/.test(read(file)), `${file} names a host-down code itself`);
});
