"""One HTTP session for the GitHub and GitLab APIs: bounded retries, rate limits, no leaks.

Idempotent requests (GET, PATCH, PUT, DELETE) are retried on timeouts, dropped connections
and 5xx with exponential backoff. A POST is retried only when the server certainly did not
act on it (a rate-limit answer, a refused connection); otherwise :class:`UnknownOutcome`
tells the caller to look before it posts again. Rate limits (429, or 403 with
``retry-after``, or ``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``) are waited out
when the wait is within ``max_wait``. The token never appears in an error message.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from mlci import __version__
from mlci.context import Token
from mlci.errors import EnvironmentFailure

if TYPE_CHECKING:
    import requests

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
REDACTED = "***"


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret (and its common encodings) replaced by ``***``."""
    from urllib.parse import quote

    for secret in secrets:
        if len(secret) >= 4:  # masking a 1-3 character "token" would mangle every message
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, REDACTED)
    return text


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``retries`` extra attempts, waits ``backoff * 2**n`` capped at
    ``max_wait`` seconds; a rate limit asking for longer than ``max_wait`` is not waited."""

    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_wait, self.backoff * (2 ** attempt)))


class ApiError(EnvironmentFailure):
    """The API answered with an error that retrying does not fix."""

    def __init__(self, message: str, status: int, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body

    @property
    def api_message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""

    def mentions(self, *words: str) -> bool:
        """Whether the API's message or its ``errors`` list mentions all of ``words``."""
        texts = [self.api_message]
        if isinstance(self.body, dict) and isinstance(self.body.get("errors"), list):
            for item in self.body["errors"]:
                texts.append(str(item.get("message", "")) if isinstance(item, dict)
                             else str(item))
        return any(all(w.lower() in t.lower() for w in words) for t in texts)


class UnknownOutcome(EnvironmentFailure):
    """A non-idempotent request may or may not have taken effect (timeout, 5xx)."""


class RateLimited(EnvironmentFailure):
    """The API asked mlci to wait longer than it is willing to."""


Sleep = Callable[[float], None]


class ApiClient:
    """A ``requests.Session`` bound to one API base URL and token."""

    def __init__(self, base_url: str, token: Token | None, *,
                 auth: Literal["github", "gitlab"] = "github",
                 policy: RetryPolicy | None = None, sleep: Sleep = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.token = token
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"mlci/{__version__}"
        if auth == "github":
            self.session.headers["Accept"] = "application/vnd.github+json"
            self.session.headers["X-GitHub-Api-Version"] = "2022-11-28"
        if token is not None:
            if auth == "github":
                self.session.headers["Authorization"] = f"Bearer {token.value}"
            else:
                self.session.headers["PRIVATE-TOKEN"] = token.value
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        return redact(text, (self.token.value,) if self.token else ())

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            # The token goes only to the configured API host, never to a URL a response named.
            if (parts.scheme, parts.netloc) != self._origin:
                raise EnvironmentFailure(self.redact(
                    f"the API pointed at {parts.scheme}://{parts.netloc}, which is not the "
                    f"configured API host {self.base_url}; refusing to send the token there"))
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds the API asks to wait, or None when this is not a rate-limit answer."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
            try:  # the other form: an HTTP date
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                return self.policy.delay(0)
            return max(0.0, when.timestamp() - self.clock())
        # GitHub says x-ratelimit-*, GitLab RateLimit-*; the reset is in epoch seconds.
        for prefix in ("x-ratelimit-", "ratelimit-"):
            if headers.get(prefix + "remaining") == "0":
                try:
                    return max(0.0, float(headers.get(prefix + "reset", "")) - self.clock())
                except ValueError:
                    return self.policy.delay(0)
        return None  # not a rate limit (a 429 without a hint gets plain backoff)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> requests.Response:
        """Send one request with retries; return the final response (which may be a 4xx).

        Raises :class:`UnknownOutcome` when a POST might have taken effect, :class:`RateLimited`
        when the API wants a longer wait than ``max_wait``, and :class:`EnvironmentFailure`
        when retries ran out.
        """
        import requests

        method = method.upper()
        url = self.url(path)
        idempotent = method in IDEMPOTENT
        where = f"{method} {urlsplit(url).path}"
        problem = "no attempt made"
        policy = self.policy
        for attempt in range(policy.retries + 1):
            last = attempt == policy.retries
            try:
                response = self.session.request(
                    method, url, params=params, json=json,
                    timeout=(policy.connect_timeout, policy.read_timeout))
            except requests.ConnectTimeout as exc:
                problem = f"connection timed out ({type(exc).__name__})"
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                if not idempotent:
                    raise UnknownOutcome(self.redact(
                        f"{where}: no answer ({problem}); it may or may not have taken "
                        "effect")) from None
            else:
                wait = self._rate_limit_wait(response)
                status = response.status_code
                if wait is not None:
                    problem = f"rate limited (HTTP {status}, asked to wait {wait:.0f} s)"
                    if wait > policy.max_wait:
                        raise RateLimited(self.redact(
                            f"{where}: {problem}, longer than the {policy.max_wait:.0f} s "
                            "mlci waits; try again later"))
                    if not last:
                        self.sleep(wait)
                    continue
                if status >= 500 or status == 429:
                    problem = f"HTTP {status} {response.reason or ''}".rstrip()
                    if not idempotent and status != 429:
                        raise UnknownOutcome(self.redact(
                            f"{where}: {problem}; it may or may not have taken effect"))
                else:
                    return response
            if not last:
                self.sleep(policy.delay(attempt))
        raise EnvironmentFailure(self.redact(
            f"{where}: {problem}; gave up after {policy.retries + 1} attempts"))

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             json: Any = None) -> Any:
        """:meth:`request`, then raise :class:`ApiError` for a 4xx; return the JSON body."""
        response = self.request(method, path, params=params, json=json)
        check(response, self)
        if not response.content:
            return None
        return response.json()

    def paginate(self, path: str, params: Mapping[str, Any] | None = None,
                 max_pages: int = 1000) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: <...>; rel="next"``."""
        url: str | None = path
        query: Mapping[str, Any] | None = {**(params or {}), "per_page": 100}
        pages = 0
        while url is not None and pages < max_pages:
            response = self.request("GET", url, params=query)
            check(response, self)
            items = response.json()
            if not isinstance(items, list):
                raise EnvironmentFailure(f"GET {urlsplit(self.url(url)).path}: expected a "
                                         f"JSON list, got {type(items).__name__}")
            yield from items
            pages += 1
            next_link = response.links.get("next", {}).get("url")
            url = next_link or None
            query = None  # the next link carries the query


def check(response: requests.Response, client: ApiClient) -> None:
    """Raise :class:`ApiError` (message redacted) when ``response`` is an error."""
    if response.status_code < 400:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    if message is None and isinstance(body, dict):
        message = body.get("error")
    detail = f": {message}" if message else ""
    path = urlsplit(response.url).path if response.url else "?"
    text = f"{response.request.method} {path}: HTTP {response.status_code}{detail}"
    if response.status_code == 401:
        text += " (the token was rejected: check --token, MLCI_TOKEN or GITHUB_TOKEN)"
    raise ApiError(client.redact(text), response.status_code, body)
