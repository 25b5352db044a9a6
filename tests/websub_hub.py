"""A small WebSub hub for the tests: takes subscriptions, verifies intent, and publishes signed content.

It answers a subscription request with 202 and then, as a real hub does, verifies the subscriber's intent with a
GET to the callback (the challenge must come back); :meth:`Hub.publish` POSTs content to every verified callback
of a topic with ``X-Hub-Signature: sha256=…`` (or a wrong one, to test that it is ignored).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests import public_dns


@dataclass
class Subscription:
    callback: str
    topic: str
    secret: str
    lease_s: int
    verified: bool = False


@dataclass
class Hub:
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    verifications: list[tuple[int, str]] = field(default_factory=list)
    """Each intent verification: the callback's status and body."""
    lease_s: int = 3600
    """The lease the hub grants, whatever was asked."""
    session: aiohttp.ClientSession | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def subscribe(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        if form.get("hub.mode") != "subscribe" or not form.get("hub.callback") or not form.get("hub.topic"):
            return web.Response(status=400)
        sub = Subscription(form["hub.callback"], form["hub.topic"], form.get("hub.secret", ""), self.lease_s)
        task = asyncio.create_task(self._verify(sub))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _verify(self, sub: Subscription) -> None:
        assert self.session is not None
        challenge = secrets.token_hex(8)
        query = {"hub.mode": "subscribe", "hub.topic": sub.topic, "hub.challenge": challenge,
                 "hub.lease_seconds": str(sub.lease_s)}  # fmt: skip
        async with self.session.get(sub.callback, params=query) as response:
            body = await response.text()
            self.verifications.append((response.status, body))
            sub.verified = response.status == 200 and body == challenge
        self.subscriptions.append(sub)

    async def verify_as(self, callback: str, **query: str) -> tuple[int, str]:
        """A GET to ``callback`` as a hub (or anyone) might send it."""
        assert self.session is not None
        async with self.session.get(callback, params=query) as response:
            return response.status, await response.text()

    async def publish(self, topic: str, body: bytes, *, forged: bool = False) -> list[int]:
        """POST ``body`` to every verified subscriber of ``topic``; their statuses."""
        assert self.session is not None
        statuses = []
        for sub in [s for s in self.subscriptions if s.topic == topic and s.verified]:
            key = b"not the secret" if forged else sub.secret.encode()
            signature = hmac.new(key, body, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature": f"sha256={signature}", "Content-Type": "application/rss+xml"}
            async with self.session.post(sub.callback, data=body, headers=headers) as response:
                statuses.append(response.status)
        return statuses


@asynccontextmanager
async def serve_hub() -> AsyncIterator[Hub]:
    """A hub at ``http://hub.example.org:PORT/`` (a public-looking name, 127.0.0.1 in the tests)."""
    hub = Hub()
    app = web.Application()
    app.router.add_post("/", hub.subscribe)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hub.url = f"http://hub.example.org:{runner.addresses[0][1]}/"
    connector = aiohttp.TCPConnector(resolver=public_dns.LoopbackNames())
    async with aiohttp.ClientSession(connector=connector) as session:
        hub.session = session
        try:
            yield hub
        finally:
            await asyncio.gather(*hub._tasks, return_exceptions=True)
            await runner.cleanup()
