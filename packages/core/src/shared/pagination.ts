import { isUuid } from '@atrium/contracts';
import { AtriumError } from './errors.ts';

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Cursors are opaque to clients: the storage UUID of the last item, base64url-encoded. */
export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const uuid = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(uuid)) {
    throw new AtriumError('validation_failed', 'cursor is not one this API returned', [
      { path: '/cursor', message: 'invalid cursor' },
    ]);
  }
  return uuid;
}

/** Rows were fetched with limit + 1 so that one query tells whether another page exists. */
export function toPage<Row extends { id: string }, T>(rows: Row[], limit: number, map: (row: Row) => T): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(map),
    next_cursor: hasMore && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  };
}
