// Gateway error catalogue: every error the gateway raises on purpose carries a stable GW_ERR_* code.
// Callers branch on `code`, never on the message.

export const GATEWAY_ERRORS = {
  GW_ERR_CONFIG: 'invalid configuration',
  GW_ERR_UPSTREAM_REFUSED: 'SteVe refused the station',
  GW_ERR_UPSTREAM_FAILED: 'upstream connection failed',
  GW_ERR_UPSTREAM_QUEUE_FULL: 'too many frames waiting for the upstream to open',
  GW_ERR_STATION_NOT_CONNECTED: 'station is not connected',
  GW_ERR_STATION_DISCONNECTED: 'the station link closed before the call was answered',
  GW_ERR_CALL_TIMEOUT: 'call timed out',
  GW_ERR_CALL_REJECTED: 'call payload is invalid',
  GW_ERR_CALL_TOO_LARGE: 'call is larger than the station accepts',
  GW_ERR_CALL_QUEUE_FULL: 'too many calls waiting for the station',
  GW_ERR_LINK_CLOSED: 'link closed',
  GW_ERR_CLUSTER_UNREACHABLE: 'the gateway node holding the station did not answer',
} as const;
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string = GATEWAY_ERRORS[code],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
