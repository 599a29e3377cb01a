import type { FastifyReply } from 'fastify';
import { CarillonError } from '../../common/errors.ts';
import type { ChimeErrorType } from '../../common/errors.ts';

/**
 * Chime restJson1 errors (reference §1.6): the `x-amzn-ErrorType` header names the exception —
 * without it the SDK cannot tell a NotFoundException from anything else — and the body carries
 * `{ Code, Message }`.
 */
export type { ChimeErrorType };

const STATUS: Readonly<Record<ChimeErrorType, [number, string]>> = {
  BadRequestException: [400, 'BadRequest'],
  ResourceLimitExceededException: [400, 'ResourceLimitExceeded'],
  UnauthorizedClientException: [401, 'Unauthorized'],
  ForbiddenException: [403, 'Forbidden'],
  AccessDeniedException: [403, 'AccessDenied'],
  NotFoundException: [404, 'NotFound'],
  ConflictException: [409, 'Conflict'],
  ThrottledClientException: [429, 'Throttled'],
  ServiceFailureException: [500, 'ServiceFailure'],
  ServiceUnavailableException: [503, 'ServiceUnavailable'],
  UnprocessableEntityException: [422, 'Unprocessable'],
  // The Chime SDK Meetings API's own types (reference chime-sdk-meetings-api.md §3).
  LimitExceededException: [400, 'LimitExceeded'],
  ResourceNotFoundException: [404, 'ResourceNotFound'],
  TooManyTagsException: [400, 'TooManyTags'],
  ThrottlingException: [429, 'Throttling'],
};

/**
 * A Chime API error: the project's error with its HTTP status, exception type and Chime `Code`.
 * `httpStatus` overrides the type's usual status where HTTP has a more exact one (413).
 */
export class ChimeError extends CarillonError {
  readonly type: ChimeErrorType;
  readonly status: number;

  constructor(type: ChimeErrorType, message: string, code?: string, httpStatus?: number) {
    const [typeStatus, defaultCode] = STATUS[type];
    const status = httpStatus ?? typeStatus;
    super(code ?? defaultCode, message, { sipStatus: status >= 500 ? 500 : 400, httpStatus: status, errorType: type });
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

export function sendChimeError(reply: FastifyReply, err: ChimeError): FastifyReply {
  return reply
    .code(err.status)
    .header('x-amzn-ErrorType', err.type)
    .header('content-type', 'application/json')
    .send({ Code: err.code, Message: err.message });
}

export const badRequest = (message: string): ChimeError => new ChimeError('BadRequestException', message);
export const notFound = (message: string): ChimeError => new ChimeError('NotFoundException', message);

/**
 * A body over the API's limit: HTTP 413 (RFC 9110 §15.5.14 Content Too Large), typed
 * BadRequestException. Chime's model has no 413 exception; every operation declares
 * BadRequestException, so the SDKs and the CLI raise a named, non-retryable client error (a 5xx
 * type would make them send the same large body again).
 */
export const contentTooLarge = (limitBytes: number): ChimeError =>
  new ChimeError('BadRequestException', `The request body is larger than ${limitBytes} bytes`, 'RequestEntityTooLarge', 413);
