/**
 * The OpenAPI side of authentication. Routes that declare `config.auth` get
 * `security: [{ bearerAuth: [] }]` from the authentication plugin; the
 * scheme itself must be declared once in the document's components.
 */

export const BEARER_SECURITY_NAME = 'bearerAuth';

export const bearerSecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description:
    'An API key from `API_KEYS` / `API_KEYS_FILE`, sent as `Authorization: Bearer <key>`. Role `lookup` may call the signature endpoints; `admin` may also call the cache endpoints.',
} as const;

/** Spread into the OpenAPI document: `components: { securitySchemes }`. */
export const securitySchemes = { [BEARER_SECURITY_NAME]: bearerSecurityScheme };
