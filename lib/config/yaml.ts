/**
 * The `yaml` package, loaded from its one-file ES-module build
 * (lib/config/yaml_bundle.generated.js, see lib/config/yaml_bundle_generator.ts) instead of
 * `npm:yaml`, whose CommonJS build costs every config-reading command about 70 ms of
 * start-up. The types are the npm package's own (`@ts-types`), so nothing else changes: the
 * code is the same version as the `yaml` entry of deno.json.
 * @module
 */
// @ts-types="yaml"
export * from "./yaml_bundle.generated.js";
