#!/usr/bin/env python3
"""An independent verifier of Standard Webhooks signatures (https://www.standardwebhooks.com/),
written from the specification with the standard library only, for tests/api/outbound.rs.

Reads JSON on stdin:
  {"secret": "whsec_...", "tolerance": 300 | null, "checkPayload": true,
   "requests": [{"headers": {"webhook-id": ..., "webhook-timestamp": ..., "webhook-signature": ...},
                 "body": "<the raw body as received>", "secret": "whsec_... (optional)"}]}
and prints one line per request, "ok <webhook-id>" or "bad <webhook-id>: <why>", then
"verified N of M". Exits 1 when any request does not verify.

The scheme: the signed content is "{webhook-id}.{webhook-timestamp}.{body}"; the key is the
base64-decoded part of the secret after "whsec_"; the signature is base64(HMAC-SHA256(key,
content)), sent as "v1,<signature>" (several may be sent, separated by spaces); compared in
constant time; the timestamp is unix seconds and is refused outside the tolerance.
"""

import base64
import hashlib
import hmac
import json
import sys
import time


def verify(secret, headers, body, tolerance):
    headers = {k.lower(): v for k, v in headers.items()}
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        ts = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not an integer"
    if tolerance is not None and abs(time.time() - ts) > tolerance:
        return "timestamp outside the tolerance"
    if not secret.startswith("whsec_"):
        return "the secret does not start with whsec_"
    key = base64.b64decode(secret[len("whsec_"):])
    content = f"{msg_id}.{timestamp}.".encode() + body.encode()
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for part in signatures.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return None
    return "no v1 signature matches"


def main():
    doc = json.load(sys.stdin)
    default_secret = doc.get("secret")
    tolerance = doc.get("tolerance", 300)
    requests = doc["requests"]
    good = 0
    for r in requests:
        why = verify(r.get("secret") or default_secret, r["headers"], r["body"], tolerance)
        name = r["headers"].get("webhook-id", "?")
        if why is None:
            good += 1
            print(f"ok {name}")
        else:
            print(f"bad {name}: {why}")
        # The body must be JSON with type, timestamp and data (the payload leadsync sends).
        if why is None and doc.get("checkPayload", True):
            payload = json.loads(r["body"])
            assert set(payload) >= {"type", "timestamp", "data"}, payload
    print(f"verified {good} of {len(requests)}")
    sys.exit(0 if good == len(requests) else 1)


if __name__ == "__main__":
    main()
