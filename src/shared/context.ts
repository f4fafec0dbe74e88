// Who is calling and from where: built by a protocol adapter, carried into every domain call,
// and written into the audit event of every change.

export interface Principal {
  /** CloudTrail userIdentity.type: IAMUser, AssumedRole, IdentityCenterUser, Unknown, Atrium (the process itself). */
  type: string;
  principalId: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
}

export interface RequestContext {
  requestId: string;
  sourceIp: string;
  userAgent: string;
  region: string;
  /** e.g. identitystore.amazonaws.com; the surface the request came through. */
  eventSource: string;
  principal: Principal;
}

/** Context for work Atrium does by itself: the CLI, background jobs, start-up. */
export function systemContext(eventSource: string, region: string, requestId: string, via = 'atrium-cli'): RequestContext {
  return {
    requestId,
    sourceIp: '127.0.0.1',
    userAgent: via,
    region,
    eventSource,
    principal: { type: 'Atrium', principalId: 'atrium', userName: via },
  };
}
