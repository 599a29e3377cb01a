import type { FastifyReply } from 'fastify';

/**
 * Chime restJson1 errors (reference §1.6): the `x-amzn-ErrorType` header names the exception —
 * without it the SDK cannot tell a NotFoundException from anything else — and the body carries
 * `{ Code, Message }`.
 */
export type ChimeErrorType =
  | 'BadRequestException'
  | 'ResourceLimitExceededException'
  | 'UnauthorizedClientException'
  | 'ForbiddenException'
  | 'AccessDeniedException'
  | 'NotFoundException'
  | 'ConflictException'
  | 'ThrottledClientException'
  | 'ServiceFailureException'
  | 'ServiceUnavailableException';

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
};

export class ChimeError extends Error {
  readonly type: ChimeErrorType;
  readonly status: number;
  readonly code: string;

  constructor(type: ChimeErrorType, message: string, code?: string) {
    super(message);
    this.type = type;
    const [status, defaultCode] = STATUS[type];
    this.status = status;
    this.code = code ?? defaultCode;
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
