/** A callable's request as firebase-functions hands it to the handler: `uid` signed in (none: anonymous). */
export const callableRequest = (uid?: string, data: unknown = {}) =>
  ({
    data,
    auth: uid ? { uid, token: { auth_time: Math.floor(Date.now() / 1000) } } : undefined,
    rawRequest: { headers: {} },
    acceptsStreaming: false,
  }) as never;
