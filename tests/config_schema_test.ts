/**
 * schema/agent-schema.json: its shape (draft-07, descriptions everywhere, strict
 * objects), its agreement with lib/config/types.ts, and every example config under
 * fixtures/ carrying a correct `$schema` line and validating.
 */
import assert from "node:assert/strict";
import schema from "../schema/agent-schema.json" with { type: "json" };
import { ConfigError, loadConfig } from "../lib/config/mod.ts";
import type {
  AgentConfig,
  AuditConfig,
  ModelConfig,
  RemoteConfig,
  RemoteOAuthConfig,
  ToolsetConfig,
} from "../lib/config/types.ts";

type JsonSchema = {
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  definitions?: Record<string, JsonSchema>;
  $ref?: string;
  [key: string]: unknown;
};

const root = schema as unknown as JsonSchema;
const definitions = root.definitions ?? {};

/** Every subschema with where it sits, e.g. `definitions.Toolset.properties.type`. */
function* subschemas(node: JsonSchema, where: string): Generator<[string, JsonSchema]> {
  yield [where, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    yield* subschemas(child, `${where}.properties.${name}`);
  }
  for (const [name, child] of Object.entries(node.patternProperties ?? {})) {
    yield* subschemas(child, `${where}.patternProperties.${name}`);
  }
  for (const [name, child] of Object.entries(node.definitions ?? {})) {
    yield* subschemas(child, `${where}.definitions.${name}`);
  }
  if (typeof node.additionalProperties === "object") {
    yield* subschemas(node.additionalProperties, `${where}.additionalProperties`);
  }
  if (node.items) yield* subschemas(node.items, `${where}.items`);
}

Deno.test("the schema is draft-07", () => {
  // That the validator is this schema compiled: tests/config_validator_generated_test.ts.
  assert.equal(root.$schema, "http://json-schema.org/draft-07/schema#");
});

Deno.test("every property and definition has a description (a $ref's target has one)", () => {
  const missing: string[] = [];
  for (const [where, node] of subschemas(root, "#")) {
    const isProperty = /\.properties\.[^.]+$/.test(where) || /\.definitions\.[^.]+$/.test(where);
    if (!isProperty) continue;
    const target = node.$ref ? definitions[node.$ref.replace("#/definitions/", "")] : node;
    if (!target?.description) missing.push(where);
  }
  assert.deepEqual(missing, []);
});

Deno.test("every object with properties is strict (additionalProperties: false)", () => {
  const loose: string[] = [];
  for (const [where, node] of subschemas(root, "#")) {
    if (node.properties && node.additionalProperties !== false) loose.push(where);
  }
  assert.deepEqual(loose, []);
  for (const name of ["Agent", "Model", "Toolset", "Remote", "RemoteOAuth", "Audit"]) {
    assert.equal(definitions[name].additionalProperties, false, name);
  }
});

Deno.test("remote.oauth has exactly the documented keys and limits", () => {
  const oauth = definitions.RemoteOAuth;
  assert.deepEqual(Object.keys(oauth.properties ?? {}).sort(), [
    "callbackPort",
    "callbackRedirectURL",
    "clientId",
    "clientMetadataUrl",
    "clientSecret",
    "grantType",
    "pkce",
    "privateKeyEnv",
    "privateKeyFile",
    "scopes",
    "tls",
  ]);
  const p = oauth.properties!;
  assert.deepEqual(
    [p.callbackPort.type, p.callbackPort.minimum, p.callbackPort.maximum],
    ["integer", 0, 65535],
  );
  assert.deepEqual([p.scopes.type, p.scopes.items?.type], ["array", "string"]);
  assert.equal(p.tls.type, "boolean");
  assert.equal(p.clientMetadataUrl.format, "uri");
  assert.deepEqual(p.pkce.enum, ["force"]);
  assert.deepEqual(p.grantType.enum, ["authorization_code", "client_credentials"]);
  assert.deepEqual(
    definitions.Toolset.properties?.type.enum,
    ["mcp", "think", "todo", "filesystem", "shell", "fetch"],
  );
  assert.deepEqual(definitions.Remote.properties?.transport_type.enum, ["streamable", "sse"]);
});

Deno.test("lib/config/types.ts names the same keys as the schema", () => {
  // `Required<…>` makes the compiler list every key of each type here; the test
  // then compares them with the schema, so neither can gain a key alone.
  const oauth: Required<RemoteOAuthConfig> = {
    clientId: "",
    clientSecret: "",
    callbackPort: 0,
    scopes: [],
    tls: false,
    callbackRedirectURL: "",
    clientMetadataUrl: "",
    pkce: "force",
    grantType: "authorization_code",
    privateKeyFile: "",
    privateKeyEnv: "",
  };
  const remote: Required<RemoteConfig> = { url: "", transport_type: "sse", headers: {}, oauth };
  const toolset: Required<ToolsetConfig> = {
    type: "mcp",
    name: "",
    tools: [],
    command: "",
    args: [],
    env: {},
    cwd: "",
    remote,
    instruction: "",
    allowed_directories: [],
    timeout: 1,
  };
  const model: Required<ModelConfig> = {
    provider: "",
    model: "",
    base_url: "",
    token_key: "",
    temperature: 0,
    max_tokens: 1,
    top_p: 0,
    frequency_penalty: 0,
    presence_penalty: 0,
    parallel_tool_calls: false,
  };
  const agent: Required<AgentConfig> = {
    model: "",
    description: "",
    instruction: "",
    toolsets: [],
    sub_agents: [],
    max_iterations: 0,
    add_date: false,
    add_environment_info: false,
    num_history_items: 1,
  };
  const audit: Required<AuditConfig> = {
    enabled: false,
    path: "",
    include_arguments: false,
    include_results: false,
  };
  const pairs: [string, object][] = [
    ["RemoteOAuth", oauth],
    ["Remote", remote],
    ["Toolset", toolset],
    ["Model", model],
    ["Agent", agent],
    ["Audit", audit],
  ];
  for (const [name, value] of pairs) {
    assert.deepEqual(
      Object.keys(definitions[name].properties ?? {}).sort(),
      Object.keys(value).sort(),
      name,
    );
  }
});

const REPO = new URL("../", import.meta.url);
const SCHEMA_PATH = new URL("schema/agent-schema.json", REPO).pathname;

async function* yamlFilesUnder(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name === "node_modules") continue;
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* yamlFilesUnder(url);
    else if (entry.isFile && /\.ya?ml$/.test(entry.name)) yield url;
  }
}

/**
 * Loads a config with an empty environment, except that variables it needs without a
 * default get a placeholder: examples need no secrets, and defaults are what is checked.
 */
async function loadWithPlaceholders(path: string) {
  try {
    return await loadConfig(path, { env: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const names = error.problems.flatMap((p) =>
      /environment variable (\w+) is not set/.exec(p.message)?.[1] ?? []
    );
    if (names.length === 0) throw error;
    return await loadConfig(path, {
      env: Object.fromEntries(names.map((name) => [name, `placeholder-${name}`])),
    });
  }
}

const fixtureConfigs: URL[] = [];
for await (const url of yamlFilesUnder(new URL("fixtures/", REPO))) fixtureConfigs.push(url);
for await (const url of yamlFilesUnder(new URL("tests/configs/good/", REPO))) {
  fixtureConfigs.push(url);
}

Deno.test("the example configs are found", () => {
  const names = fixtureConfigs.map((url) => url.pathname.slice(REPO.pathname.length));
  assert.ok(names.includes("fixtures/examples/basic.yaml"), names.join(", "));
  assert.ok(names.includes("fixtures/examples/remote_oauth.yaml"), names.join(", "));
});

for (const url of fixtureConfigs) {
  const name = url.pathname.slice(REPO.pathname.length);
  Deno.test(`${name} has a correct $schema line and validates`, async () => {
    const text = await Deno.readTextFile(url);
    const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    assert.ok(line, `${name} lacks '# yaml-language-server: $schema=…'`);
    assert.equal(new URL(line[1], url).pathname, SCHEMA_PATH, `${name}: wrong relative path`);
    const loaded = await loadWithPlaceholders(url.pathname);
    assert.ok(Object.keys(loaded.config.agents).length > 0);
  });
}
