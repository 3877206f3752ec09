#!/usr/bin/env python3
"""Checks a post of autopilot-export's webhook, as a receiver would.

    SECRET=whsec_... docs/verify-webhook.py "$AUTOPILOT_EXPORT_SIGNATURE_HEADER" < body.json

The signing secret in SECRET, the Autopilot-Export-Signature header's value as the argument, the
body exactly as received on standard input. Prints "verified" and exits 0, or "refused" and 1.
"""
import hashlib
import hmac
import os
import sys
import time

TOLERANCE = 300  # seconds: refuse posts signed more than 5 minutes from this clock (replays)


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    fields = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in fields if key == "t"]
    signatures = [value for key, value in fields if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE:
        return False
    signed = b"%d." % timestamp + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


if __name__ == "__main__":
    verified = verify(os.environ["SECRET"], sys.argv[1], sys.stdin.buffer.read())
    print("verified" if verified else "refused")
    sys.exit(0 if verified else 1)
