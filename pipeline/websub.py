"""The WebSub subscriber: feeds whose hub pushes new items reach the pipeline in seconds, not at the next poll.

Set ``WEBSUB_CALLBACK_URL`` (a public http(s) URL that reaches ``WEBSUB_LISTEN``, e.g. through a reverse proxy)
and every polled feed that names a hub (:func:`ingest.websub.discover`) is subscribed: the bot POSTs a
subscription request with a fresh secret to the hub (through the same SSRF guard as its fetches), the hub verifies
the intent with a GET to the callback (answered with its challenge only for a subscription this bot asked for, on
that topic), and then POSTs each update, signed with the secret (``X-Hub-Signature``). A delivery whose signature
is missing or wrong is acknowledged and ignored, as the Recommendation asks; a valid one is parsed and accepted
like a poll's items (:meth:`pipeline.watcher.FeedWatcher.receive`), deduplicated against what polls found. Leases
are renewed a day before they end. Polling stays the fallback: a subscribed feed is still polled, hourly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from domain.records import Feed
from ingest.websub import signature_ok, subscription_form
from pipeline.watcher import FeedWatcher
from storage.interfaces import StanceStore

log = logging.getLogger(__name__)
RENEW_S = 24 * 3600.0
"""A lease is renewed when it has less than this left."""
RETRY_S = 3600.0
"""A subscription that is pending (the hub never verified it) or failed is asked again after this long."""
MAX_BODY = 10 * 1024 * 1024
CALLBACK_PATH = "/websub/{token}"


def callback_token(feed: Feed) -> str:
    """The feed's part of the callback URL: stable across restarts, the feed's URL not readable from it."""
    return hashlib.sha256(feed.scope.encode()).hexdigest()[:32]


class WebSubSubscriber:
    """Subscribes feeds to their hubs and serves the callback; see the module's docstring."""

    def __init__(
        self,
        store: StanceStore,
        watcher: FeedWatcher,
        session: aiohttp.ClientSession,
        callback_url: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.watcher = watcher
        self.session = session
        self.callback_url = callback_url.rstrip("/")
        self._clock = clock
        self._asked: dict[str, float] = {}
        """When this process last asked a hub for each feed (by URL): at most once per RETRY_S while pending."""
        self._runner: web.AppRunner | None = None

    def callback_for(self, feed: Feed) -> str:
        return f"{self.callback_url}/websub/{callback_token(feed)}"

    def due(self, feed: Feed) -> bool:
        """Whether ``feed`` should be (re)subscribed now: it names a hub, and it is not subscribed, its lease ends
        within a day, or a request went unanswered (or failed) an hour ago."""
        if not feed.websub_hub:
            return False
        now = self._clock()
        if feed.websub_state == "active" and feed.websub_until - now > RENEW_S:
            return False
        if feed.websub_state == "denied":
            return False
        return now - self._asked.get(feed.url, 0.0) >= RETRY_S

    async def ensure(self, feed: Feed) -> None:
        """Subscribe ``feed`` when :meth:`due`: a fresh secret is stored first, then the hub is asked; a renewal
        keeps the secret, so the hub's deliveries are taken while it verifies again."""
        if not self.due(feed):
            return
        self._asked[feed.url] = self._clock()
        renewing = feed.websub_state == "active" and bool(feed.websub_secret)  # deliveries go on meanwhile
        secret = feed.websub_secret if renewing else secrets.token_hex(24)
        if not renewing:
            await self.store.run(self._set, feed.url, websub_secret=secret, websub_state="pending")
            await self.store.commit()
        form = subscription_form(self.callback_for(feed), feed.websub_topic or feed.url, secret)
        try:
            async with self.session.post(feed.websub_hub, data=form, timeout=aiohttp.ClientTimeout(total=30)) as r:
                if r.status not in (202, 204):
                    raise aiohttp.ClientResponseError(r.request_info, (), status=r.status, message=r.reason or "")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("WebSub hub %s refused the subscription to %s: %s", feed.websub_hub, feed.url, exc)
            await self.store.run(self._set, feed.url, websub_state="failed")
            await self.store.commit()
            return
        log.info("Asked WebSub hub %s to push %s", feed.websub_hub, feed.url)

    def _set(self, url: str, **state: object) -> None:
        """On the store thread: change the stored feed's subscription fields (a feed removed meanwhile: nothing)."""
        feed = self.store.feed(url)
        if feed is not None:
            self.store.save_feed(dataclasses.replace(feed, **state))  # type: ignore[arg-type]

    # -- the callback ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(CALLBACK_PATH, self.verify)
        app.router.add_post(CALLBACK_PATH, self.deliver)
        return app

    async def start(self, host: str, port: int) -> None:
        """Serve the callback on ``host``:``port`` (``WEBSUB_LISTEN``)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("WebSub callback listening on %s:%s for %s", host, port, self.callback_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _feed(self, token: str) -> Feed | None:
        feeds = await self.store.run(self.store.feeds)
        return next((f for f in feeds if callback_token(f) == token), None)

    async def verify(self, request: web.Request) -> web.Response:
        """The hub's verification of intent: the challenge back only for a subscription this bot asked for."""
        feed = await self._feed(request.match_info["token"])
        mode, topic = request.query.get("hub.mode", ""), request.query.get("hub.topic", "")
        if feed is None or topic != (feed.websub_topic or feed.url):
            return web.Response(status=404)
        if mode == "denied":
            log.warning("WebSub hub denied the subscription to %s: %s", feed.url, request.query.get("hub.reason"))
            await self.store.run(self._set, feed.url, websub_state="denied")
            await self.store.commit()
            return web.Response(status=200)
        if mode != "subscribe" or feed.websub_state not in ("pending", "active") or not feed.websub_secret:
            return web.Response(status=404)
        try:
            lease = float(request.query.get("hub.lease_seconds", ""))
        except ValueError:
            lease = 0.0
        until = self._clock() + (lease if lease > 0 else RENEW_S)
        await self.store.run(self._set, feed.url, websub_state="active", websub_until=until)
        await self.store.commit()
        log.info("WebSub subscription to %s verified, lease %.0f s", feed.url, lease)
        return web.Response(text=request.query.get("hub.challenge", ""))

    async def deliver(self, request: web.Request) -> web.Response:
        """An update from the hub: taken when signed with the feed's secret, acknowledged (and ignored) when not."""
        feed = await self._feed(request.match_info["token"])
        if feed is None or feed.websub_state != "active":
            return web.Response(status=410 if feed is None else 202)
        body = await request.read()
        if not signature_ok(feed.websub_secret, body, request.headers.get("X-Hub-Signature", "")):
            log.warning("WebSub delivery for %s ignored: its signature does not match", feed.url)
            return web.Response(status=202)
        new = await self.watcher.receive(feed, body, request.content_type)
        log.info("WebSub delivery for %s: %d new item(s)", feed.url, new)
        return web.Response(status=202)
