import Type, { type Static, type TSchema } from 'typebox';
import { type IdKind, publicIdPattern } from './ids.ts';

export function PublicId(kind: IdKind, description?: string) {
  return Type.String({ pattern: publicIdPattern(kind), description: description ?? `A ${kind} id` });
}

export const Timestamp = Type.String({ format: 'date-time' });

/** A name a person typed: trimmed of nothing, but never empty and never a novel. */
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export const Description = Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]);

export const Slug = Type.String({
  minLength: 3,
  maxLength: 63,
  pattern: '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$',
  description: 'Lower-case letters, digits and inner hyphens (a DNS label), 3 to 63 characters',
});

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page' })),
  cursor: Type.Optional(
    Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'next_cursor of the previous page' }),
  ),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page' }),
  });
}

export const IdParams = (kind: IdKind) => Type.Object({ id: PublicId(kind) }, { additionalProperties: false });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description: 'For validation_failed: each field that is wrong',
      }),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export type ProblemDocument = Static<typeof Problem>;
