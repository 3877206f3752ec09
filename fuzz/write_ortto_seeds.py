"""Writes the seeds of the `ortto-answers` fuzz target (fuzz/seeds/ortto-answers): answers of the
shapes Ortto gives (../shared/ortto-api.md's observed answers), each laid out as the target reads
an input — the status's index, the call, the Retry-After's index, then the body.

    python3 fuzz/write_ortto_seeds.py
"""
import json
import os

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "ortto-answers")
# Indexes into the target's STATUSES and RETRY_AFTER (answer_server.rs), and its calls.
OK, BAD_REQUEST, UNAUTHORIZED, THROTTLED, UNAVAILABLE = 0, 4, 5, 9, 11
NO_RETRY_AFTER, RETRY_AFTER_1 = 0, 2
ACCOUNT, AUDIENCES, PREPARE, PAGE, PAGE_AFTER_LOOKUP, WRITE, WRITE_UPDATE_ONLY, ADD = range(8)

TAGS = [{"id": 17, "instance_id": "5f1c0ffee", "name": "VIP Customers", "source": "api", "count": 2}]
FIELDS = {"fields": [
    {"field": {"id": "str:cm:tier", "name": "Tier", "display_type": "text", "liquid_name": "people.custom.tier"},
     "tracked_value": False},
    {"field": {"id": "int:cm:points", "name": "Points", "display_type": "integer"}, "tracked_value": False},
]}
CREATED = {"name": "Score", "field_id": "int:cm:score", "display_type": "decimal"}
PAGE_OF_PEOPLE = {
    "contacts": [
        {"id": "006913c5b70abf827f703c00", "fields": {"str::email": "ann@x.io", "bol::p": True}},
        {"id": "006913c5b70abf827f703c01", "fields": {"str::email": "bob@x.io", "bol::p": False}},
    ],
    "meta": {"total_contacts": 3},
    "offset": 2,
    "next_offset": 2,
    "cursor_id": "c0ffee2",
    "has_more": True,
}
EMPTY_PAGE = {"contacts": None, "meta": {"total_contacts": 0}, "offset": 0, "cursor_id": "", "has_more": False}
MERGED = {"people": [
    {"person_id": "006913c5b70abf827f703c00", "status": "merged"},
    {"person_id": "006913c5b70abf827f703c01", "status": "merged"},
    {"person_id": "006913c5b70abf827f703c02", "status": "created"},
    {"status": "suppressed", "error": "Email is suppressed"},
    {"status": "invalid", "error": "failed to validate field str::email in schema: eve@x.io"},
]}
ALL_REFUSED = {"request_id": "r1", "code": 400, "error": "No valid contacts provided (Email is suppressed)",
               "details": [{"status": "suppressed", "error": "Email is suppressed"}] * 5}
MIXED_REFUSED = {"request_id": "r2", "code": 400, "error": "sandbox: Failed to parse request ann@x.io"}
RATE_LIMIT = {"error": {"code": "rate-limit", "message": "rate limit", "try-in-seconds": 10}}
UNAUTHORIZED_BODY = {"request_id": "r3", "code": 401, "error": "Unauthorized"}

SEEDS_BY_NAME = {
    "tags": (OK, ACCOUNT, NO_RETRY_AFTER, TAGS),
    "tags-empty": (OK, AUDIENCES, NO_RETRY_AFTER, []),
    "custom-fields": (OK, PREPARE, NO_RETRY_AFTER, FIELDS),
    "custom-field-created": (OK, PREPARE, NO_RETRY_AFTER, {**FIELDS, **CREATED}),
    "page": (OK, PAGE, NO_RETRY_AFTER, PAGE_OF_PEOPLE),
    "page-empty": (OK, PAGE, NO_RETRY_AFTER, EMPTY_PAGE),
    "page-after-lookup": (OK, PAGE_AFTER_LOOKUP, NO_RETRY_AFTER, TAGS),
    "merged": (OK, WRITE, NO_RETRY_AFTER, MERGED),
    "merged-update-only": (OK, WRITE_UPDATE_ONLY, NO_RETRY_AFTER, MERGED),
    "all-refused": (BAD_REQUEST, WRITE_UPDATE_ONLY, NO_RETRY_AFTER, ALL_REFUSED),
    "refused-whole": (BAD_REQUEST, WRITE, NO_RETRY_AFTER, MIXED_REFUSED),
    "put-back": (OK, ADD, NO_RETRY_AFTER, {"people": MERGED["people"][:3]}),
    "rate-limit": (THROTTLED, WRITE, RETRY_AFTER_1, RATE_LIMIT),
    "unauthorized": (UNAUTHORIZED, ACCOUNT, NO_RETRY_AFTER, UNAUTHORIZED_BODY),
    "unavailable": (UNAVAILABLE, PAGE, NO_RETRY_AFTER, "<html><body>503 Service Unavailable</body></html>"),
}

os.makedirs(SEEDS, exist_ok=True)
for name, (status, call, retry_after, body) in SEEDS_BY_NAME.items():
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    with open(os.path.join(SEEDS, f"{name}.bin"), "wb") as seed:
        seed.write(bytes([status, call, retry_after]) + text.encode())
