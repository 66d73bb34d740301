#!/usr/bin/env python3
"""A small Signet client, standard library only.

It asks Signet whether a process binary is signed, for one binary
(``lookup``) or many (``batch``), and retries what Signet says may succeed
later: a problem answer with ``"retryable": true`` (and a batch item whose
``error.retryable`` is true), waiting for ``Retry-After`` but never longer
than a cap, for a bounded number of attempts. A failure is never turned into
a verdict: ``lookup`` raises ``SignetError``, and a batch item that still has
no verdict keeps its ``error``.

Command line (reads SIGNET_URL and SIGNET_API_KEY from the environment):

    python3 signet_client.py lookup 82a7bf2b1f51f1988be571b8176aa545 git
    python3 signet_client.py batch alerts.jsonl

Exit status: 0 every answer is a verdict; 1 at least one has none (Signet
answered an error, or could not be reached); 2 a usage or input error.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

__all__ = ["RetryPolicy", "SignetClient", "SignetError", "main"]

log = logging.getLogger("signet")

#: One verdict answer (see the OpenAPI document's ``Signature`` schema).
Verdict = dict[str, Any]
#: One batch result: a verdict, or ``{"md5", "name", "error": {...}}``.
BatchResult = dict[str, Any]

VERDICTS = frozenset({"signed", "unsigned", "unknown"})
#: Most items Signet takes in one batch request; longer lists are sent in chunks.
MAX_BATCH_ITEMS = 1000
#: Statuses that mean "later" when the answer is not one of Signet's problems
#: (a proxy or load balancer in front of Signet answered instead).
GATEWAY_RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "signet-example-client/1.0 (python)"


class SignetError(Exception):
    """Signet gave no verdict: it answered a problem, an unreadable answer, or nothing."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        problem: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        #: Seconds Signet asked to wait (its Retry-After header), when it said.
        self.retry_after = retry_after
        #: The problem document as Signet sent it, when it sent one.
        self.problem = dict(problem) if problem is not None else None


@dataclass(frozen=True)
class RetryPolicy:
    """How often to ask again, and how long to wait in between."""

    #: Requests at most per call, the first one included.
    max_attempts: int = 4
    #: The longest single wait, in seconds, whatever Retry-After asks for.
    max_wait: float = 30.0
    #: The first wait when Signet named none (doubling after each attempt).
    backoff: float = 1.0

    def delay(self, retry_after: Optional[float], attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        wanted = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
        return max(0.0, min(wanted, self.max_wait))


class SignetClient:
    """Signet's signature endpoints, with retries of what is retryable."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 20.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        #: Seconds for one HTTP request; keep it above Signet's CB_DEADLINE_MS.
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep

    @classmethod
    def from_environment(cls, **options: Any) -> SignetClient:
        """A client for SIGNET_URL (default: the demo's address) with SIGNET_API_KEY."""
        return cls(
            os.environ.get("SIGNET_URL") or "http://127.0.0.1:8080",
            os.environ.get("SIGNET_API_KEY") or None,
            **options,
        )

    def lookup(self, hash_: str, name: str) -> Verdict:
        """The verdict for one binary, by md5 (or sha256 on Carbon Black Cloud).

        Raises SignetError when no verdict could be had, after retrying a
        retryable failure up to ``retry.max_attempts`` times in all.
        """
        path = "/v1/signatures/" + urllib.parse.quote(hash_, safe="")
        query = urllib.parse.urlencode({"name": name}, quote_via=urllib.parse.quote)
        answer = self._call("GET", f"{path}?{query}")
        if not _is_verdict(answer):
            raise SignetError("Signet answered 200 without a verdict", status=200)
        return answer

    def batch(self, items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        """One result per item, in order: a verdict, or the item with its ``error``.

        Items are ``{"md5": ..., "name": ...}`` or ``{"sha256": ..., "name": ...}``.
        A whole-request failure that stays retryable raises SignetError; an
        item whose error is retryable is asked again (alone with the other
        such items) and keeps its error if it never gets a verdict.
        """
        results: list[BatchResult] = []
        for start in range(0, len(items), MAX_BATCH_ITEMS):
            results.extend(self._batch_chunk(items[start : start + MAX_BATCH_ITEMS]))
        return results

    # -- internals ---------------------------------------------------------

    def _batch_chunk(self, items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        results = self._post_batch(items)
        for attempt in range(1, self.retry.max_attempts):
            pending = [i for i, result in enumerate(results) if _item_is_retryable(result)]
            if not pending:
                break
            asked = [_item_retry_after(results[i]) for i in pending]
            known = [seconds for seconds in asked if seconds is not None]
            delay = self.retry.delay(max(known) if known else None, attempt)
            log.warning(
                "%d of %d batch items failed retryably; asking again in %.1f s (attempt %d of %d)",
                len(pending),
                len(items),
                delay,
                attempt + 1,
                self.retry.max_attempts,
            )
            self._sleep(delay)
            for i, result in zip(pending, self._post_batch([items[i] for i in pending])):
                results[i] = result
        return results

    def _post_batch(self, items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        answer = self._call("POST", "/v1/signatures/batch", {"items": list(items)})
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            raise SignetError("the batch answer does not hold one result per item", status=200)
        for result in results:
            if not (_is_verdict(result) or _is_item_error(result)):
                raise SignetError("a batch result is neither a verdict nor an error", status=200)
        return results

    def _call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Any:
        """One request, retried while its failure is retryable and attempts remain."""
        attempt = 1
        while True:
            try:
                return self._send(method, path, body)
            except SignetError as error:
                if not error.retryable or attempt >= self.retry.max_attempts:
                    raise
                delay = self.retry.delay(error.retry_after, attempt)
                asked = (
                    f"Retry-After {error.retry_after:g} s"
                    if error.retry_after is not None
                    else "no Retry-After"
                )
                log.warning(
                    "%s (retryable, %s); retrying in %.1f s (attempt %d of %d)",
                    error,
                    asked,
                    delay,
                    attempt + 1,
                    self.retry.max_attempts,
                )
                self._sleep(delay)
                attempt += 1

    def _send(self, method: str, path: str, body: Optional[Mapping[str, Any]]) -> Any:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            try:
                payload = error.read()
            finally:
                error.close()
            raise _problem_error(error.code, error.headers, payload) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # No answer at all (refused, reset, timed out, cut short): it may work later.
            reason = getattr(error, "reason", error)
            raise SignetError(
                f"no answer from Signet at {self.base_url}: {reason}", retryable=True
            ) from None
        try:
            return json.loads(payload)
        except ValueError:
            raise SignetError(
                "Signet answered 200 with a body that is not JSON", status=200
            ) from None


def _problem_error(status: int, headers: Mapping[str, str], payload: bytes) -> SignetError:
    """The SignetError for an error answer: Signet's problem document when it sent one."""
    retry_after = _parse_retry_after(headers.get("Retry-After"))
    try:
        problem = json.loads(payload)
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or not isinstance(problem.get("retryable"), bool):
        # Not Signet's problem format: something in front of Signet answered.
        return SignetError(
            f"HTTP {status} without a Signet problem document",
            status=status,
            retryable=status in GATEWAY_RETRY_STATUSES,
            retry_after=retry_after,
        )
    code = problem.get("code")
    detail = problem.get("detail") or problem.get("title") or "no detail"
    return SignetError(
        f"{status} {code}: {detail}" if code else f"{status}: {detail}",
        status=status,
        code=code if isinstance(code, str) else None,
        retryable=problem["retryable"],
        retry_after=retry_after,
        problem=problem,
    )


def _parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After as seconds: delay-seconds (what Signet sends) or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _is_verdict(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("verdict") in VERDICTS and "error" not in answer


def _is_item_error(result: Any) -> bool:
    return isinstance(result, dict) and isinstance(result.get("error"), dict)


def _item_is_retryable(result: BatchResult) -> bool:
    error = result.get("error")
    return isinstance(error, dict) and error.get("retryable") is True


def _item_retry_after(result: BatchResult) -> Optional[float]:
    seconds = result["error"].get("retryAfterSeconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    return float(seconds)


# -- command line --------------------------------------------------------------


class UsageError(Exception):
    """Bad input on the command line or in the batch file (exit status 2)."""


def read_items(lines: Iterator[str], source: str) -> list[dict[str, Any]]:
    """Batch items from JSON Lines: one object a line, blank lines skipped."""
    items: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise UsageError(f"{source}:{number}: not JSON ({error})") from None
        if not isinstance(item, dict):
            raise UsageError(
                f'{source}:{number}: expected an object such as {{"md5": ..., "name": ...}}'
            )
        items.append(item)
    if not items:
        raise UsageError(f"{source}: no items")
    return items


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Ask Signet whether process binaries are signed (SIGNET_URL, SIGNET_API_KEY).",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=RetryPolicy.max_attempts,
        help="requests at most per call, the first one included (default %(default)s)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=RetryPolicy.max_wait,
        help="longest wait before asking again, in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds for one HTTP request (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request decision")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("lookup", help="one verdict, printed as JSON")
    one.add_argument("hash", help="the binary's md5 (or sha256 on Carbon Black Cloud)")
    one.add_argument("name", help="the process name the alert saw")
    many = commands.add_parser("batch", help="many verdicts, printed as JSON Lines in input order")
    many.add_argument(
        "file", help='JSON Lines of {"md5"|"sha256": ..., "name": ...}; "-" reads stdin'
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        format="signet: %(message)s",
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
    )
    if args.max_attempts < 1 or args.max_wait < 0 or args.timeout <= 0:
        print("signet: --max-attempts must be at least 1, --max-wait at least 0, "
              "--timeout above 0", file=sys.stderr)
        return 2
    client = SignetClient.from_environment(
        timeout=args.timeout,
        retry=RetryPolicy(max_attempts=args.max_attempts, max_wait=args.max_wait),
    )
    if args.command == "lookup":
        try:
            verdict = client.lookup(args.hash, args.name)
        except SignetError as error:
            return _no_verdict(error)
        print(json.dumps(verdict, indent=2))
        return 0

    try:
        items = _read_batch_file(args.file)
    except UsageError as error:
        print(f"signet: {error}", file=sys.stderr)
        return 2
    try:
        results = client.batch(items)
    except SignetError as error:
        return _no_verdict(error)
    for result in results:
        print(json.dumps(result))
    failed = sum(1 for result in results if "error" in result)
    if failed:
        print(f"signet: {failed} of {len(results)} items have no verdict", file=sys.stderr)
        return 1
    return 0


def _read_batch_file(path: str) -> list[dict[str, Any]]:
    if path == "-":
        return read_items(iter(sys.stdin), "<stdin>")
    try:
        with open(path, encoding="utf-8") as handle:
            return read_items(iter(handle), path)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _no_verdict(error: SignetError) -> int:
    kind = "retryable, attempts used up" if error.retryable else "not retryable"
    print(f"signet: no verdict: {error} ({kind})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
