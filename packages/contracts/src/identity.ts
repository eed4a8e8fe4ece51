import Type from 'typebox';
import { Name, PublicId, Slug, Timestamp } from './common.ts';

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
/** Long passphrases welcome; the upper bound only stops hashing megabytes. */
export const Password = Type.String({ minLength: 10, maxLength: 256, description: 'At least 10 characters' });
export const RoleName = Type.Union([
  Type.Literal('owner'),
  Type.Literal('admin'),
  Type.Literal('member'),
  Type.Literal('readonly'),
]);

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.Optional(Name),
    organization: Type.Optional(
      Type.Object({ name: Name, slug: Type.Optional(Slug) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export const RegisterResponse = Type.Object({
  user: Type.Object({ id: PublicId('user'), email: Type.String() }),
  organization: Type.Object({ id: PublicId('organization'), slug: Type.String() }),
  ...TokenPair.properties,
});

export const LoginBody = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 1, maxLength: 256 }),
    totp: Type.Optional(Type.String({ minLength: 6, maxLength: 20, description: 'TOTP code or a recovery code' })),
  },
  { additionalProperties: false },
);
export const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 10, maxLength: 200 }) },
  { additionalProperties: false },
);
export const OidcBody = Type.Object(
  {
    id_token: Type.String({ minLength: 10, maxLength: 8192 }),
    organization: Type.Optional(
      Type.Object({ name: Name, slug: Type.Optional(Slug) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const Me = Type.Object({
  user: Type.Object({
    id: PublicId('user'),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    email_verified: Type.Boolean(),
    mfa_enabled: Type.Boolean(),
  }),
  memberships: Type.Array(
    Type.Object({
      id: PublicId('membership'),
      organization: Type.Object({ id: PublicId('organization'), slug: Type.String(), name: Type.String() }),
      role: RoleName,
    }),
  ),
});

export const TotpCode = Type.Object(
  { code: Type.String({ minLength: 6, maxLength: 20 }) },
  { additionalProperties: false },
);

export const Member = Type.Object({
  id: PublicId('membership'),
  user: Type.Object({ id: PublicId('user'), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  role: RoleName,
  created_at: Timestamp,
});
export const ChangeRoleBody = Type.Object(
  { role: RoleName },
  { additionalProperties: false, examples: [{ role: 'readonly' }] },
);

export const Invitation = Type.Object({
  id: PublicId('invitation'),
  email: Type.String(),
  role: RoleName,
  expires_at: Timestamp,
  accepted_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});
export const CreateInvitationBody = Type.Object(
  { email: Email, role: RoleName },
  { additionalProperties: false, examples: [{ email: 'new.person@example.com', role: 'member' }] },
);
export const AcceptInvitationBody = Type.Object(
  { token: Type.String({ minLength: 10, maxLength: 200 }) },
  { additionalProperties: false },
);

export const ApiKey = Type.Object({
  id: PublicId('apiKey'),
  name: Name,
  prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
  role: RoleName,
  expires_at: Type.Union([Timestamp, Type.Null()]),
  last_used_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});
export const CreateApiKeyBody = Type.Object(
  { name: Name, role: RoleName, expires_at: Type.Optional(Timestamp) },
  { additionalProperties: false },
);
