#!/usr/bin/env bash
# Fuzzing: schemathesis against a running leadsync's /graphql, every root field of Query and
# Mutation (fuzzing and stateful phases), a fixed seed and a bounded number of examples per field,
# with an administrator's token. Fails on any 5xx and on any error that is INTERNAL or has no code
# (fuzz_hooks.py). Seeds a few leads, a strategy and a LinkedIn profile first, so that ids 1..3
# (schemathesis.toml) exist.
#
#   LEADSYNC_URL=http://127.0.0.1:8080 LEADSYNC_TOKEN=<admin> SCHEMATHESIS=path/to/schemathesis ./fuzz.sh
set -euo pipefail
cd "$(dirname "$0")"
: "${LEADSYNC_URL:?}" "${LEADSYNC_TOKEN:?}"
schemathesis=${SCHEMATHESIS:-schemathesis}

gql() {
  local body
  body=$(curl -sS --max-time 10 "$LEADSYNC_URL/graphql" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $LEADSYNC_TOKEN" -d "$1")
  case "$body" in *'"errors"'*) echo "seeding failed: $body" >&2; return 1 ;; esac
}
form='{"id":7,"versionId":1,"name":"Fuzz form","content":{"questions":[{"questionId":1,"name":"Email","question":{"localized":{"en_US":"Email"}},"predefinedField":"EMAIL"},{"questionId":2,"name":"Phone","question":{"localized":{"en_US":"Phone"}},"predefinedField":"PHONE_NUMBER"}]}}'
responses=""
for i in 1 2 3; do
  responses+="${responses:+,}{\"id\":\"fuzz-seed-$i\",\"owner\":{\"sponsoredAccount\":\"urn:li:sponsoredAccount:$i\"},\"leadMetadata\":{\"sponsoredLeadMetadata\":{\"campaign\":\"urn:li:sponsoredCampaign:$i\"}},\"versionedLeadGenFormUrn\":\"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7,1)\",\"submittedAt\":1760000000000,\"testLead\":false,\"formResponse\":{\"answers\":[{\"questionId\":1,\"answerDetails\":{\"textQuestionAnswer\":{\"answer\":\"fuzz$i@example.com\"}}},{\"questionId\":2,\"answerDetails\":{\"textQuestionAnswer\":{\"answer\":\"+1 555 010$i\"}}}]}}"
done
gql "{\"query\":\"mutation(\$input: IngestLinkedInLeadsInput!) { ingestLinkedInLeads(input: \$input) { leadsCreated } }\",\"variables\":{\"input\":{\"forms\":[$form],\"responses\":[$responses]}}}"
for i in 1 2; do
  gql "{\"query\":\"mutation { createLeadMatchingStrategy(input: {name: \\\"fuzz $i\\\"}) { id } createLinkedInUserProfile(input: {name: \\\"fuzz $i\\\"}) { id } }\"}"
done

report_dir=${FUZZ_REPORT_DIR:-$(mktemp -d)}
mkdir -p "$report_dir"
set +e
PYTHONPATH=. SCHEMATHESIS_HOOKS=fuzz_hooks "$schemathesis" --config-file schemathesis.toml \
  run "$LEADSYNC_URL/graphql" \
  --header "Authorization: Bearer $LEADSYNC_TOKEN" \
  --checks response_schema_conformance,no_server_errors \
  --phases fuzzing,stateful \
  --seed "${FUZZ_SEED:-20261128}" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-40}" \
  --generation-database none \
  --workers 1 \
  --request-timeout 10 \
  --no-color \
  --report junit --report-dir "$report_dir" 2>&1 | tee "$report_dir/output.txt"
status=${PIPESTATUS[0]}
set -e
# One summary line from schemathesis' "Test cases" section ("N generated, N passed" or
# "N generated, N found N unique failures").
cases=$(grep -E '^ +[0-9]+ generated' "$report_dir/output.txt" | tail -n 1 | sed -E 's/^ +//')
echo "schemathesis: ${cases:-no test cases} (seed ${FUZZ_SEED:-20261128}, at most ${FUZZ_MAX_EXAMPLES:-40} examples per operation), exit $status"
exit $status
