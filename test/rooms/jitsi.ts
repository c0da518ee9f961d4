import test from 'ava';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { issueToken, roomName, TokenRefused, verifyToken, type TokenRequest } from '../../appliance/src/rooms/jitsi.ts';

const appId = 'samverka';
const appSecret = 'a-jitsi-app-secret-of-at-least-32-characters';
const start = new Date('2026-11-25T13:00:00Z');
const end = new Date('2026-11-25T14:15:00Z');
const during = new Date('2026-11-25T13:30:00Z');

function request(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return {
    appId,
    appSecret,
    domain: 'meet.jitsi',
    room: 'k3q7vd5xk2m4zq7wb6yhn4tgc2rfp5sa',
    user: { id: 'participant-42', name: 'Anna Andersson', moderator: false },
    notBefore: start,
    expiresAt: end,
    ...overrides,
  };
}

const prosodyDefaults = { appSecret, acceptedIssuers: [appId], now: during };

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRefused) return error.reason;
    throw error;
  }
  throw new Error('the token was accepted');
}

test('a room name has at least 128 bits of randomness in lowercase letters and digits only', (t) => {
  const names = Array.from({ length: 2000 }, () => roomName());
  for (const name of names) {
    t.regex(name, /^[a-z2-7]{32}$/);
  }
  // 32 characters from a 32-letter alphabet: 160 bits.
  t.true(32 * Math.log2(32) >= 128);
  t.is(new Set(names).size, names.length);
  // Every character position varies (no fixed prefix that would lower the entropy).
  for (let i = 0; i < 32; i++) t.true(new Set(names.map((n) => n[i])).size > 16, `position ${i}`);
});

test('a staff token carries every claim Jitsi reads, with owner affiliation and moderator rights', async (t) => {
  const token = await issueToken(request({ user: { id: 'staff-7', name: 'Doktor Berg', moderator: true } }));
  t.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  const claims = decodeJwt(token);
  t.is(claims.iss, appId);
  t.is(claims.aud, appId);
  t.is(claims.sub, 'meet.jitsi');
  t.is(claims.room, 'k3q7vd5xk2m4zq7wb6yhn4tgc2rfp5sa');
  t.is(claims.nbf, start.getTime() / 1000);
  t.is(claims.exp, end.getTime() / 1000);
  t.true(Number.isInteger(claims.iat));
  t.is(claims.moderator, true);
  t.deepEqual(claims.context, { user: { id: 'staff-7', name: 'Doktor Berg', moderator: true, affiliation: 'owner' } });
});

test('a participant token is a member without moderator rights', async (t) => {
  const claims = decodeJwt(await issueToken(request()));
  t.is(claims.moderator, false);
  t.deepEqual(claims.context, {
    user: { id: 'participant-42', name: 'Anna Andersson', moderator: false, affiliation: 'member' },
  });
});

test('the audience is configurable for JWT_ACCEPTED_AUDIENCES', async (t) => {
  const token = await issueToken(request({ audience: 'jitsi' }));
  t.is(decodeJwt(token).aud, 'jitsi');
  t.truthy(await verifyToken(token, { ...prosodyDefaults, acceptedAudiences: ['jitsi'], room: request().room }));
  t.is(
    await refusal(verifyToken(token, { ...prosodyDefaults, acceptedAudiences: [appId], room: request().room })),
    "Invalid audience ('aud' claim)",
  );
});

test("a token passes Prosody's checks for its own room, with Prosody's defaults and with allowlists", async (t) => {
  const token = await issueToken(request());
  const room = request().room;
  t.like(await verifyToken(token, { ...prosodyDefaults, room }), { room, iss: appId });
  t.truthy(
    await verifyToken(token, {
      ...prosodyDefaults,
      acceptedIssuers: ['other', appId],
      acceptedAudiences: [appId],
      room,
    }),
  );
  // Prosody's room check compares lowercase: the room address is nodeprepped.
  t.truthy(await verifyToken(token, { ...prosodyDefaults, room: room.toUpperCase() }));
  // With enable_domain_verification, sub must name the deployment whose MUC is joined.
  t.truthy(await verifyToken(token, { ...prosodyDefaults, room, mucDomain: 'conference.meet.jitsi' }));
  t.is(
    await refusal(verifyToken(token, { ...prosodyDefaults, room, mucDomain: 'conference.other.jitsi' })),
    'room or domain does not match the token',
  );
});

test('a token for one room is refused for another', async (t) => {
  const token = await issueToken(request());
  t.is(await refusal(verifyToken(token, { ...prosodyDefaults, room: roomName() })), 'room does not match the token');
  t.is(
    await refusal(verifyToken(token, { ...prosodyDefaults, room: roomName(), mucDomain: 'conference.meet.jitsi' })),
    'room or domain does not match the token',
  );
});

test('a token with a wrong issuer, audience or secret is refused', async (t) => {
  const room = request().room;
  t.is(
    await refusal(verifyToken(await issueToken(request({ appId: 'someone-else' })), { ...prosodyDefaults, room })),
    "Invalid issuer ('iss' claim)",
  );
  t.is(
    await refusal(
      verifyToken(await issueToken(request({ audience: 'elsewhere' })), {
        ...prosodyDefaults,
        acceptedAudiences: [appId],
        room,
      }),
    ),
    "Invalid audience ('aud' claim)",
  );
  t.is(
    await refusal(
      verifyToken(await issueToken(request({ appSecret: 'another-secret-of-at-least-32-characters!' })), {
        ...prosodyDefaults,
        room,
      }),
    ),
    'Invalid signature',
  );
  const [header, payload, signature] = (await issueToken(request())).split('.');
  const tampered = Buffer.from(
    JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), room: '*' }),
  ).toString('base64url');
  t.is(
    await refusal(verifyToken(`${header}.${tampered}.${signature}`, { ...prosodyDefaults, room })),
    'Invalid signature',
  );
});

test('a token is refused before it becomes valid and from the second it expires', async (t) => {
  const token = await issueToken(request());
  const room = request().room;
  t.is(
    await refusal(verifyToken(token, { ...prosodyDefaults, room, now: new Date(start.getTime() - 1000) })),
    'Not acceptable by nbf',
  );
  t.truthy(await verifyToken(token, { ...prosodyDefaults, room, now: start }));
  t.truthy(await verifyToken(token, { ...prosodyDefaults, room, now: new Date(end.getTime() - 1000) }));
  t.is(await refusal(verifyToken(token, { ...prosodyDefaults, room, now: end })), 'Not acceptable by exp');
});

test("tokens missing what Prosody requires, or unsigned, are refused in Prosody's words", async (t) => {
  const key = new TextEncoder().encode(appSecret);
  const room = request().room;
  const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
  t.is(
    await refusal(verifyToken(await sign({ aud: appId, room }), { ...prosodyDefaults, room })),
    "'iss' claim is missing",
  );
  t.is(
    await refusal(verifyToken(await sign({ iss: appId, aud: appId }), { ...prosodyDefaults, room })),
    "'room' claim is missing",
  );
  t.is(
    await refusal(verifyToken(await sign({ iss: appId, room }), { ...prosodyDefaults, room })),
    "'aud' claim is missing",
  );
  t.is(
    await refusal(
      verifyToken(await sign({ iss: appId, aud: appId, room, exp: 'tomorrow' }), { ...prosodyDefaults, room }),
    ),
    'exp must be number',
  );
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: appId, aud: appId, room })).toString('base64url')}.`;
  t.truthy(await refusal(verifyToken(unsigned, { ...prosodyDefaults, room })));
  // Prosody itself accepts `*` as a room (any room): the appliance never issues one.
  t.truthy(await verifyToken(await sign({ iss: appId, aud: appId, room: '*' }), { ...prosodyDefaults, room }));
  await t.throwsAsync(issueToken(request({ room: '*' })), { message: /one lowercase room/ });
});

test('a token that would end before it starts, or for a mixed-case room, is not issued', async (t) => {
  await t.throwsAsync(issueToken(request({ expiresAt: start })), { message: /expire after/ });
  await t.throwsAsync(issueToken(request({ room: 'MixedCase' })), { message: /lowercase/ });
});
