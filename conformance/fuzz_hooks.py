"""schemathesis hooks for leadsync (loaded by fuzz.sh through SCHEMATHESIS_HOOKS=fuzz_hooks).

- `no_server_errors`: no 5xx, and no GraphQL error that is `INTERNAL` or has no `extensions.code`.
  An internal error is a crash, whatever input caused it: bad input must come back as
  BAD_USER_INPUT (or NOT_FOUND, CONFLICT, ...). schemathesis' own `not_a_server_error` is not used
  for GraphQL because it counts every error with a `path` as a server failure unless its code is
  one of Apollo's client codes, so leadsync's documented NOT_FOUND and CONFLICT for a random id
  would count as crashes.
- A strategy for the `JSON` scalar: arbitrary JSON values, and LinkedIn-shaped lead form responses
  and forms with fuzzed leaves, so that the ingest pipeline's strict parsing is exercised.
"""

import json
import zlib

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes


@schemathesis.check
def no_server_errors(ctx, response, case):
    """No 5xx; every GraphQL error carries extensions.code, and none is INTERNAL."""
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]!r}")
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"the response is not JSON: {response.text[:300]!r}")
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            raise AssertionError(f"an error without extensions.code: {json.dumps(error)[:300]}")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL error for generated input: {json.dumps(error)[:300]}")


# ------------------------------------------------------------------ the JSON scalar


def to_node(value):
    """A JSON value as a GraphQL value node."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([to_node(v) for v in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=to_node(v))
            for k, v in value.items()
        ]
    )


names = st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,12}\Z")
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=40)
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)

ids = st.integers(min_value=-5, max_value=2**40) | st.text(max_size=12)
urns = st.sampled_from(
    [
        "urn:li:sponsoredAccount:1",
        "urn:li:sponsoredCampaign:1",
        "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7,1)",
        "urn:li:leadGenForm:7",
        "urn:li:organization:1",
        "urn:li:sponsoredCreative:1",
        "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7,x)",
        "urn:li:",
        "",
    ]
) | st.text(max_size=30)
maybe = lambda s: s | any_json  # noqa: E731 - a leaf that is sometimes of the wrong shape

answer = st.fixed_dictionaries(
    {"questionId": maybe(ids)},
    optional={
        "answerDetails": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "textQuestionAnswer": maybe(st.fixed_dictionaries({"answer": maybe(st.text(max_size=30))})),
                    "multipleChoiceAnswer": maybe(
                        st.fixed_dictionaries({"options": maybe(st.lists(ids, max_size=3))})
                    ),
                },
            )
        )
    },
)
lead_response = st.fixed_dictionaries(
    {"id": maybe(st.text(max_size=20))},
    optional={
        "owner": maybe(st.fixed_dictionaries({"sponsoredAccount": maybe(urns)})),
        "leadMetadata": maybe(
            st.fixed_dictionaries(
                {"sponsoredLeadMetadata": maybe(st.fixed_dictionaries({"campaign": maybe(urns)}))}
            )
        ),
        "versionedLeadGenFormUrn": maybe(urns),
        "submittedAt": maybe(st.integers(min_value=-(2**62), max_value=2**62)),
        "testLead": maybe(st.booleans()),
        "leadType": maybe(st.sampled_from(["SPONSORED", "EVENT", "COMPANY", "ORGANIZATION_PRODUCT"])),
        "formResponse": maybe(
            st.fixed_dictionaries(
                {"answers": maybe(st.lists(answer, max_size=3))},
                optional={"consentResponses": maybe(st.lists(any_json, max_size=2))},
            )
        ),
    },
)
localized = st.fixed_dictionaries({"localized": maybe(st.dictionaries(st.sampled_from(["en_US", "de_DE", ""]), st.text(max_size=20), max_size=2))})
question = st.fixed_dictionaries(
    {"questionId": maybe(ids)},
    optional={
        "name": maybe(st.text(max_size=20)),
        "question": maybe(localized),
        "predefinedField": maybe(st.sampled_from(["EMAIL", "FIRST_NAME", "PHONE_NUMBER", "COMPANY_NAME", "NOPE"])),
        "questionDetails": any_json,
    },
)
lead_form = st.fixed_dictionaries(
    {"id": maybe(ids)},
    optional={
        "versionId": maybe(ids),
        "name": maybe(st.text(max_size=20)),
        "locale": maybe(st.text(max_size=6)),
        "content": maybe(st.fixed_dictionaries({"questions": maybe(st.lists(question, max_size=3))})),
    },
)

schemathesis.graphql.scalar("JSON", (any_json | lead_response | lead_form).map(to_node))


# ------------------------------------------------------------------ reaching the resolvers

# Page sizes and cursors drawn at random are almost always out of range or not cursors, so most
# generated list selections stopped at BAD_USER_INPUT before a page was read, and selections
# that only a real page exercises (a page without `totalCount`, say) were never resolved. Half of
# the documents keep what was drawn; the other half get a valid page size and no cursor.
PAGE_ARGUMENTS = {"first": 101, "limit": 1000}


class _Reach(graphql.Visitor):
    """Valid page sizes and no cursors (AST nodes are frozen: the visitor returns new ones)."""

    def enter_argument(self, node, *_):
        name = node.name.value
        if name == "after":
            return graphql.language.visitor.REMOVE
        if name in PAGE_ARGUMENTS and isinstance(node.value, graphql.IntValueNode):
            size = max(abs(int(node.value.value)) % PAGE_ARGUMENTS[name], 1)
            return graphql.ArgumentNode(name=node.name, value=graphql.IntValueNode(value=str(size)))
        return None


@schemathesis.hook
def map_body(ctx, body):
    if not isinstance(body, graphql.DocumentNode):
        return body
    # crc32, not hash(): the same seed must draw the same run.
    if zlib.crc32(graphql.print_ast(body).encode()) % 2 == 0:
        return body
    return graphql.visit(body, _Reach())
