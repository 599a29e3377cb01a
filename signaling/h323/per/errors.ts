import { CarillonError } from '../../../common/errors.ts';

/** Why a PER encoding or decoding failed; bounded, usable as a metric label. */
export type PerErrorCode =
  | 'PER_TRUNCATED'
  | 'PER_LIMIT'
  | 'PER_CONSTRAINT'
  | 'PER_INVALID'
  | 'PER_TRAILING';

/** The only error the PER runtime throws; peers' bytes that do not decode end here, never in a RangeError. */
export class PerError extends CarillonError {
  readonly perCode: PerErrorCode;

  constructor(perCode: PerErrorCode, message: string) {
    super(perCode, message, { sipStatus: 400, httpStatus: 400, errorType: 'BadRequestException' });
    this.name = 'PerError';
    this.perCode = perCode;
  }
}

export type PerResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PerError };
