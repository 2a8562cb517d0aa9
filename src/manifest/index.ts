/** Akash's manifest as it travels between tenant and provider: its wire schema and limits. */
export { parseManifest } from './schema.js';
