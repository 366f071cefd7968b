import pino, { type DestinationStream, type Logger } from 'pino';

// Logs never carry a key: auth headers, cookies and key-bearing query
// parameters are censored by pino's redaction, and code that logs a URL
// passes it through redactUrl first.

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  'headers.cookie',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.secret',
  '*.token',
  '*.webhookUrl',
  '*.url_with_credentials',
];

const KEY_PARAM = /([?&](?:key|api[_-]?key|access[_-]?token|token|sig|signature|secret|password|auth)=)[^&#]*/gi;

/** Replaces the values of key-bearing query parameters and URL userinfo with `[REDACTED]`. */
export function redactUrl(url: string): string {
  return url.replace(KEY_PARAM, '$1[REDACTED]').replace(/\/\/[^/@\s]*@/, '//[REDACTED]@');
}

export interface LoggerOptions {
  readonly level?: string;
  readonly destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.GATEWATCH_LOG_LEVEL ?? 'info';
  const options = {
    name: 'gatewatch',
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
