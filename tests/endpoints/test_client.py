"""The shared client against tiny real HTTP servers that misbehave on purpose: bounded concurrency, retries
with exponential backoff on 429, 5xx and dropped connections, timeouts, one-line errors, the API key only in
the request header; and the request bodies and answer mapping of both APIs."""

from __future__ import annotations

import socket

import pytest
from harness_endpoints import payloads
from harness_endpoints.client import Client, EndpointError, RequestRefused

from .conftest import completion, slow_ok


def no_refusal(exc: RequestRefused) -> dict:
    raise AssertionError(f"unexpected refusal {exc}")


def test_bodies_carry_explicit_greedy_settings_and_answers_map_back():
    settings = payloads.sampling(50, seed=7)
    assert settings == {"max_tokens": 50, "temperature": 0.0, "top_p": 1.0, "seed": 7}
    assert "seed" not in payloads.sampling(50, seed=None)
    chat = payloads.body("chat", "m", "Hi?", settings, system_prompt="Be brief.")
    assert chat["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]
    assert chat["temperature"] == 0.0 and chat["seed"] == 7 and chat["stream"] is False and chat["model"] == "m"
    comp = payloads.body("completions", "m", "\n\nHuman: Hi?\n\nAssistant:", settings)
    assert comp["prompt"].endswith("Assistant:") and "messages" not in comp
    text, meta = payloads.answer("chat", {**completion("yes", "m@main"), "system_fingerprint": "fp1"})
    assert text == "yes" and meta["stopped_at_eos"] and meta["n_new_tokens"] == 1
    assert meta["served_model"] == "m@main" and meta["system_fingerprint"] == "fp1"
    assert meta["usage"]["total_tokens"] == 4
    assert payloads.answer("completions", completion("t"))[0] == "t"
    with pytest.raises(Exception, match="no choices"):
        payloads.answer("chat", {"error": "x"})


def test_requests_run_concurrently_bounded_by_max_concurrency(scripted):
    url = scripted(slow_ok(0.15))
    client = Client(url, max_concurrency=3)
    answers = client.post_many("/completions", [{"prompt": str(i)} for i in range(12)], no_refusal)
    srv = scripted.servers[0]
    assert [a["choices"][0]["text"] for a in answers] != [] and len(answers) == 12
    assert srv.peak == 3  # never more than max_concurrency in flight, and it did reach it
    assert client.tally.as_dict() == {"requests": 12, "retries": 0, "prompt_tokens": 36, "completion_tokens": 12,
                                      "total_tokens": 48}
    one = Client(scripted(slow_ok(0.01)), max_concurrency=1)
    one.post_many("/completions", [{"prompt": "x"}] * 4, no_refusal)
    assert scripted.servers[1].peak == 1


def test_429_and_5xx_are_retried_with_exponential_backoff_then_succeed(scripted):
    def flaky(h, n):
        if n < 3:
            h.reply(429 if n < 2 else 503, {"error": {"message": "busy"}})
        else:
            h.reply(200, completion("finally"))

    waits: list[float] = []
    client = Client(scripted(flaky), max_retries=5, backoff=0.25, sleep=waits.append)
    parsed, retries = client.request("POST", "/completions", {"prompt": "x"})
    assert parsed["choices"][0]["text"] == "finally" and retries == 3
    assert waits == [0.25, 0.5, 1.0]


def test_retry_after_wins_when_longer(scripted):
    def limited(h, n):
        h.reply(429, {"error": "slow down"}, {"Retry-After": "2"}) if n == 0 else h.reply(200, completion())

    waits: list[float] = []
    Client(scripted(limited), backoff=0.1, sleep=waits.append).request("POST", "/completions", {})
    assert waits == [2.0]


def test_a_429_storm_is_one_line_after_the_tries(scripted):
    waits: list[float] = []
    client = Client(scripted(lambda h, n: h.reply(429, {"error": "rate limit"})), max_retries=3, backoff=0.5,
                    sleep=waits.append)
    with pytest.raises(EndpointError) as err:
        client.post_many("/chat/completions", [{"m": 1}, {"m": 2}], no_refusal)
    msg = str(err.value)
    assert "\n" not in msg and "HTTP 429" in msg and "every one of 4 tries" in msg and "lower max_concurrency" in msg
    assert sorted(waits) == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]  # both requests: 3 waits each, doubling


def test_dropped_connections_are_retried(scripted):
    def drop_first(h, n):
        if n == 0:
            h.connection.shutdown(socket.SHUT_RDWR)  # no answer at all: the client sees the connection drop
            h.close_connection = True
        else:
            h.reply(200, completion("second try"))

    parsed, retries = Client(scripted(drop_first), sleep=lambda s: None).request("POST", "/completions", {})
    assert parsed["choices"][0]["text"] == "second try" and retries == 1


def test_timeouts_and_an_unreachable_server_are_one_line(scripted):
    slow = Client(scripted(slow_ok(1.0)), timeout=0.2, max_retries=1, sleep=lambda s: None)
    with pytest.raises(EndpointError, match=r"timed out \(raise the timeout option.*every one of 2 tries"):
        slow.request("POST", "/completions", {})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    dead = Client(f"http://127.0.0.1:{port}/v1", max_retries=2, sleep=lambda s: None)
    with pytest.raises(EndpointError) as err:
        dead.served_models()
    msg = str(err.value)
    assert "connection refused" in msg and "is the server running?" in msg and "\n" not in msg


def test_wrong_model_name_lists_the_served_names(scripted):
    models = {"object": "list", "data": [{"id": "org/model-a", "object": "model"}, {"id": "org/other"}]}
    client = Client(scripted(lambda h, n: h.reply(200, models)))
    assert client.served_entry("org/model-a")["id"] == "org/model-a"
    with pytest.raises(EndpointError) as err:
        client.served_entry("org/model-b")
    assert str(err.value).endswith("does not serve model 'org/model-b' (did you mean 'org/model-a'?); "
                                   "it serves: org/model-a, org/other")


def test_the_api_key_goes_in_the_header_and_never_in_a_message(scripted, monkeypatch):
    from harness_endpoints.client import api_key

    monkeypatch.setenv("MY_TEST_KEY", "sk-sekrit-123")
    key = api_key("MY_TEST_KEY", "model x")

    def echo_key(h, n):  # a server that echoes the header in its error, as some proxies do
        h.reply(401, {"error": {"message": f"bad key {h.headers.get('Authorization')}"}})

    client = Client(scripted(echo_key), key=key)
    with pytest.raises(RequestRefused) as err:
        client.request("POST", "/completions", {})
    assert scripted.servers[0].seen[0]["auth"] == "Bearer sk-sekrit-123"
    assert "sk-sekrit" not in str(err.value) and "***" in str(err.value)
    monkeypatch.delenv("MY_TEST_KEY")
    with pytest.raises(EndpointError, match="api_key_env names MY_TEST_KEY, which is not set"):
        api_key("MY_TEST_KEY", "model x")
    assert api_key("", "model x") is None


def test_weights_changed_between_plan_and_load_is_one_line(scripted, tmp_path):
    """The rows are stored under the planned fingerprint: a server that swapped the weights behind the same
    name between planning and loading must stop the run, not fill the store with the other weights' rows."""
    from harness_endpoints.variant import EndpointVariant

    from harness.types import Context, HarnessError

    def models(h, n):  # the first /models answer (planning) reports v1, every later one v2
        h.reply(200, {"object": "list", "data": [{"id": "org/model-a", "root": "org/weights-v2" if n else
                                                  "org/weights-v1"}]})

    variant = EndpointVariant("ep", "org/model-a", scripted(models), {})
    ctx = Context(home=tmp_path, log=lambda msg: None)
    planned = variant.fingerprint(ctx)
    with pytest.raises(HarnessError) as err:
        variant.load(ctx)
    msg = str(err.value)
    assert "org/weights-v2" in msg and "org/weights-v1" in msg and "plan against them" in msg and "\n" not in msg
    assert planned != variant.fingerprint(ctx)  # v2 is another cache key: a new plan stores it apart


def test_unchanged_weights_load_after_planning(scripted, tmp_path):
    from harness_endpoints.variant import EndpointVariant

    from harness.types import Context

    def models(h, n):
        h.reply(200, {"object": "list", "data": [{"id": "org/model-a", "root": "org/weights-v1"}]})

    variant = EndpointVariant("ep", "org/model-a", scripted(models), {})
    ctx = Context(home=tmp_path, log=lambda msg: None)
    variant.fingerprint(ctx)
    loaded = variant.load(ctx)
    assert loaded.run_facts()["served"] == {"id": "org/model-a", "root": "org/weights-v1"}
