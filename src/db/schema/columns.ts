// Column types shared by the table types.
import type { ColumnType, JSONColumnType } from 'kysely';

export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type Json = Record<string, unknown>;
export type JsonCol = JSONColumnType<Json, string | Json, string | Json>;
