"""Which endpoint failures are worth another try, and how long to wait before it.

Transient: timeouts, dropped or refused connections, 408, 409, 429 and 5xx answers, and a 200 whose body is
malformed JSON or has no choices. Permanent: any other 4xx (bad key, unknown model, bad request), so a
misconfigured endpoint fails at once instead of after every retry. The wait doubles from `base` with jitter,
is at least the server's Retry-After, and never exceeds `cap`.
"""

from __future__ import annotations

import email.utils
import random
import time

TRANSIENT_STATUS = (408, 409, 429)  # and every 5xx


class MalformedResponse(Exception):
    """A 200 whose body is not a usable chat completion (no choices, no message)."""


def is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS or exc.status_code >= 500
    return isinstance(exc, (MalformedResponse, openai.APIResponseValidationError))


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (Retry-After-Ms, or Retry-After in seconds or as an HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name)) / scale)
        except (TypeError, ValueError):
            pass
    parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return max(0.0, email.utils.mktime_tz(parsed) - time.time()) if parsed else None


def backoff_s(retry: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `retry` (0 for the first): base * 2**retry, less up to half of it
    at random so that parallel requests do not retry in step, at least `retry_after`, at most `cap`."""
    delay = min(cap, base * 2.0 ** retry) * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)
