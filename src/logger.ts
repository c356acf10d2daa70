import { pino, destination, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** Servers log JSON to stdout; CLI commands log to stderr so that stdout holds only their output. */
export function createLogger(config: Pick<Config, 'logLevel'>, stream: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino({ level: config.logLevel, base: { service: 'tandem' } }, destination(stream === 'stdout' ? 1 : 2));
}
