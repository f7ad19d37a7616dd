"""A local fake SMS gateway for the tests: ``http.server`` in a thread.

Like real gateways it deduplicates by ``Idempotency-Key``: a key it has delivered is
answered 200 with the first delivery's id and not delivered again. It records every
request and every delivery, can answer scripted errors, and can be made slow; a slow
answer comes *after* the delivery is recorded, which is the dangerous moment for a
worker to die (the customer has the SMS, the outbox does not know yet).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeGateway:
    token: str = "secret-token"
    delay: float = 0.0
    # (status, body) answered to the next requests, before any delivery.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                with gateway.lock:
                    gateway.requests.append(
                        {
                            "key": key,
                            "auth": self.headers.get("Authorization", ""),
                            "payload": payload,
                        }
                    )
                    if gateway.script:
                        status, body = gateway.script.pop(0)
                        scripted = True
                    else:
                        scripted = False
                        if self.headers.get("Authorization") != f"Bearer {gateway.token}":
                            status, body = 401, {"error": "bad token"}
                        elif key in gateway.deliveries:
                            status = 200
                            body = {"id": gateway.deliveries[key]["id"], "duplicate": True}
                        else:
                            delivery = {"id": f"gw-{len(gateway.deliveries) + 1}", **payload}
                            gateway.deliveries[key] = delivery
                            status, body = 200, {"id": delivery["id"]}
                    delay = gateway.delay
                if delay and not scripted or delay and scripted and status >= 500:
                    time.sleep(delay)
                self.answer(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/send"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def keys_requested(self) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.requests]
