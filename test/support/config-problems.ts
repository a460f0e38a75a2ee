import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The problems a ConfigError lists for these settings, or a failure if the configuration loaded. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}
