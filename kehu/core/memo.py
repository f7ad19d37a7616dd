"""Configuration read on every request, kept in this process for a few seconds.

The channels and the completeness requirements are read by every registration. They
live in the shared cache (Redis in production, so a change reaches every process at
once), but a cache read still costs a round trip to Redis, or an unpickle of model
instances from the local-memory cache: measured with ``make bench``, about 3% of a
registration. A :class:`Memo` keeps the value in this process for ``seconds`` in front
of the cache. A change made in this process is seen at once (the services call
:meth:`Memo.forget`); another process sees it within ``seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar


class Memo:
    every: ClassVar[list[Memo]] = []

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._entry: tuple[Any, float] = (None, 0.0)
        Memo.every.append(self)

    def get(self, load: Callable[[], Any]) -> Any:
        """The kept value, or ``load()`` when there is none or it is older than
        ``seconds`` (a tuple assignment: safe across threads)."""
        value, at = self._entry
        now = time.monotonic()
        if value is None or now - at >= self.seconds:
            value = load()
            self._entry = (value, now)
        return value

    def forget(self) -> None:
        self._entry = (None, 0.0)

    @classmethod
    def forget_all(cls) -> None:
        for memo in cls.every:
            memo.forget()
