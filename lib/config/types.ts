/**
 * Types of a dagent agent configuration, as it is after loading and validation.
 * The shape follows cagent / docker-agent configs; `schema/agent-schema.json` is
 * the single source of truth for what is accepted, and these types mirror it.
 * @module
 */

/** OAuth settings of a remote MCP toolset (`toolsets[].remote.oauth`). */
export interface RemoteOAuthConfig {
  /** Pre-registered client id; when set, client registration is skipped entirely. */
  clientId?: string;
  /** Secret of the pre-registered client (needs `clientId`). */
  clientSecret?: string;
  /** Port of the loopback callback server; 0 (the default) picks any free port. */
  callbackPort?: number;
  /** Scopes to request; they override the challenge's and the server's. */
  scopes?: string[];
  /** Serve the loopback callback over HTTPS with a generated self-signed certificate. */
  tls?: boolean;
  /** `redirect_uri` to send instead of the loopback one (tunnels); may contain `${callbackPort}`. */
  callbackRedirectURL?: string;
  /** URL of a Client ID Metadata Document used as the client id where the server supports it. */
  clientMetadataUrl?: string;
  /** `force`: use PKCE S256 even when the server does not advertise it. */
  pkce?: "force";
  /** OAuth grant: `authorization_code` (default, a user signs in) or `client_credentials`. */
  grantType?: "authorization_code" | "client_credentials";
  /** PEM file with an EC P-256 private key for `private_key_jwt` client authentication. */
  privateKeyFile?: string;
  /** Name of an environment variable holding that PEM key instead of a file. */
  privateKeyEnv?: string;
}

/** A remote MCP server (`toolsets[].remote`). */
export interface RemoteConfig {
  url: string;
  /** `streamable` (default) or `sse`. */
  transport_type?: "streamable" | "sse";
  headers?: Record<string, string>;
  oauth?: RemoteOAuthConfig;
}

/** The kinds of toolset a config can name. */
export type ToolsetType = "mcp" | "think" | "todo" | "filesystem" | "shell" | "fetch";

/** One entry of `agents.<name>.toolsets`. */
export interface ToolsetConfig {
  type: ToolsetType;
  /** Name used by `dagent auth`, `dagent mcp call` and in messages. */
  name?: string;
  /** Allow-list of tool names; absent means every tool of the toolset. */
  tools?: string[];
  /** stdio MCP server: the command to spawn. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Remote MCP server. */
  remote?: RemoteConfig;
  /** Free-form description shown to the model (optional). */
  instruction?: string;
  /** filesystem toolset: root directories it may touch (default: the working directory). */
  allowed_directories?: string[];
  /** shell / fetch toolsets: timeout in seconds. */
  timeout?: number;
}

/** One entry of `models`. */
export interface ModelConfig {
  provider: string;
  model: string;
  base_url?: string;
  /** Name of the environment variable that holds the API key. */
  token_key?: string;
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  parallel_tool_calls?: boolean;
}

/** One entry of `agents`. */
export interface AgentConfig {
  /** A key of `models`, or an inline `provider/model` reference. */
  model: string;
  description?: string;
  instruction?: string;
  toolsets?: ToolsetConfig[];
  sub_agents?: string[];
  max_iterations?: number;
  add_date?: boolean;
  add_environment_info?: boolean;
  num_history_items?: number;
}

/** The top-level `audit` block. */
export interface AuditConfig {
  enabled?: boolean;
  path?: string;
  include_arguments?: boolean;
  include_results?: boolean;
}

/** The top-level `metadata` block: about the config itself, not used at run time. */
export interface ConfigMetadata {
  author?: string;
  license?: string;
  readme?: string;
  version?: string;
}

/** A whole configuration file. */
export interface Config {
  version?: string;
  metadata?: ConfigMetadata;
  agents: Record<string, AgentConfig>;
  models?: Record<string, ModelConfig>;
  audit?: AuditConfig;
}
