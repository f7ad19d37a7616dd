"""The HTTP SMS adapter against the local fake gateway: success, 4xx, 5xx retried,
timeouts; and the outbox default."""

from __future__ import annotations

import pytest

from kehu.messaging import providers
from kehu.messaging.providers import HttpSmsProvider, OutboxProvider, Outgoing
from kehu.messaging.tests.gateway import FakeGateway

MESSAGE = Outgoing(
    idempotency_key="trigger:first_call:7",
    channel="sms",
    to="+8613900000001",
    body="张三先生您好",
    sender_name="Consultant",
    sender_phone="13800000005",
)


@pytest.fixture
def gateway():
    gw = FakeGateway().start()
    yield gw
    gw.stop()


def adapter(gateway: FakeGateway, **kw) -> HttpSmsProvider:
    options = {"token": gateway.token, "timeout": 2.0, "retries": 2, "backoff": 0.01, **kw}
    return HttpSmsProvider(gateway.url, **options)


def test_success_posts_json_with_the_idempotency_key(gateway):
    result = adapter(gateway).send(MESSAGE)
    assert result == providers.ProviderResult("sent", "http_sms", ref="gw-1")
    [request] = gateway.requests
    assert request["key"] == "trigger:first_call:7"
    assert request["auth"] == "Bearer secret-token"
    assert request["payload"] == {
        "to": "+8613900000001",
        "body": "张三先生您好",
        "reference": "trigger:first_call:7",
        "sender_name": "Consultant",
        "sender_phone": "13800000005",
    }


def test_the_same_key_twice_is_delivered_once(gateway):
    first = adapter(gateway).send(MESSAGE)
    second = adapter(gateway).send(MESSAGE)
    assert (first.status, second.status, first.ref, second.ref) == ("sent", "sent", "gw-1", "gw-1")
    assert list(gateway.deliveries) == ["trigger:first_call:7"]
    assert len(gateway.requests) == 2


def test_a_4xx_fails_at_once_with_the_gateways_reason(gateway):
    gateway.script = [(422, {"error": "invalid number"})]
    result = adapter(gateway).send(MESSAGE)
    assert result == providers.ProviderResult(
        "failed", "http_sms", error="HTTP 422: invalid number"
    )
    assert len(gateway.requests) == 1
    assert gateway.deliveries == {}


def test_a_wrong_token_is_a_4xx(gateway):
    result = adapter(gateway, token="wrong").send(MESSAGE)
    assert (result.status, result.error) == ("failed", "HTTP 401: bad token")


def test_5xx_is_retried_with_the_same_key_then_delivered(gateway):
    gateway.script = [(503, {"error": "busy"}), (500, {"message": "oops"})]
    result = adapter(gateway).send(MESSAGE)
    assert (result.status, result.ref) == ("sent", "gw-1")
    assert gateway.keys_requested() == ["trigger:first_call:7"] * 3


def test_5xx_every_time_asks_the_outbox_to_retry_later(gateway):
    gateway.script = [(503, {"error": "busy"})] * 3
    result = adapter(gateway).send(MESSAGE)
    assert result == providers.ProviderResult("retry", "http_sms", error="HTTP 503: busy")
    assert len(gateway.requests) == 3


def test_a_timeout_is_retried_and_then_reported(gateway):
    gateway.delay = 1.0
    result = adapter(gateway, timeout=0.2, retries=1).send(MESSAGE)
    assert result.status == "retry"
    assert result.error == "The gateway did not answer within 0.2 s."
    # Both tries reached the gateway with the same key; it delivered once.
    assert gateway.keys_requested() == ["trigger:first_call:7"] * 2
    assert list(gateway.deliveries) == ["trigger:first_call:7"]


def test_an_unreachable_gateway_asks_to_retry():
    result = HttpSmsProvider("http://127.0.0.1:9/send", retries=0, timeout=1).send(MESSAGE)
    assert result.status == "retry"
    assert result.error.startswith("Could not reach the gateway")


def test_the_outbox_provider_holds(settings):
    settings.KEHU_SMS_URL = ""
    provider = providers.provider_for("sms")
    assert isinstance(provider, OutboxProvider)
    assert provider.send(MESSAGE).status == "held"
    settings.KEHU_SMS_URL = "http://gateway.example/send"
    assert isinstance(providers.provider_for("sms"), HttpSmsProvider)
    assert isinstance(providers.provider_for("email"), OutboxProvider)
