// GraphQL over HTTP: the graphql-http package's own server audit against a running leadsync.
//
//   LEADSYNC_URL=http://127.0.0.1:8080 LEADSYNC_TOKEN=... node http-audit.mjs
//
// Every audit request carries the token (the audits' fetchFn wrapper). Prints one line per audit
// and a summary line; exits non-zero when a MUST fails, and also on any SHOULD warning unless
// HTTP_AUDIT_ALLOW_WARNINGS=1. MAY audits that are not met are listed as notices.
import { serverAudits } from 'graphql-http';

const base = process.env.LEADSYNC_URL ?? 'http://127.0.0.1:8080';
const token = process.env.LEADSYNC_TOKEN;
if (!token) {
  console.error('LEADSYNC_TOKEN is required');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers ?? {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(10_000) });
};

const audits = serverAudits({ url: `${base}/graphql`, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const { id, name, fn } of audits) {
  const result = await fn();
  counts[result.status] += 1;
  if (result.status === 'ok') {
    console.log(`ok     ${id} ${name}`);
  } else {
    let body = '';
    try {
      body = (await result.response.text()).slice(0, 300);
    } catch {
      // the audit already read the body
    }
    const label = { notice: 'notice', warn: 'WARN  ', error: 'FAIL  ' }[result.status];
    console.log(`${label} ${id} ${name}: ${result.reason} ` +
      `(${result.response.status} ${result.response.headers.get('content-type') ?? ''}) ${body}`);
  }
}

const allowWarnings = process.env.HTTP_AUDIT_ALLOW_WARNINGS === '1';
const failed = counts.error > 0 || (!allowWarnings && counts.warn > 0);
console.log(
  `graphql-http audit: ${audits.length} audits, ${counts.ok} passed, ${counts.error} MUST failures, ` +
    `${counts.warn} SHOULD warnings, ${counts.notice} MAY notices${failed ? ' — FAILED' : ''}`,
);
process.exit(failed ? 1 : 0);
