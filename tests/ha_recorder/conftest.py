"""Fixtures: the recorder (set up before Home Assistant), the UK, fake Octopus."""

import re

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from tests.ha.conftest import API, FakeOctopus
from tests.household import household


@pytest.fixture(autouse=True)
async def recorder_then_hass(
    recorder_mock: Recorder, enable_custom_integrations: None, hass: HomeAssistant
) -> None:
    """Run with an in-memory recorder, in the UK's time zone (GMT/BST)."""
    await hass.config.async_set_time_zone("Europe/London")


@pytest.fixture
def octopus(aioclient_mock: AiohttpClientMocker) -> FakeOctopus:
    """Serve the fake Octopus API (set ``published_until`` in the test)."""
    fake = FakeOctopus(published_until=household()[-1].start)
    aioclient_mock.get(re.compile(re.escape(API) + r"/.*"), side_effect=fake.handle)
    return fake
