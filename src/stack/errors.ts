// Errors the stack commands raise; the code is stable, the message says what to do.
export type StackErrorCode =
  | 'MACHI_ERR_TOOL_MISSING'
  | 'MACHI_ERR_FETCH_FAILED'
  | 'MACHI_ERR_BUILD_FAILED'
  | 'MACHI_ERR_PORT_IN_USE'
  | 'MACHI_ERR_SPAWN'
  | 'MACHI_ERR_START_FAILED'
  | 'MACHI_ERR_START_TIMEOUT'
  | 'MACHI_ERR_START_INTERRUPTED';

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
  ) {
    super(message);
  }
}
