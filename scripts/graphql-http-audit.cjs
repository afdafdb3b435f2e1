// Runs graphql-http's GraphQL-over-HTTP audit suite (`auditServer`) against a running
// gateway and prints one line per audit, then "N passed, N failed"; exits 1 on any failure.
//
//   npm install --prefix /tmp/audit graphql-http@1.23.1 graphql@16
//   NODE_PATH=/tmp/audit/node_modules node scripts/graphql-http-audit.cjs \
//       http://127.0.0.1:8000/graphql [email password]
//
// With an email and password it signs in first and sends the token with every audit
// (introspection, which some audits use, answers signed-in callers only).
// tests/test_transport.py runs it against a uvicorn process.
const { auditServer } = require('graphql-http');

const LOGIN =
  'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';

async function main() {
  const [url, email, password] = process.argv.slice(2);
  if (!url) throw new Error('usage: graphql-http-audit.cjs URL [email password]');
  let auth = {};
  if (email) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LOGIN, variables: { e: email, p: password } }),
    });
    auth = { authorization: `Bearer ${(await res.json()).data.login.token}` };
  }
  const fetchFn = (input, init = {}) =>
    fetch(input, { ...init, headers: { ...auth, ...(init.headers || {}) } });
  const results = await auditServer({ url, fetchFn });
  let failed = 0;
  for (const r of results) {
    if (r.status !== 'ok') failed += 1;
    const why = r.status === 'ok' ? '' : `  -- ${r.reason}`;
    console.log(`${r.status.padEnd(6)} ${r.id} ${r.name}${why}`);
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
