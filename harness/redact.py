"""Credentials out of everything the harness keeps or shows: the password in a URL's user:password@, the values
of a URL's query and fragment parameters (any name but a few settings that are never secret: a credential may hide
under `code`, `sig` or a name nobody guessed), and secret-looking `key=value` pairs outside URLs are masked before a
value reaches the database, a log line, an error or the report. `Scrubber` also masks what an endpoint echoes back
of the credentials it was sent, including the base64 `Authorization: Basic` form of a URL's user:password.

    public_url("postgresql://me:pw@db/optuna?sslmode=require&code=x#token=y")
        ->  "postgresql://me:***@db/optuna?sslmode=require&code=***#token=***"
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote, urlsplit

# scheme://userinfo@ up to the last @ before the path: a password may itself hold an unescaped @
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s?#]*)@")
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?:[A-Za-z0-9_\-]*(?:key|token|secret|password|passwd|pwd|signature|sig|auth)[A-Za-z0-9_\-]*)=)"
    r"[^&;#\s\"']+", re.IGNORECASE)
MASK = "***"
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]*")
_PARAM = re.compile(r"(?P<key>[^&;=#?]*)(?P<eq>=?)(?P<value>[^&;#]*)")
# query settings that are never a credential, kept for whoever reads the URL
PLAIN_PARAMS = frozenset({"sslmode", "api-version", "api_version", "charset", "encoding", "connect_timeout",
                          "timeout", "application_name", "format"})


def _userinfo(match: re.Match) -> str:
    user, has_password, _ = match.group("userinfo").partition(":")
    if has_password:
        return f"{match.group('scheme')}{user}:{MASK}@"
    # a lone user part is a name (postgres://harness@db), unless it is a token (https://ghp_x@github.com)
    return f"{match.group('scheme')}{MASK if looks_like_a_secret(user) else user}@"


def _params(text: str) -> str:
    """`a=1&code=x` -> `a=1&code=***` (a parameter without `=` is masked whole; PLAIN_PARAMS keep their value)."""
    def one(m: re.Match) -> str:
        key, eq, value = m.group("key"), m.group("eq"), m.group("value")
        if not key and not value:
            return m.group(0)
        if not eq:
            return MASK
        return f"{key}={value if key.lower() in PLAIN_PARAMS or not value else MASK}"
    return _PARAM.sub(one, text)


def _url_parts(match: re.Match) -> str:
    url = match.group(0)
    url, hash_, fragment = url.partition("#")
    url, question, query = url.partition("?")
    return url + question + _params(query) + hash_ + (_params(fragment) if fragment else "")


def public_url(text: str) -> str:
    """The text with every URL's password and query and fragment values masked, and secret-looking `key=value`
    pairs (password=, token=, ...) outside URLs too."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(_userinfo, text)
    text = _URL.sub(_url_parts, text) if "://" in text else text
    return _SECRET_PARAM.sub(lambda m: m.group("key") + MASK, text)


def public_broken_url(text: str) -> str:
    """public_url for a value that was meant as a URL but is not one (`http:/user:pw@host`, `htps//...`): whatever
    precedes an @ is masked, and so are the values after a ? or #."""
    quote = text[0] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else ""
    text = text[1:-1] if quote else text
    text = re.sub(r"^([A-Za-z][\w+.\-]*:/*)?[^/]*@", lambda m: (m.group(1) or "") + MASK + "@", text)
    head, hash_, fragment = text.partition("#")
    head, question, query = head.partition("?")
    return quote + public_url(head + question + _params(query) + hash_ + (_params(fragment) if fragment else "")) + quote


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


class Scrubber:
    """Masks the credentials one endpoint was given wherever they come back (an error quoting the request's
    headers): the API key, and a URL's password, raw, percent-decoded and as the base64 of `user:password` that
    `Authorization: Basic` carries. What is left goes through public_url."""

    def __init__(self, base_url: str, api_key: str | None = None):
        secrets = [api_key] if api_key else []
        parts = urlsplit(base_url)
        user, password = parts.username, parts.password
        if password or (user and looks_like_a_secret(unquote(user))):
            for text in {f"{user}:{password or ''}", f"{unquote(user or '')}:{unquote(password or '')}"}:
                secrets.append(base64.b64encode(text.encode()).decode())
            secrets += [password, unquote(password)] if password else [user or "", unquote(user or "")]
        # the longest first, and nothing so short that masking it would mangle ordinary text
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return public_url(text)
