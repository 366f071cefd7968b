// The error catalog: every error gatewatch raises on purpose has a stable code.

export type ErrorCode =
  | 'GW_ERR_CONFIG_INVALID'
  | 'GW_ERR_CONFIG_READ'
  | 'GW_ERR_RULE_INVALID'
  | 'GW_ERR_RULE_UNSAFE_REGEX'
  | 'GW_ERR_USAGE'
  | 'GW_ERR_SINK_RATE_LIMITED'
  | 'GW_ERR_SINK_REJECTED'
  | 'GW_ERR_SINK_DISABLED'
  | 'GW_ERR_SINK_UNAVAILABLE'
  | 'GW_ERR_UPSTREAM';

export class GatewatchError extends Error {
  readonly code: ErrorCode;
  /** Individual problems when several were collected (config and rule validation). */
  readonly problems: readonly string[];
  constructor(code: ErrorCode, message: string, problems: readonly string[] = []) {
    super(problems.length > 0 ? `${message}\n  ${problems.join('\n  ')}` : message);
    this.name = 'GatewatchError';
    this.code = code;
    this.problems = problems;
  }
}

export function isGatewatchError(e: unknown): e is GatewatchError {
  return e instanceof GatewatchError;
}
