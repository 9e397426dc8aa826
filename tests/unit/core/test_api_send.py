"""`send_with_retry`, the one retry loop of the REST APIs beside /v2 (GitLab's, the vendors'):
GETs retried on 429/5xx after the wait asked for and on resets; a mutation never sent twice."""

from __future__ import annotations

import httpx
import pytest

from regview.core import errors as E
from regview.core.client.api_send import send_with_retry

URL = httpx.URL("https://gitlab.example.com/api/v4/projects/7")


def scripted(answers: list[httpx.Response | Exception], seen: list[str]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_a_get_waits_out_a_429_as_asked() -> None:
    seen: list[str] = []
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    answers: list[httpx.Response | Exception] = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        httpx.Response(200, json={"id": 7}),
    ]
    async with scripted(answers, seen) as http:
        r = await send_with_retry(http, "GET", URL, host="gl", what="the project", sleep=sleep)
    assert r.status_code == 200 and seen == ["GET"] * 3
    assert waits == [7.0, 1.0]  # Retry-After, then 0.5 × attempt


async def test_the_last_answer_comes_back_when_retries_give_up() -> None:
    seen: list[str] = []

    async def sleep(s: float) -> None:
        return None

    answers: list[httpx.Response | Exception] = [httpx.Response(500)] * 3
    async with scripted(answers, seen) as http:
        r = await send_with_retry(http, "GET", URL, host="gl", what="x", sleep=sleep)
    assert r.status_code == 500 and len(seen) == 3


@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST"])
async def test_a_mutation_is_sent_once(method: str) -> None:
    seen: list[str] = []
    async with scripted([httpx.Response(503)], seen) as http:
        r = await send_with_retry(http, method, URL, host="gl", what="x", ok=(202,))
    assert r.status_code == 503 and seen == [method]
    refused = httpx.ConnectError("reset")
    seen.clear()
    async with scripted([refused], seen) as http:
        with pytest.raises(E.ConnectionFailed):
            await send_with_retry(http, method, URL, host="gl", what="x")
    assert seen == [method]


async def test_a_reset_get_is_tried_again_then_said_in_words() -> None:
    seen: list[str] = []

    async def sleep(s: float) -> None:
        return None

    answers: list[httpx.Response | Exception] = [httpx.ConnectError("refused")] * 3
    async with scripted(answers, seen) as http:
        with pytest.raises(E.ConnectionFailed) as caught:
            await send_with_retry(http, "GET", URL, host="gl", what="the project", sleep=sleep)
    assert len(seen) == 3 and "gl" in caught.value.message


async def test_429s_get_their_own_number_of_tries_and_wait() -> None:
    seen: list[str] = []
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    answers: list[httpx.Response | Exception] = [httpx.Response(429)] * 5 + [httpx.Response(200)]
    async with scripted(answers, seen) as http:
        r = await send_with_retry(
            http, "GET", URL, host="h", what="x", attempts_429=6, wait_of=lambda h: 99.0,
            max_wait=30.0, sleep=sleep,
        )  # fmt: skip
    assert r.status_code == 200 and len(seen) == 6 and waits == [30.0] * 5
