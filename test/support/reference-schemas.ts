/** The reference-schema validation lives under dev/ (the development authorization server uses it too). */
export * from '../../dev/support/reference-schemas.js';
