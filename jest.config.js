/** Jest runs TypeScript through ts-jest in ESM mode (the project is "type": "module").
 * Type checking is done once by `tsc --noEmit` in `npm test`, so ts-jest only transpiles. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // Each test file starts its own redis-server and HTTP servers; a few files at once keep CI fast
  // without overloading a 2-core machine.
  maxWorkers: 3,
};
