"""Credentials out of everything the harness keeps or shows: the password in a URL's user:password@ and the values
of secret-looking query parameters are masked before a value reaches the database, a log line or the report.

    public_url("postgresql://me:pw@db/optuna?password=x")   ->  "postgresql://me:***@db/optuna?password=***"
"""

from __future__ import annotations

import re
from typing import Any

# scheme://userinfo@ up to the last @ before the path: a password may itself hold an unescaped @
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s?#]*)@")
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?:[A-Za-z0-9_\-]*(?:key|token|secret|password|passwd|pwd|signature|sig|auth)[A-Za-z0-9_\-]*)=)"
    r"[^&;#\s\"']+", re.IGNORECASE)
MASK = "***"


def _userinfo(match: re.Match) -> str:
    user, has_password, _ = match.group("userinfo").partition(":")
    if has_password:
        return f"{match.group('scheme')}{user}:{MASK}@"
    # a lone user part is a name (postgres://harness@db), unless it is a token (https://ghp_x@github.com)
    return f"{match.group('scheme')}{MASK if looks_like_a_secret(user) else user}@"


def public_url(text: str) -> str:
    """The text with every URL's password, and the values of its key/token/password/... parameters, masked."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(_userinfo, text)
    return _SECRET_PARAM.sub(lambda m: m.group("key") + MASK, text)


def redacted(value: Any) -> Any:
    """public_url applied to every string inside a JSON-like value (dicts, lists, tuples)."""
    if isinstance(value, str):
        return public_url(value)
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redacted(v) for v in value)
    return value


def looks_like_a_secret(value: str) -> bool:
    """A value that is probably a pasted API key rather than the name of the variable that holds one."""
    return bool(re.match(r"^(sk-|sk_|pk-|hf_|ghp_|gsk_|xai-|AIza)", value)) or (
        len(value) >= 20 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        and not re.fullmatch(r"[A-Z][A-Z0-9_]*", value))
