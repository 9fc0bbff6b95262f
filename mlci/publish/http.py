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
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from mlci import __version__
from mlci.context import Token
from mlci.errors import EnvironmentFailure, UsageError
from mlci.secrets import redact

if TYPE_CHECKING:
    import requests

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_BODY = 64 * 1024 * 1024  # no answer of the APIs mlci uses comes near this
MAX_PAGES = 100  # 10,000 comments at 100 a page
DEADLINE_VAR = "MLCI_HTTP_DEADLINE"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``retries`` extra attempts, waits ``backoff * 2**n`` capped at
    ``max_wait`` seconds; a rate limit asking for longer than ``max_wait`` is not waited.

    ``deadline`` bounds one request as a whole (every attempt, redirect, body and wait);
    ``body_deadline`` bounds one attempt from sending to the last byte of the answer, so a
    server that trickles a byte every few seconds cannot hold a request for minutes.
    """

    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 120.0
    body_deadline: float = 60.0  # half the deadline: a retry after a trickle still fits
    max_body: int = MAX_BODY
    max_redirects: int = 5

    def delay(self, attempt: int) -> float:
        return float(min(self.max_wait, self.backoff * (2 ** attempt)))


def policy_from_environ(environ: Mapping[str, str],
                        base: RetryPolicy | None = None) -> RetryPolicy:
    """``base`` with the request deadline ``MLCI_HTTP_DEADLINE`` (seconds) applied, if set."""
    policy = base or RetryPolicy()
    raw = environ.get(DEADLINE_VAR, "").strip()
    if not raw:
        return policy
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise UsageError(f"{DEADLINE_VAR}={raw[:20]!r}: expected seconds between 0 and 3600")
    # Half the deadline per attempt at most, so a retry after a trickled answer still fits.
    return replace(policy, deadline=seconds,
                   body_deadline=min(policy.body_deadline, seconds / 2),
                   connect_timeout=min(policy.connect_timeout, seconds),
                   read_timeout=min(policy.read_timeout, seconds),
                   max_wait=min(policy.max_wait, seconds))


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, the default port spelled out, for comparing."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def describe_body(response: requests.Response) -> str:
    """A few words on what a body is (``HTML (text/html)``), never the body itself."""
    kind = (response.headers.get("content-type") or "no content type").split(";")[0].strip()
    content = response.content or b""
    head = content[:256].lstrip().lower()
    if not content:
        what = "an empty body"
    elif head.startswith((b"<!doctype html", b"<html")) or "html" in kind:
        what = "HTML"
    else:
        try:
            value = json.loads(content)
        except ValueError:
            what = "a body that is not JSON"
        else:
            what = {dict: "a JSON object", list: "a JSON list", str: "a JSON string",
                    bool: "a JSON boolean", type(None): "JSON null"}.get(
                        type(value), "a JSON number")
    return f"{what} ({kind[:60]})"


class _TooSlow(Exception):
    """The answer did not arrive in full before the deadline."""


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


@dataclass
class Listing:
    """Every item a list endpoint gave, and whether that is all of them (``problem`` says
    why not: a next-page link that loops, or the page cap)."""

    items: list[Any]
    problem: str | None = None

    @property
    def complete(self) -> bool:
        return self.problem is None


Expect = Literal["object", "list", "nothing"]


class ApiClient:
    """A ``requests.Session`` bound to one API origin and token.

    Redirects are followed by hand and only within the configured origin: requests itself
    strips ``Authorization`` on a cross-host redirect but forwards ``PRIVATE-TOKEN``, and an
    answer from another origin is not the API's answer anyway.
    """

    def __init__(self, base_url: str, token: Token | None, *,
                 auth: Literal["github", "gitlab"] = "github",
                 policy: RetryPolicy | None = None, sleep: Sleep = time.sleep,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.token = token
        self.name = "GitHub API" if auth == "github" else "GitLab API"
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.monotonic = monotonic
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
        self.origin = origin_of(self.base_url)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        return redact(text, (self.token.value,) if self.token else ())

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            # The token goes only to the configured API host, never to a URL a response named.
            if origin_of(path) != self.origin:
                parts = urlsplit(path)
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

    def _read_body(self, response: requests.Response, deadline_at: float, where: str) -> None:
        """Read the streamed body into ``response`` or raise :class:`_TooSlow` at the
        deadline; each read returns what has arrived, so a trickle cannot outlast it."""
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read
        chunks: list[bytes] = []
        size = 0
        while True:
            if self.monotonic() > deadline_at:
                raise _TooSlow
            chunk = _read_chunk(read)
            if not chunk:
                break
            size += len(chunk)
            if size > self.policy.max_body:
                raise EnvironmentFailure(self.redact(
                    f"{self.name}: {where}: the answer is larger than "
                    f"{self.policy.max_body // (1024 * 1024)} MiB; refusing to read it"))
            chunks.append(chunk)
        response._content = b"".join(chunks)
        release = getattr(raw, "release_conn", None)
        if release is not None:  # read in full: the connection can serve the next request
            release()

    def _redirect_target(self, response: requests.Response, where: str) -> str:
        """Where a redirect points, if that is within the configured origin."""
        target = urljoin(response.url, response.headers["location"])
        if origin_of(target) != self.origin:
            raise EnvironmentFailure(self.redact(
                f"{self.name}: {where} was redirected (HTTP {response.status_code}) from "
                f"{self.origin} to {origin_of(target)}, another origin; refusing to follow, "
                "so the token is never sent there (is the API URL right?)"))
        return target

    def _attempt(self, method: str, url: str, params: Mapping[str, Any] | None, json: Any,
                 deadline_at: float, where: str) -> requests.Response:
        """One attempt: send, follow same-origin redirects, read the body by the deadline."""
        policy = self.policy
        for _ in range(policy.max_redirects + 1):
            started = self.monotonic()
            budget = max(0.001, min(policy.body_deadline, deadline_at - started))
            response = self.session.request(
                method, url, params=params, json=json, stream=True, allow_redirects=False,
                timeout=(min(policy.connect_timeout, budget), min(policy.read_timeout, budget)))
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    url = self._redirect_target(response, where)
                    params = None  # the Location carries the query
                    if response.status_code == 303:
                        method, json = "GET", None
                    continue
                self._read_body(response, started + budget, where)
                return response
            finally:
                if getattr(response, "_content", False) is False:  # unread: drop it
                    response.close()
        raise EnvironmentFailure(self.redact(
            f"{self.name}: {where}: more than {policy.max_redirects} redirects"))

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> requests.Response:
        """Send one request with retries; return the final response (which may be a 4xx).

        Raises :class:`UnknownOutcome` when a POST might have taken effect, :class:`RateLimited`
        when the API wants a longer wait than ``max_wait``, and :class:`EnvironmentFailure`
        when retries ran out, the deadline passed or a redirect led to another origin.
        """
        import requests

        method = method.upper()
        url = self.url(path)
        idempotent = method in IDEMPOTENT
        where = describe_request(method, url, params)
        problem = "no attempt made"
        policy = self.policy
        deadline_at = self.monotonic() + policy.deadline
        attempts = 0
        for attempt in range(policy.retries + 1):
            last = attempt == policy.retries
            if self.monotonic() >= deadline_at:
                problem = f"no complete answer within {policy.deadline:g} s"
                break
            attempts += 1
            try:
                response = self._attempt(method, url, params, json, deadline_at, where)
            except requests.ConnectTimeout as exc:
                problem = f"connection timed out ({type(exc).__name__})"
            except (requests.Timeout, requests.ConnectionError, _TooSlow) as exc:
                problem = (f"the answer did not arrive in full within "
                           f"{min(policy.body_deadline, policy.deadline):g} s"
                           if isinstance(exc, _TooSlow) else f"{type(exc).__name__}: {exc}")
                if not idempotent:
                    raise UnknownOutcome(self.redact(
                        f"{where}: no answer ({problem}); it may or may not have taken "
                        "effect")) from None
            except requests.RequestException as exc:  # e.g. a malformed Location header
                raise EnvironmentFailure(self.redact(
                    f"{self.name}: {where}: {type(exc).__name__}: {exc}")) from None
            else:
                wait = self._rate_limit_wait(response)
                status = response.status_code
                if wait is not None:
                    problem = f"rate limited (HTTP {status}, asked to wait {wait:.0f} s)"
                    if wait > policy.max_wait or self.monotonic() + wait > deadline_at:
                        raise RateLimited(self.redact(
                            f"{where}: {problem}, longer than mlci waits "
                            f"({min(policy.max_wait, policy.deadline):.0f} s); try again "
                            "later"))
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
                self.sleep(min(policy.delay(attempt),
                               max(0.0, deadline_at - self.monotonic())))
        raise EnvironmentFailure(self.redact(
            f"{where}: {problem}; gave up after {attempts} attempt"
            f"{'s' if attempts != 1 else ''} (at most {policy.deadline:g} s per request)"))

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             json: Any = None, expect: Expect = "object") -> Any:
        """:meth:`request`, then raise :class:`ApiError` for a 4xx; return the JSON body,
        which must be what ``expect`` says (``nothing`` accepts any body and returns None)."""
        response = self.request(method, path, params=params, json=json)
        check(response, self)
        if expect == "nothing":
            return None
        return self.parse(response, expect)

    def parse(self, response: requests.Response, expect: Literal["object", "list"]) -> Any:
        """The JSON body of ``response``, or an :class:`EnvironmentFailure` that says what
        came instead (an HTML page from a proxy, a list where an object belongs...)."""
        wanted = dict if expect == "object" else list
        try:
            value = json.loads(response.content or b"")
        except ValueError:
            value = None
        if isinstance(value, wanted):
            return value
        where = describe_request(response.request.method or "?", response.url, None)
        raise EnvironmentFailure(self.redact(
            f"{self.name}: expected a JSON {expect} from {where}, got "
            f"{describe_body(response)}"))

    def list_all(self, path: str, params: Mapping[str, Any] | None = None,
                 max_pages: int = MAX_PAGES) -> Listing:
        """Every item of a list endpoint, following ``Link: <...>; rel="next"``; stops at a
        link that loops back or after ``max_pages``, and says so in the listing."""
        url = self.url(path)
        query: Mapping[str, Any] | None = {**(params or {}), "per_page": 100}
        seen: set[str] = set()
        items: list[Any] = []
        for _ in range(max_pages):
            seen.add(_page_key(url, query))
            response = self.request("GET", url, params=query)
            check(response, self)
            items.extend(self.parse(response, "list"))
            next_link = response.links.get("next", {}).get("url")
            if not next_link:
                return Listing(items)
            url, query = self.url(urljoin(response.url, next_link)), None
            if _page_key(url, None) in seen:
                return Listing(items, f"{self.name}: the next-page link of "
                                      f"{describe_request('GET', url, None)} points back at a "
                                      f"page already read; stopped after {len(seen)} pages")
        return Listing(items, f"{self.name}: stopped after {max_pages} pages of "
                              f"{urlsplit(self.url(path)).path}; more remain")

    def paginate(self, path: str, params: Mapping[str, Any] | None = None,
                 max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """The items of :meth:`list_all` (a partial listing is not flagged here)."""
        yield from self.list_all(path, params, max_pages).items


def _read_chunk(read: Callable[[int], bytes]) -> bytes:
    """One read of a streamed body, its failures as the requests exceptions ``request``
    already handles (urllib3 raises its own while the body streams)."""
    import requests
    from urllib3.exceptions import HTTPError, ReadTimeoutError

    try:
        return read(65536)
    except ReadTimeoutError as exc:
        raise requests.ReadTimeout(str(exc)) from None
    except (HTTPError, OSError) as exc:
        raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None


def describe_request(method: str, url: str, params: Mapping[str, Any] | None) -> str:
    """``GET /path?query`` for messages (the origin is known; the token is never in it)."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
    return f"{method} {parts.path}" + (f"?{query}" if query else "")


def _page_key(url: str, params: Mapping[str, Any] | None) -> str:
    """One spelling per page URL, so a link back to a page is recognised."""
    parts = urlsplit(url)
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True)
                   + [(str(k), str(v)) for k, v in (params or {}).items()])
    return f"{origin_of(url)}{parts.path}?{urlencode(pairs)}"


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
        text += (" (the token was rejected: check --token, "
                 + ("MLCI_TOKEN or GITHUB_TOKEN)" if client.name.startswith("GitHub")
                    else "MLCI_GITLAB_TOKEN or GITLAB_TOKEN)"))
    raise ApiError(client.redact(text), response.status_code, body)
