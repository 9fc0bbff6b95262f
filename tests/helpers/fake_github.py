"""A local stand-in for the GitHub REST API (and GitLab's notes API) on 127.0.0.1.

It serves the endpoints mlci uses, following GitHub's own OpenAPI description in
``tests/reference/github-api/rest-subset.json``: every request body mlci sends is
validated against the operation's request schema (and every response this server sends
against the response schema), responses are built from the description's examples, lists
paginate with ``per_page``/``page`` and a ``Link`` header. Faults are scripted per operation:
rate limits (429 with ``retry-after``, 403 with ``x-ratelimit-remaining: 0``), 502s, a create
that lands but answers too late, 403 for read-only tokens, 422 for a body over the limit,
redirects (to a second local server: another origin), answers trickled a byte at a time, HTML
or a list on a 200, a next-page link that names its own page. Every request records the
credential header it carried, so a second server can prove it never saw a token.

Anything that breaks the description is recorded in ``violations`` (tests assert it stays
empty) and answered with 422, as GitHub would.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from mlci.publish.http import RetryPolicy

DOCS = "https://docs.github.com/rest"
# Retries that keep the fault tests fast: tiny backoff, and a read timeout shorter than the
# fake server's "late" answers.
FAST = RetryPolicy(retries=3, backoff=0.01, max_wait=5.0, connect_timeout=2.0,
                   read_timeout=0.5)
REST_SUBSET = Path("github-api") / "rest-subset.json"
GITLAB_NOTE_BODY = {"type": "object", "properties": {"body": {"type": "string", "minLength": 1}},
                    "required": ["body"]}


@dataclass
class TokenInfo:
    """Who a token is: the ``login`` its comments, statuses and /user name (an installation
    token, ``can_ask_user=False``, gets 403 from /user), whether it may write, whether it may
    create check runs, and the slug of the GitHub App it acts for (``app``; by default the
    login without ``[bot]`` for a bot, None for a user's token, which GitHub refuses check
    runs: "You must authenticate via a GitHub App")."""

    login: str
    can_ask_user: bool = True
    read_only: bool = False
    checks: bool = True
    app: str | None = None

    def __post_init__(self) -> None:
        if self.app is None and self.login.endswith("[bot]"):
            self.app = self.login[:-len("[bot]")]


@dataclass
class Fault:
    """Make the next ``times`` calls of ``op`` (an operationId, or ``gitlab/...``) fail.

    kinds: ``429`` (with ``retry-after``), ``ratelimit`` (403, remaining 0, reset),
    ``502``, ``late`` (perform the operation, then answer after ``delay`` seconds),
    ``echo`` (a 400 whose message repeats the credentials the request carried),
    ``html`` (a 200 whose body is a proxy's HTML page), ``list`` (a 200 with a JSON list
    where an object belongs), ``trickle`` (a correct answer sent one byte every ``delay``
    seconds), ``redirect`` (a ``status`` redirect to the same path at ``location``, an
    origin, e.g. a second server's), ``loop`` (a list page whose ``next`` link names
    itself).
    """

    op: str
    kind: str
    times: int = 1
    retry_after: str = "1"
    delay: float = 1.0
    status: int = 307
    location: str = ""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    op: str
    status: int = 0
    target: str = ""  # the request line's path and query, as sent
    credentials: str | None = None  # whatever credential header the request carried


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` becomes JSON Schema's ``type: [..., "null"]``."""
    if isinstance(node, dict):
        out = {k: _nullable_to_json_schema(v) for k, v in node.items()}
        if out.pop("nullable", False):
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
            elif "type" not in out:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    return node


class Description:
    """The OpenAPI description: routes, request and response validators, examples."""

    def __init__(self, path: Path) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.doc = json.loads(path.read_text(encoding="utf-8"))
        converted = _nullable_to_json_schema(self.doc)
        registry: Registry[Any] = Registry().with_resource(
            "urn:rest", Resource.from_contents(converted, default_specification=DRAFT202012))
        self.routes: list[tuple[re.Pattern[str], str, str, dict[str, Any]]] = []
        self.request_validators: dict[str, Any] = {}
        self.response_validators: dict[tuple[str, int], Any] = {}
        params = self.doc["components"]["parameters"]
        for template, operations in self.doc["paths"].items():
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
            for method, operation in operations.items():
                op = operation["operationId"]
                resolved = [params[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                            for p in operation.get("parameters", [])]
                self.routes.append((re.compile(f"^{pattern}$"), method.upper(), op,
                                    {p["name"]: p for p in resolved}))
                body = operation.get("requestBody", {}).get("content", {}).get(
                    "application/json", {}).get("schema")
                if body is not None:
                    self.request_validators[op] = Draft202012Validator(
                        _nullable_to_json_schema(body), registry=registry)
                for code, response in operation.get("responses", {}).items():
                    schema = response.get("content", {}).get("application/json", {}).get(
                        "schema")
                    if schema is not None and code.isdigit():
                        self.response_validators[(op, int(code))] = Draft202012Validator(
                            _nullable_to_json_schema(
                                json.loads(json.dumps(schema).replace(
                                    '"#/components', '"urn:rest#/components'))),
                            registry=registry)

    def match(self, method: str, path: str) -> tuple[str, dict[str, str],
                                                      dict[str, Any]] | None:
        for pattern, verb, op, params in self.routes:
            found = pattern.match(path)
            if found and verb == method:
                return op, found.groupdict(), params
        return None

    def example(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = copy.deepcopy(self.doc["components"]["examples"][name]["value"])
        return value


@functools.lru_cache(maxsize=4)
def _description(path: Path) -> Description:
    return Description(path)


def _errors(validator: Any, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in validator.iter_errors(instance)]


class FakeApi:
    """The fake server; use as a context manager (it runs in a daemon thread)."""

    def __init__(self, reference: Path, *, github_prefix: str = "",
                 gitlab_prefix: str = "/api/v4") -> None:
        self.description = _description(reference / REST_SUBSET)
        self.github_prefix = github_prefix.rstrip("/")
        self.gitlab_prefix = gitlab_prefix.rstrip("/")
        self.tokens: dict[str, TokenInfo] = {}
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.notes: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.gitlab_users: dict[str, str] = {}  # token -> username
        self.gitlab_user_forbidden: set[str] = set()  # tokens whose GET /user is a 403
        self.deleted: list[int] = []  # ids of deleted comments and notes
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.body_limit = 65536
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # ends trickled answers when the server stops
        self._server: ThreadingHTTPServer | None = None

    # -- set-up helpers -------------------------------------------------------------------

    @property
    def origin(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def github_url(self) -> str:
        return self.origin + self.github_prefix

    @property
    def gitlab_url(self) -> str:
        return self.origin + self.gitlab_prefix

    def add_comment(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        with self._lock:
            return self._new_comment(repo, number, body, login)

    def add_pull(self, repo: str, number: int, head_sha: str, base_sha: str) -> None:
        pull = self.description.example("pull-request")
        pull["number"] = number
        pull["head"]["sha"] = head_sha
        pull["base"]["sha"] = base_sha
        pull["base"]["repo"]["full_name"] = repo
        for team in pull.get("requested_teams") or []:
            team.setdefault("type", "organization")  # the example predates this field
        self.pulls[(repo, number)] = pull

    def fail(self, op: str, kind: str, times: int = 1, **options: Any) -> None:
        self.faults.append(Fault(op, kind, times, **options))

    def calls(self, op: str) -> list[Recorded]:
        return [r for r in self.requests if r.op == op]

    # -- state ---------------------------------------------------------------------------

    def _new_comment(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        comment = self.description.example("issue-comment")
        comment_id = next(self._ids)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        comment.update(
            id=comment_id, body=body, created_at=stamp, updated_at=stamp,
            url=f"{self.github_url}/repos/{repo}/issues/comments/{comment_id}",
            html_url=f"{self.origin}/{repo}/pull/{number}#issuecomment-{comment_id}",
            issue_url=f"{self.github_url}/repos/{repo}/issues/{number}")
        comment["user"]["login"] = login
        comment["user"]["type"] = _user_type(login)
        self.comments.setdefault((repo, number), []).append(comment)
        return comment

    def _find_comment(self, repo: str, comment_id: int) -> dict[str, Any] | None:
        for (owner_repo, _), comments in self.comments.items():
            if owner_repo == repo:
                for comment in comments:
                    if comment["id"] == comment_id:
                        return comment
        return None

    # -- server --------------------------------------------------------------------------

    def __enter__(self) -> FakeApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _take_fault(self, op: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.op == op and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None


def _user_type(login: str) -> str:
    return "Bot" if login.endswith("[bot]") else "User"


def _app(slug: str) -> dict[str, Any]:
    """The ``app`` of a check run: the app whose installation token created it (GitHub's
    own ``github-actions`` for the workflow token)."""
    if slug == "github-actions":
        return {"id": 15368, "slug": slug, "node_id": "MDM6QXBwMTUzNjg=",
                "name": "GitHub Actions", "html_url": "https://github.com/apps/github-actions"}
    return {"id": 1000 + len(slug), "slug": slug, "name": slug.replace("-", " ").title(),
            "html_url": f"https://github.com/apps/{slug}"}


class Reply(Exception):
    """An HTTP answer raised from deep inside a handler."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 delay: float = 0.0, raw: bytes | None = None,
                 content_type: str = "application/json; charset=utf-8",
                 trickle: float = 0.0) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.delay = delay
        self.raw = raw  # sent as is instead of ``body`` as JSON
        self.content_type = content_type
        self.trickle = trickle  # seconds between the bytes of the body


def _error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"message": message, "documentation_url": DOCS, **extra})


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, reply: Reply) -> None:
        data = reply.raw if reply.raw is not None else (
            b"" if reply.body is None else json.dumps(reply.body).encode())
        try:
            self.send_response(reply.status)
            if data:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not reply.trickle:
                self.wfile.write(data)
                return
            for index in range(len(data)):  # a slow server: one byte at a time
                self.wfile.write(data[index:index + 1])
                self.wfile.flush()
                if self.api.stopping.wait(reply.trickle):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a scripted late answer)

    def _handle(self, method: str) -> None:
        api = self.api
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        record = Recorded(method, split.path, query, None, "?", target=self.path,
                          credentials=(self.headers.get("Authorization")
                                       or self.headers.get("PRIVATE-TOKEN")
                                       or self.headers.get("JOB-TOKEN")))
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise _error(400, "Problems parsing JSON") from None
            record.body = body
            if split.path.startswith(api.gitlab_prefix + "/") and api.gitlab_prefix:
                reply = _gitlab(api, method, split.path[len(api.gitlab_prefix):], query,
                                body, self.headers, record)
            elif split.path.startswith(api.github_prefix + "/") or not api.github_prefix:
                reply = _github(api, method, split.path[len(api.github_prefix):], query,
                                body, self.headers, record)
            else:
                raise _error(404, "Not Found")
        except Reply as exc:
            reply = exc
        record.status = reply.status
        with api._lock:
            api.requests.append(record)
        if reply.delay:
            time.sleep(reply.delay)
        self._send(reply)


def _paginate(api: FakeApi, base: str, items: list[Any], query: dict[str, list[str]],
              default_per_page: int, max_per_page: int = 100) -> Reply:
    per_page = min(int(query.get("per_page", [default_per_page])[0]), max_per_page)
    page = int(query.get("page", ["1"])[0])
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    links = []
    other = {k: v[0] for k, v in query.items() if k not in ("page", "per_page")}

    def url(number: int) -> str:
        return f"{api.origin}{base}?{urlencode({**other, 'per_page': per_page, 'page': number})}"

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, copy.deepcopy(chunk), headers)


def _fault_reply(api: FakeApi, op: str, headers: Any, record: Recorded) -> Fault | None:
    fault = api._take_fault(op)
    if fault is None or fault.kind in ("late", "trickle", "loop", "list"):
        return fault  # applied to the real answer
    if fault.kind == "html":  # a proxy or captive portal answering in the API's place
        raise Reply(200, raw=b"<!DOCTYPE html><html><body><h1>Sign in to continue</h1>"
                    b"</body></html>", content_type="text/html; charset=utf-8")
    if fault.kind == "redirect":
        raise Reply(fault.status, None, {"Location": fault.location + record.target})
    if fault.kind == "429":
        raise Reply(429, {"message": "You have exceeded a secondary rate limit.",
                          "documentation_url": DOCS}, {"retry-after": fault.retry_after})
    if fault.kind == "ratelimit":
        raise Reply(403, {"message": "API rate limit exceeded", "documentation_url": DOCS},
                    {"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000",
                     "x-ratelimit-reset": str(int(time.time()) + int(fault.retry_after))})
    if fault.kind == "502":
        raise Reply(502, {"message": "Server Error"})
    if fault.kind == "echo":  # a careless server that repeats the credentials it got
        credentials = headers.get("Authorization") or headers.get("PRIVATE-TOKEN")
        raise Reply(400, {"message": f"Problems with {credentials}",
                          "documentation_url": DOCS})
    raise AssertionError(f"unknown fault kind {fault.kind!r}")


def _check_query(api: FakeApi, op: str, params: dict[str, Any],
                 query: dict[str, list[str]], path_params: dict[str, str]) -> None:
    for name, value in path_params.items():
        spec = params.get(name, {}).get("schema", {})
        if spec.get("type") == "integer" and not value.isdigit():
            api.violations.append(f"{op}: path parameter {name}={value!r} is not an integer")
            raise _error(404, "Not Found")
    for name, values in query.items():
        if name not in params:
            api.violations.append(f"{op}: unknown query parameter {name!r}")
            continue
        if params[name].get("schema", {}).get("type") == "integer" and not values[0].isdigit():
            api.violations.append(f"{op}: query parameter {name}={values[0]!r} is not an "
                                  "integer")
    if "per_page" in query and int(query["per_page"][0]) > 100:
        api.violations.append(f"{op}: per_page {query['per_page'][0]} is over 100")


def _github(api: FakeApi, method: str, path: str, query: dict[str, list[str]], body: Any,
            headers: Any, record: Recorded) -> Reply:
    description = api.description
    auth = headers.get("Authorization") or ""
    token = auth.split(" ", 1)[1] if auth.lower().startswith(("bearer ", "token ")) else None
    info = api.tokens.get(token or "")
    if path == "/user" and method == "GET":
        record.op = "users/get-authenticated"
        if info is None:
            raise _error(401, "Bad credentials")
        if not info.can_ask_user:
            raise _error(403, "Resource not accessible by integration")
        return Reply(200, {"login": info.login, "id": 1, "type": "User"})
    matched = description.match(method, path)
    if matched is None:
        api.violations.append(f"{method} {path}: not an endpoint of the description")
        raise _error(404, "Not Found")
    op, params, specs = matched
    record.op = op
    if info is None:
        raise _error(401, "Bad credentials")
    _check_query(api, op, specs, query, params)
    validator = description.request_validators.get(op)
    if validator is not None:
        problems = _errors(validator, body)
        if problems:
            api.violations.extend(f"{op}: {p}" for p in problems)
            raise _error(422, "Invalid request.", errors=problems)
    if method != "GET" and info.read_only:
        raise _error(403, "Resource not accessible by integration")
    fault = _fault_reply(api, op, headers, record)
    repo = f"{params.get('owner')}/{params.get('repo')}"
    reply = _github_operation(api, op, repo, params, query, body, info, path)
    response_validator = description.response_validators.get((op, reply.status))
    if response_validator is not None and reply.body is not None:
        problems = _errors(response_validator, reply.body)
        if problems:
            api.violations.extend(f"{op} response (fake server bug): {p}" for p in problems)
    _apply_fault(api, fault, reply, record)  # a scripted fault breaks the shape on purpose
    return reply


def _github_operation(api: FakeApi, op: str, repo: str, params: dict[str, str],
                      query: dict[str, list[str]], body: Any, info: TokenInfo,
                      path: str) -> Reply:
    with api._lock:
        if op == "issues/list-comments":
            number = int(params["issue_number"])
            return _paginate(api, api.github_prefix + path, api.comments.get((repo, number), []),
                             query, default_per_page=30)
        if op in ("issues/create-comment", "issues/update-comment"):
            if len(body["body"]) > api.body_limit:
                raise _error(422, "Validation Failed", errors=[{
                    "resource": "IssueComment", "code": "custom", "field": "body",
                    "message": f"body is too long (maximum is {api.body_limit} characters)"}])
            if op == "issues/create-comment":
                created = api._new_comment(repo, int(params["issue_number"]), body["body"],
                                           info.login)
                return Reply(201, copy.deepcopy(created), {"Location": created["url"]})
            comment = api._find_comment(repo, int(params["comment_id"]))
            if comment is None:
                raise _error(404, "Not Found")
            if comment["user"]["login"] != info.login:
                raise _error(403, "You cannot edit this comment")  # GitHub: not the author
            comment["body"] = body["body"]
            comment["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return Reply(200, copy.deepcopy(comment))
        if op == "issues/delete-comment":
            comment = api._find_comment(repo, int(params["comment_id"]))
            if comment is None:
                raise _error(404, "Not Found")
            if comment["user"]["login"] != info.login:
                raise _error(403, "You cannot delete this comment")
            for items in api.comments.values():
                if comment in items:
                    items.remove(comment)
            api.deleted.append(comment["id"])
            return Reply(204)
        if op == "issues/get-comment":
            comment = api._find_comment(repo, int(params["comment_id"]))
            if comment is None:
                raise _error(404, "Not Found")
            return Reply(200, copy.deepcopy(comment))
        if op == "pulls/get":
            pull = api.pulls.get((repo, int(params["pull_number"])))
            if pull is None:
                raise _error(404, "Not Found")
            return Reply(200, copy.deepcopy(pull))
        if op == "checks/create":
            if info.app is None:
                raise _error(403, "You must authenticate via a GitHub App.")
            if not info.checks:
                raise _error(403, "Resource not accessible by integration")
            run = api.description.example("check-run")
            run_id = next(api._ids)
            run.update(id=run_id, head_sha=body["head_sha"], name=body["name"],
                       status=body.get("status", "queued"), conclusion=body.get("conclusion"),
                       html_url=f"{api.origin}/{repo}/runs/{run_id}",
                       url=f"{api.github_url}/repos/{repo}/check-runs/{run_id}")
            run["app"].update(_app(info.app))  # the app whose token created the run
            run["output"].update(title=body["output"]["title"],
                                 summary=body["output"]["summary"],
                                 annotations_count=len(body["output"].get("annotations", [])))
            api.check_runs[run_id] = {"request": body, "response": run,
                                      "annotations": list(body["output"].get("annotations",
                                                                             []))}
            return Reply(201, copy.deepcopy(run))
        if op == "checks/update":
            stored = api.check_runs.get(int(params["check_run_id"]))
            if stored is None:
                raise _error(404, "Not Found")
            stored["annotations"] += body.get("output", {}).get("annotations", [])
            stored["response"]["output"]["annotations_count"] = len(stored["annotations"])
            return Reply(200, copy.deepcopy(stored["response"]))
        if op == "repos/create-commit-status":
            status = api.description.example("status")
            status.update(state=body["state"], description=body.get("description"),
                          context=body.get("context", "default"),
                          target_url=body.get("target_url"), id=next(api._ids))
            status["creator"].update(login=info.login, type=_user_type(info.login))
            api.statuses.append({"sha": params["sha"], **body})
            return Reply(201, status)
    api.violations.append(f"{op}: the fake server does not implement it")
    raise _error(404, "Not Found")


def _gitlab(api: FakeApi, method: str, path: str, query: dict[str, list[str]], body: Any,
            headers: Any, record: Recorded) -> Reply:
    from jsonschema import Draft202012Validator

    token = headers.get("PRIVATE-TOKEN")
    username = api.gitlab_users.get(token or "")
    if username is None:
        record.op = "gitlab/unauthorized"
        raise Reply(401, {"message": "401 Unauthorized"})
    if path == "/user" and method == "GET":
        record.op = "gitlab/user"
        if token in api.gitlab_user_forbidden:  # e.g. a job token
            raise Reply(403, {"message": "403 Forbidden"})
        return Reply(200, {"id": 7, "username": username, "name": username})
    found = re.match(r"^/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?$", path)
    if found is None:
        api.violations.append(f"gitlab: {method} {path} is not an endpoint mlci should use")
        raise Reply(404, {"message": "404 Not Found"})
    project, iid, note_id = found.group(1), int(found.group(2)), found.group(3)
    op = {("GET", False): "gitlab/list-notes", ("POST", False): "gitlab/create-note",
          ("PUT", True): "gitlab/update-note",
          ("DELETE", True): "gitlab/delete-note"}.get((method, note_id is not None))
    if op is None:
        api.violations.append(f"gitlab: {method} {path} is not an endpoint mlci should use")
        raise Reply(405, {"message": "405 Method Not Allowed"})
    record.op = op
    if method in ("POST", "PUT"):
        problems = _errors(Draft202012Validator(GITLAB_NOTE_BODY), body)
        if problems:
            api.violations.extend(f"{op}: {p}" for p in problems)
            raise Reply(400, {"message": "400 Bad request - body is missing"})
    fault = _fault_reply(api, op, headers, record)
    notes = api.notes.setdefault((project, iid), [])
    with api._lock:
        if op == "gitlab/list-notes":
            reply = _paginate(api, api.gitlab_prefix + path, notes, query, default_per_page=20)
            page = int(query.get("page", ["1"])[0])
            reply.headers["x-total"] = str(len(notes))
            if "next" in reply.headers.get("Link", ""):
                reply.headers["x-next-page"] = str(page + 1)
            return reply
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        if op == "gitlab/create-note":
            note = {"id": next(api._ids), "body": body["body"], "system": False,
                    "author": {"id": 7, "username": username, "name": username},
                    "noteable_type": "MergeRequest", "noteable_iid": iid,
                    "created_at": stamp, "updated_at": stamp}
            notes.append(note)
            reply = Reply(201, copy.deepcopy(note))
        else:
            note = next((n for n in notes if n["id"] == int(note_id or 0)), {})
            if not note:
                raise Reply(404, {"message": "404 Not found"})
            if note["author"]["username"] != username:
                raise Reply(403, {"message": "403 Forbidden"})
            if op == "gitlab/delete-note":
                notes.remove(note)
                api.deleted.append(note["id"])
                return Reply(204)
            note.update(body=body["body"], updated_at=stamp)
            reply = Reply(200, copy.deepcopy(note))
    _apply_fault(api, fault, reply, record)
    return reply


def _apply_fault(api: FakeApi, fault: Fault | None, reply: Reply, record: Recorded) -> None:
    """The faults that change a real answer: it happened, but the answer is wrong or slow."""
    if fault is None:
        return
    if fault.kind == "late":
        reply.delay = fault.delay
    elif fault.kind == "trickle":
        reply.trickle = fault.delay
    elif fault.kind == "list":
        reply.body = [reply.body]
    elif fault.kind == "loop":  # a next link that names the page it is on
        reply.headers["Link"] = f'<{api.origin}{record.target}>; rel="next"'


def add_note(api: FakeApi, project: str, iid: int, body: str, username: str,
             system: bool = False) -> dict[str, Any]:
    """A note written by someone (or by GitLab itself) before mlci runs."""
    notes = api.notes.setdefault((project, iid), [])
    note = {"id": next(api._ids), "body": body, "system": system,
            "author": {"id": 9, "username": username, "name": username},
            "noteable_type": "MergeRequest", "noteable_iid": iid,
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"}
    notes.append(note)
    return note


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (for the token leak test)."""
    yield from (p for p in root.rglob("*") if p.is_file())


# -- helpers shared by the publishing tests ---------------------------------------------------

TOKEN = "ghs_mlciT0kenThatMustNeverBeSeen0123456789"
WRITE_TOKEN = "ghs_writeTokenOfTheBaseRepository0000000"  # the base repository's, for forks
BOT = "github-actions[bot]"  # who TOKEN comments as
GL_TOKEN = "glpat-mlciGitLabTokenNeverShown000"
GL_BOT = "mlci-bot"  # who GL_TOKEN comments as
REPO = "Codertocat/Hello-World"  # the repository of the reference webhook examples
MARKER = "<!-- mlci:report key=default -->"


@contextlib.contextmanager
def serving(reference: Path) -> Iterator[FakeApi]:
    """The fake GitHub and GitLab API on 127.0.0.1, knowing TOKEN (as BOT) and GL_TOKEN (as
    GL_BOT); on exit, no request may have broken the API description."""
    with FakeApi(reference) as server:
        server.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False)
        server.gitlab_users[GL_TOKEN] = GL_BOT
        yield server
    assert server.violations == []


def as_fork(api: FakeApi) -> None:
    """A fork's workflow token may only read; the base repository's token may write."""
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, read_only=True)
    api.tokens[WRITE_TOKEN] = TokenInfo(BOT, can_ask_user=False)


def fork_pull_request(reference: Path) -> dict[str, Any]:
    """A pull request from a fork (the reference ``synchronize`` example, head moved)."""
    event = webhook_examples(reference, "pull_request")[6]  # synchronize
    event["pull_request"]["head"]["repo"]["full_name"] = "contributor/Hello-World"
    return event


def webhook_examples(reference: Path, event: str) -> list[dict[str, Any]]:
    data = json.loads((reference / "github-api" / "webhook-examples.json").read_text())
    items: list[dict[str, Any]] = copy.deepcopy(data[event])
    return items


def report_data(verdict: str = "fail", key: str = "default", gates: int = 1,
                markdown: str | None = None) -> dict[str, Any]:
    """A report as ``mlci report --format json`` writes it (the agreed interface)."""
    failing = [{"name": f"accuracy-{i}", "metric": "eval/metrics.json:accuracy",
                "status": "fail" if verdict == "fail" else "pass", "severity": "fail",
                "base": 0.91, "head": 0.88, "delta": -0.03,
                "reason": f"accuracy fell 0.03 (3.3%) from 0.91 to 0.88; at most 0.01 ({i})",
                "kind": "metric", "interval": None} for i in range(gates)]
    body = markdown if markdown is not None else (
        f"<!-- mlci:report key={key} -->\n## mlci: {verdict}\n\n| gate | status |\n"
        "| --- | --- |\n" + "".join(f"| {g['name']} | {g['status']} |\n" for g in failing))
    return {"key": key, "verdict": verdict, "summary": f"mlci: {verdict} (1 gate failed)",
            "markdown": body, "base": {"rev": "main", "sha": "f" * 40},
            "head": {"rev": "HEAD", "sha": "e" * 40}, "gates": failing,
            "counts": {"gates_failed": gates if verdict == "fail" else 0, "gates_warned": 0,
                       "tests_failed": 0}}


def write_report(directory: Path, data: dict[str, Any] | None = None,
                 name: str = "report.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(data if data is not None else report_data()))
    return path


def github_env(api: FakeApi, directory: Path, event: str, payload: dict[str, Any],
               token: str | None = TOKEN, token_var: str = "GITHUB_TOKEN") -> dict[str, str]:
    """The variables GitHub Actions sets for a job, pointing at the fake API."""
    event_path = directory / f"{event}.json"
    event_path.write_text(json.dumps(payload))
    env = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event,
           "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": REPO,
           "GITHUB_API_URL": api.github_url, "GITHUB_SERVER_URL": api.origin,
           "GITHUB_RUN_ID": "4242", "GITHUB_SHA": "9" * 40,
           "GITHUB_STEP_SUMMARY": str(directory / "step_summary.md"),
           "GITHUB_OUTPUT": str(directory / "github_output.txt")}
    if token is not None:
        env[token_var] = token
    return env


def parse_outputs(text: str) -> dict[str, str]:
    """Read ``$GITHUB_OUTPUT`` the way the runner does (``name<<DELIM`` blocks, name=value)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            while lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(block)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def stand_in_trim(markdown: str, limit: int) -> str:
    """For publisher-level tests only: keeps the first line (the marker) and cuts the rest.
    The product uses ``mlci.report.trim.trim_markdown``."""
    note = "\n\n_(trimmed)_\n"
    return markdown[:max(0, limit - len(note))] + note
