/**
 * Identity: secp256k1 account keys, Akash addresses, a file keyring, and Akash-compatible provider JWTs
 * (sign, verify, authorize). Everything except the keyring is pure and safe to use in the daemon's core paths.
 */
export {
  type AccessError,
  type AccessRejection,
  type AccessRequest,
  authorize,
  type Grant,
  type ProviderAction,
} from './authorize.js';
export {
  type ClaimsError,
  type ClaimsRejection,
  claimsJson,
  type DeploymentPermission,
  JWT_VERSION,
  type JwtClaims,
  type Leases,
  newClaims,
  PERMISSION_SCOPES,
  type PermissionScope,
  type ProviderPermission,
  parseClaims,
} from './claims.js';
export {
  bearerToken,
  DEFAULT_LEEWAY_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  type DecodedJwt,
  decodeJwt,
  type JwtError,
  type JwtRejection,
  type PubkeyResolver,
  signJwt,
  type VerifiedClaims,
  type VerifyJwtOptions,
  verifyJwt,
} from './jwt.js';
export {
  addKey,
  defaultKeyringDir,
  deleteKey,
  getKey,
  importKey,
  KEY_NAME_PATTERN,
  type Key,
  type KeyInfo,
  type KeyringError,
  listKeys,
  type WriteKeyOptions,
} from './keyring.js';
export {
  AKASH_PREFIX,
  addressOf,
  generatePrivateKey,
  isAddress,
  isValidPrivateKey,
  parseAddress,
  parsePrivateKeyHex,
  parsePublicKey,
  publicKeyOf,
} from './keys.js';
export { adr36SignBytes, JWT_ALGORITHMS, type JwtAlg, signMessage, verifyMessage } from './signature.js';
