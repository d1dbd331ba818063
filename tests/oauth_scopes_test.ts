import assert from "node:assert/strict";
import { parseScope, selectScopes, unionScopes } from "../lib/oauth/scopes.ts";

Deno.test("scopes: config > challenge > resource metadata > none", () => {
  const all = { config: ["c"], challenge: ["ch"], resourceScopes: ["r"] };
  assert.deepEqual(selectScopes(all), ["c"]);
  assert.deepEqual(selectScopes({ ...all, config: [] }), ["ch"]);
  assert.deepEqual(selectScopes({ resourceScopes: ["r", "r2"] }), ["r", "r2"]);
  assert.deepEqual(selectScopes({}), []);
});

Deno.test("scopes: offline_access only when the authorization server lists it", () => {
  assert.deepEqual(selectScopes({ config: ["a", "offline_access"] }), ["a"]);
  assert.deepEqual(
    selectScopes({ config: ["a", "offline_access"], serverScopes: ["offline_access"] }),
    ["a", "offline_access"],
  );
});

Deno.test("scopes: union keeps first-seen order without duplicates; parse splits", () => {
  assert.deepEqual(unionScopes(["a", "b"], undefined, ["b", "c", ""]), ["a", "b", "c"]);
  assert.deepEqual(parseScope("  a\tb  c "), ["a", "b", "c"]);
  assert.deepEqual(parseScope(undefined), []);
});
