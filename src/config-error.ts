// The configuration's error and raw input, apart from config.ts so that the parts that read
// their own variables (providers, rate limits) can be called from loadConfig without a cycle.

/** Variables as read: the environment merged over `.env`. */
export type RawEnv = Record<string, string | undefined>;

/** A configuration problem: names the variable and why, in one line. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}
