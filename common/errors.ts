/**
 * One error hierarchy (STYLE.md 9). Every error carries a stable code, the SIP status it maps to,
 * the HTTP status and Chime error type it maps to, and a bounded metric label. Tests assert
 * `code`, never message text. A remote SIP rejection is a value, not one of these.
 */
export type ChimeErrorType =
  | 'BadRequestException'
  | 'ForbiddenException'
  | 'NotFoundException'
  | 'ConflictException'
  | 'ThrottledClientException'
  | 'ResourceLimitExceededException'
  | 'ServiceFailureException'
  | 'ServiceUnavailableException'
  | 'UnauthorizedClientException'
  | 'AccessDeniedException'
  | 'UnprocessableEntityException'
  | 'LimitExceededException'
  | 'ResourceNotFoundException'
  | 'TooManyTagsException'
  | 'ThrottlingException';

export interface ErrorMapping {
  readonly sipStatus: number;
  readonly httpStatus: number;
  readonly errorType: ChimeErrorType;
}

export class CarillonError extends Error {
  readonly code: string;
  readonly sipStatus: number;
  readonly httpStatus: number;
  readonly errorType: ChimeErrorType;

  constructor(code: string, message: string, mapping: ErrorMapping, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CarillonError';
    this.code = code;
    this.sipStatus = mapping.sipStatus;
    this.httpStatus = mapping.httpStatus;
    this.errorType = mapping.errorType;
  }

  /** Bounded label for metrics: the code, never the message. */
  get metricLabel(): string {
    return this.code;
  }
}

const BAD_REQUEST: ErrorMapping = { sipStatus: 400, httpStatus: 400, errorType: 'BadRequestException' };
const INTERNAL: ErrorMapping = { sipStatus: 500, httpStatus: 500, errorType: 'ServiceFailureException' };

/** Configuration that fails validation at boot. */
export class ConfigError extends CarillonError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, BAD_REQUEST);
    this.name = 'ConfigError';
  }
}

/** Something that must not happen; maps to 500. */
export class InternalError extends CarillonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', message, INTERNAL, options);
    this.name = 'InternalError';
  }
}
