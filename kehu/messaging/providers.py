"""Where messages go out: a provider takes one message and says what became of it.

* :class:`OutboxProvider` — the default when nothing is configured: the message stays
  in the outbox as HELD, visible, never silently dropped (DOMAIN §6).
* :class:`HttpSmsProvider` — a generic HTTP SMS gateway (``KEHU_SMS_URL``): one JSON
  POST per message with an ``Idempotency-Key`` header equal to the message's key. Like
  real gateways, ours is expected to deliver a key once, which is what makes a resend
  after a worker died safe (docs/messaging.md, "Exactly once").

A provider never touches the database: the services claim the message, call
:meth:`Provider.send` outside any transaction and record the result.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

SENT = "sent"
FAILED = "failed"
HELD = "held"
RETRY = "retry"  # a temporary failure: try again later with the same key


@dataclass(frozen=True)
class ProviderResult:
    status: str  # SENT, FAILED, HELD or RETRY
    provider: str
    ref: str = ""
    error: str = ""


@dataclass(frozen=True)
class Outgoing:
    """What a provider needs of a message (plain data: no database access)."""

    idempotency_key: str
    channel: str
    to: str
    body: str
    sender_name: str = ""
    sender_phone: str = ""


class Provider(Protocol):
    name: str

    def send(self, message: Outgoing) -> ProviderResult: ...


class OutboxProvider:
    """No provider configured for the channel: keep the message, visibly."""

    name = "outbox"

    def send(self, message: Outgoing) -> ProviderResult:
        return ProviderResult(HELD, self.name, error="No provider is configured for this channel.")


class HttpSmsProvider:
    """POST ``{"to", "body", "reference", "sender_name", "sender_phone"}`` as JSON to the
    gateway, ``Authorization: Bearer <token>``, ``Idempotency-Key: <message key>``.

    * 2xx → SENT, the reference from the answer's ``id`` (or ``reference``);
    * 4xx → FAILED with the gateway's reason (``error``/``message`` of its JSON, or text);
    * 5xx, timeouts, refused connections → retried here ``retries`` times with
      exponential backoff, then RETRY (the outbox tries again later, with the same key).
    """

    name = "http_sms"

    def __init__(
        self,
        url: str,
        token: str = "",
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        sender_id: str = "",
    ) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.sender_id = sender_id

    def _request(self, message: Outgoing) -> urllib.request.Request:
        payload: dict[str, Any] = {
            "to": message.to,
            "body": message.body,
            "reference": message.idempotency_key,
            "sender_name": message.sender_name,
            "sender_phone": message.sender_phone,
        }
        if self.sender_id:
            payload["sender_id"] = self.sender_id
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "User-Agent": "kehu-messaging/1",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310 - the operator's configured URL

    @staticmethod
    def _reason(raw: bytes, fallback: str) -> str:
        text = raw.decode("utf-8", "replace").strip()
        try:
            data = json.loads(text)
        except ValueError:
            return (text or fallback)[:300]
        if isinstance(data, dict):
            for key in ("error", "message", "detail", "reason"):
                value = data.get(key)
                if isinstance(value, dict):
                    value = value.get("message") or json.dumps(value, ensure_ascii=False)
                if value:
                    return str(value)[:300]
        return (text or fallback)[:300]

    def send(self, message: Outgoing) -> ProviderResult:
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                with urllib.request.urlopen(self._request(message), timeout=self.timeout) as answer:  # noqa: S310
                    raw = answer.read()
                ref = ""
                try:
                    data = json.loads(raw or b"{}")
                    if isinstance(data, dict):
                        ref = str(data.get("id") or data.get("reference") or "")
                except ValueError:
                    pass
                return ProviderResult(SENT, self.name, ref=ref[:100])
            except urllib.error.HTTPError as exc:
                said = self._reason(exc.read() or b"", f"HTTP {exc.code}")
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    return ProviderResult(FAILED, self.name, error=f"HTTP {exc.code}: {said}"[:300])
                last_error = f"HTTP {exc.code}: {said}"
            except TimeoutError:
                last_error = f"The gateway did not answer within {self.timeout:g} s."
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                reason: object = getattr(exc, "reason", None) or exc
                if isinstance(reason, TimeoutError):
                    last_error = f"The gateway did not answer within {self.timeout:g} s."
                else:
                    last_error = f"Could not reach the gateway: {reason}"
        return ProviderResult(RETRY, self.name, error=last_error[:300])


def provider_for(channel: str) -> Provider:
    """The configured provider of ``channel``; the outbox when there is none."""
    if channel == "sms" and settings.KEHU_SMS_URL:
        return HttpSmsProvider(
            settings.KEHU_SMS_URL,
            token=settings.KEHU_SMS_TOKEN,
            timeout=settings.KEHU_SMS_TIMEOUT,
            retries=settings.KEHU_SMS_RETRIES,
            backoff=settings.KEHU_SMS_BACKOFF,
            sender_id=settings.KEHU_SMS_SENDER_ID,
        )
    return OutboxProvider()
