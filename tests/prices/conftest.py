"""Fixtures of the price-source tests: a real local HTTP server faking the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import copy
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.hems.prices import OctopusClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load_fixture(name: str) -> dict[str, Any]:
    """Return a fresh copy of a JSON fixture."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def json_response(
    payload: object, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Serialise like the API would (NaN stays a bare NaN token, as json does)."""
    return web.Response(
        text=json.dumps(payload),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@dataclass
class Recorded:
    """One request the fake API received."""

    path: str
    query: dict[str, str]
    authorization: str | None


@dataclass
class FakeOctopus:
    """Routes by exact path to per-test handlers and records every request."""

    server: TestServer
    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        """Return the API root, like https://api.octopus.energy/v1."""
        return str(self.server.make_url("/v1"))

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on this server."""
        return str(self.server.make_url(path))

    def route(self, path: str, handler: Handler) -> None:
        """Serve `path` with `handler`."""
        self.handlers[path] = handler

    def route_json(
        self,
        path: str,
        payload: object,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve `path` with a fixed JSON answer."""

        async def handler(_request: web.Request) -> web.Response:
            return json_response(payload, status=status, headers=headers)

        self.route(path, handler)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Record the request and answer it (404 like the API for unknown paths)."""
        self.requests.append(
            Recorded(
                request.path, dict(request.query), request.headers.get("Authorization")
            )
        )
        handler = self.handlers.get(request.path)
        if handler is None:
            return json_response({"detail": "Not found."}, status=404)
        return await handler(request)


@pytest.fixture
async def octopus(socket_enabled: None) -> AsyncIterator[FakeOctopus]:
    """Start a fake Octopus API on 127.0.0.1.

    `socket_enabled` (pytest-socket) lifts the Home Assistant test plugin's
    socket block for this test; connections stay limited to 127.0.0.1.
    """
    fake: FakeOctopus | None = None

    async def dispatch(request: web.Request) -> web.StreamResponse:
        assert fake is not None
        return await fake.dispatch(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake = FakeOctopus(server)
    try:
        yield fake
    finally:
        fake.release.set()
        await server.close()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session (sockets to 127.0.0.1 allowed), closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(octopus: FakeOctopus, session: aiohttp.ClientSession) -> OctopusClient:
    """Return a client of the fake API (no API key)."""
    return OctopusClient(session, base_url=octopus.base_url, request_timeout=5.0)
