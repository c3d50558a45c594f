#!/usr/bin/env python3
"""The ps1 pseudonym, written from docs/CRYPTO.md ("The pseudonym, byte by byte") alone.

Python 3.8+, standard library only. A second implementation to check the service against, and a
readable statement of every byte. Usage:

  pseudonym.py --pepper-file FILE --salt HEX [--shred HEX] --kind u|g [--scope EVENT_TYPE] --field NAME
               --salt-version N --pepper-version N (--string TEXT | --number LITERAL | --boolean true|false)
      prints the pseudonym. FILE holds the pepper as stored in Secret Manager (`-` reads stdin), e.g.
      `gcloud secrets versions access 2 --secret PSEUDONYM_PEPPER > pepper.txt`. Salt and shred in hex.
      --shred: the subject's shred secret, for a global pseudonym of an event that names its subject.
      --scope-id ID --scope-version N --scope-secret HEX: the scoped pseudonym of that scope version
      ("Scoped pseudonyms, byte by byte"; ps1.su... or ps1.sg...).
  ... --verify PSEUDONYM      (same inputs; versions come from the pseudonym) prints true or false,
      exit status 0 or 1. Give the salt, pepper and scope secret of the versions the pseudonym names.
  Write values that start with "-" as --number=-7, --string=-x (argparse would take them for options).
  pseudonym.py --vectors docs/pseudonym-vectors.json    checks every pinned vector (exit 1 on a mismatch)
  pseudonym.py --cases < cases.jsonl                    one case (a vector's fields) per line -> pseudonyms
  pseudonym.py --number-text < literals                 one number literal per line -> its text
"""

import argparse
import base64
import decimal
import hashlib
import hmac
import json
import math
import re
import sys

MIN_PEPPER_BYTES = 32
PSEUDONYM = re.compile(r"ps1\.([ug])\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})")
SCOPED = re.compile(
    r"ps1\.s([ug])\.([a-z0-9_-]{1,40})\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})"
)
SCOPE_ID = re.compile(r"[a-z0-9_-]{1,40}")
NUMBER_LITERAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def pepper_bytes(payload: bytes) -> bytes:
    """The HMAC key: the secret's payload without ASCII whitespace at either end, as text, never decoded."""
    key = payload.strip()  # bytes.strip() removes exactly b" \t\n\r\x0b\x0c"
    if not key:
        raise ValueError("the pepper is missing or empty")
    if any(b < 0x20 or b > 0x7E for b in key):
        raise ValueError("the pepper must be printable ASCII text")
    if len(key) < MIN_PEPPER_BYTES:
        raise ValueError("the pepper is shorter than 32 bytes")
    return key


def lp(part: bytes) -> bytes:
    """The part's length in bytes as 4 bytes, big-endian, then the part."""
    return len(part).to_bytes(4, "big") + part


def number_text(x: float) -> str:
    """ECMAScript Number::toString(x) for a finite double: what JavaScript's String(x) and JSON write."""
    if not math.isfinite(x):
        raise ValueError("a number must be finite")
    if x == 0:
        return "0"  # -0 as well
    if x < 0:
        return "-" + number_text(-x)
    # repr() gives the shortest digits that read back as x (the nearest such, like JavaScript).
    # Write x = 0.s * 10^n with s the k digits, no trailing zero.
    _, digits, exponent = decimal.Decimal(repr(x)).normalize().as_tuple()
    s = "".join(map(str, digits))
    k, n = len(s), exponent + len(s)
    if k <= n <= 21:
        return s + "0" * (n - k)  # 123, 1e+21 is the first that is not
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]  # 1.5
    if -6 < n <= 0:
        return "0." + "0" * -n + s  # 0.000001, 1e-7 is the first that is not
    e = n - 1
    return (s if k == 1 else s[0] + "." + s[1:]) + "e" + ("+" if e > 0 else "-") + str(abs(e))


def read_number(literal: str) -> float:
    """A decimal literal (JSON syntax) read as the nearest double, as JavaScript's Number() reads it."""
    if not NUMBER_LITERAL.fullmatch(literal):
        raise ValueError(f"not a decimal number: {literal!r}")
    x = float(literal)
    if not math.isfinite(x):
        raise ValueError(f"out of the double range: {literal!r}")
    return x


def value_bytes(value) -> bytes:
    """One type byte (s, n, b), then the value's text in UTF-8."""
    if isinstance(value, bool):
        return b"b" + (b"true" if value else b"false")
    if isinstance(value, str):
        return b"s" + value.encode("utf-8")  # a lone surrogate raises: such strings are refused
    if isinstance(value, (int, float)):
        return b"n" + number_text(float(value)).encode("ascii")  # an int is rounded to a double first
    raise TypeError("a value is a string, a number or a boolean")


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def field_key(pepper: bytes, kind: str, scope: str, field: str, salt: bytes) -> bytes:
    parts = [b"ps1", kind.encode(), scope.encode("utf-8"), field.encode("utf-8"), salt]
    return hmac_sha256(pepper, b"".join(lp(p) for p in parts))


def subject_key(key: bytes, shred: bytes) -> bytes:
    return hmac_sha256(key, lp(b"ps1-subject") + lp(shred))


def scope_key(pepper: bytes, scope_id: str, scope_version: int, secret: bytes) -> bytes:
    """One scope version's key: its id and version as text, then its 32-byte secret."""
    if not SCOPE_ID.fullmatch(scope_id):
        raise ValueError("a scope id is 1 to 40 characters of [a-z0-9_-]")
    parts = [b"ps1-scope", scope_id.encode("ascii"), str(int(scope_version)).encode("ascii"), secret]
    return hmac_sha256(pepper, b"".join(lp(p) for p in parts))


def scoped_key(key: bytes, scope_key_bytes: bytes) -> bytes:
    return hmac_sha256(key, lp(b"ps1-scoped") + lp(scope_key_bytes))


def pseudonym(pepper, kind, scope, field, salt, salt_version, pepper_version, value, shred=None, scoped=None) -> str:
    """scoped: None, or (scope_id, scope_version, scope_secret) for a scoped pseudonym."""
    if kind not in ("u", "g") or (kind == "u" and (scope or shred is not None)):
        raise ValueError("kind u (scope empty, no shred) or g (scope = event type)")
    key = field_key(pepper, kind, scope, field, salt)
    if shred is not None:
        key = subject_key(key, shred)
    head = f"ps1.{kind}"
    if scoped is not None:
        scope_id, scope_version, secret = scoped
        key = scoped_key(key, scope_key(pepper, scope_id, scope_version, secret))
        head = f"ps1.s{kind}.{scope_id}.{int(scope_version)}"
    tag = base64.urlsafe_b64encode(hmac_sha256(key, value_bytes(value))).decode().rstrip("=")
    return f"{head}.{int(salt_version)}.{int(pepper_version)}.{tag}"


def verify(text, pepper, kind, scope, field, salt, value, shred=None, scoped=None) -> bool:
    """Recomputes under the versions the pseudonym names; only the canonical spelling matches.

    scoped: None (the pseudonym must be unscoped) or (scope_id, scope_secret) of the version it names.
    """
    if scoped is None:
        m = PSEUDONYM.fullmatch(text)
        if not m or m.group(1) != kind:
            return False
        expected = pseudonym(pepper, kind, scope, field, salt, m.group(2), m.group(3), value, shred)
    else:
        m = SCOPED.fullmatch(text)
        if not m or m.group(1) != kind or m.group(2) != scoped[0]:
            return False
        expected = pseudonym(
            pepper, kind, scope, field, salt, m.group(4), m.group(5), value, shred,
            (scoped[0], int(m.group(3)), scoped[1]),
        )
    return hmac.compare_digest(expected.encode(), text.encode())


def case_value(v: dict):
    """A value as the vectors file writes it: numbers as decimal literals (read as doubles)."""
    kind = v["type"]
    if kind == "number":
        return read_number(v["value"])
    if kind in ("string", "boolean") and isinstance(v["value"], str if kind == "string" else bool):
        return v["value"]
    raise ValueError(f"unknown value {v!r}")


def run_case(case: dict, pepper_payload: bytes) -> str:
    shred = bytes.fromhex(case["shred"]) if case.get("shred") else None
    s = case.get("scoped")
    scoped = (s["scope_id"], s["scope_version"], bytes.fromhex(s["secret"])) if s else None
    return pseudonym(
        pepper_bytes(pepper_payload), case["kind"], case["scope"], case["field"], bytes.fromhex(case["salt"]),
        case["salt_version"], case["pepper_version"], case_value(case["value"]), shred, scoped,
    )


def check_vectors(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    failed = []
    for s in doc["pepper_spellings"]:
        try:
            got = pepper_bytes(bytes.fromhex(s["payload_hex"])).hex()
        except ValueError:
            got = None
        if got != s["bytes_hex"]:
            failed.append(f"pepper spelling {s['name']}")
    payload = bytes.fromhex(doc["pepper"]["payload_hex"])
    for v in doc["vectors"]:
        known = ("user", "global", "global-subject")
        if v["construction"] not in known + tuple("scoped-" + c for c in known):
            failed.append(f"{v['name']}: construction {v['construction']!r} is not in this reference")
        elif v["construction"].startswith("scoped-") != ("scoped" in v):
            failed.append(f"{v['name']}: a scoped construction needs its scope, and only it has one")
        elif run_case(v, payload) != v["pseudonym"]:
            failed.append(v["name"])
    summary = {"vectors": len(doc["vectors"]), "spellings": len(doc["pepper_spellings"]), "failed": failed}
    print(json.dumps(summary))
    return 1 if failed else 0


def main() -> int:
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("--vectors")
    a.add_argument("--cases", action="store_true")
    a.add_argument("--number-text", action="store_true")
    a.add_argument("--pepper-file")
    a.add_argument("--salt")
    a.add_argument("--shred")
    a.add_argument("--kind", choices=["u", "g"])
    a.add_argument("--scope", default="")
    a.add_argument("--field")
    a.add_argument("--salt-version", type=int)
    a.add_argument("--pepper-version", type=int)
    a.add_argument("--string")
    a.add_argument("--number")
    a.add_argument("--boolean", choices=["true", "false"])
    a.add_argument("--scope-id")
    a.add_argument("--scope-version", type=int)
    a.add_argument("--scope-secret")
    a.add_argument("--verify")
    o = a.parse_args()
    if o.vectors:
        return check_vectors(o.vectors)
    if o.number_text:
        for line in sys.stdin:
            print(number_text(read_number(line.strip())))
        return 0
    if o.cases:
        for line in sys.stdin:
            case = json.loads(line)
            print(run_case(case, case["pepper"].encode("utf-8")))
        return 0
    given = [v for v in (o.string, o.number, o.boolean) if v is not None]
    if len(given) != 1 or not (o.pepper_file and o.salt and o.kind and o.field is not None):
        a.error("give --pepper-file, --salt, --kind, --field and one of --string, --number, --boolean")
    if o.string is not None:
        value = o.string
    elif o.number is not None:
        value = read_number(o.number)
    else:
        value = o.boolean == "true"
    if o.pepper_file == "-":
        payload = sys.stdin.buffer.read()
    else:
        with open(o.pepper_file, "rb") as f:
            payload = f.read()
    pepper, salt = pepper_bytes(payload), bytes.fromhex(o.salt)
    shred = bytes.fromhex(o.shred) if o.shred else None
    if (o.scope_id is None) != (o.scope_secret is None):
        a.error("a scoped pseudonym needs --scope-id and --scope-secret (and --scope-version to make one)")
    secret = bytes.fromhex(o.scope_secret) if o.scope_secret else None
    if o.verify is not None:
        ok = verify(o.verify, pepper, o.kind, o.scope, o.field, salt, value, shred,
                    (o.scope_id, secret) if o.scope_id else None)
        print("true" if ok else "false")
        return 0 if ok else 1
    if o.salt_version is None or o.pepper_version is None or (o.scope_id and o.scope_version is None):
        a.error("give --salt-version and --pepper-version (and --scope-version for a scoped pseudonym)")
    scoped = (o.scope_id, o.scope_version, secret) if o.scope_id else None
    print(pseudonym(pepper, o.kind, o.scope, o.field, salt, o.salt_version, o.pepper_version, value, shred, scoped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
