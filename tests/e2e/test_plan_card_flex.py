"""A flexibility event on the development Home Assistant's plan card.

The event is posted through Home Assistant's REST API (``hems.flex_event``)
and accepted (``hems.flex_respond``: the household's setting asks), then
the card is compared with the plan Home Assistant sent the browser.  Runs
after the other plan-card tests (the event stays on the plan).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import time
from typing import Any

from playwright.sync_api import Page
import pytest

from .conftest import ARTIFACTS, DESKTOP, PHONE, HomeAssistant, in_browser_thread
from .test_plan_card import parse, plan_of

pytestmark = pytest.mark.e2e

SLOT = timedelta(minutes=30)
CARD = "hems-plan-card"


def _plan_state(ha: HomeAssistant) -> dict[str, Any]:
    """Return the plan sensor's state (the sensor carrying the slots)."""
    for item in ha.api("GET", "/api/states"):
        attributes = item["attributes"]
        if item["entity_id"].startswith("sensor.") and "flex_events" in attributes:
            return dict(item)
    pytest.fail("no plan sensor with flex_events")


def _wait_for(
    ha: HomeAssistant, check: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = _plan_state(ha)
        if check(state):
            return state
        time.sleep(1)
    pytest.fail(f"the plan did not show {what}\n{ha.log_tail()}")


def _event(state: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (e for e in state["attributes"]["flex_events"] if e["id"] == "e2e-peak"),
        None,
    )


def _post_event(ha: HomeAssistant) -> tuple[datetime, datetime]:
    """Post a turn-down over four half-hours of the plan ahead; accept it."""
    state = _plan_state(ha)
    starts = [parse(slot["start"]) for slot in state["attributes"]["slots"]]
    now = datetime.now(UTC)
    ahead = [start for start in starts if start > now + SLOT]
    assert len(ahead) >= 6, "the plan is too short for the test's window"
    start, end = ahead[2], ahead[5] + SLOT
    ha.api(
        "POST",
        "/api/services/hems/flex_event",
        {
            "id": "e2e-peak",
            "title": "Evening peak",
            "direction": "down",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "max_import_kw": 1.0,
            "reward_p_per_kwh": 30,
        },
    )
    offered = _wait_for(ha, lambda s: _event(s) is not None, "the event")
    event = _event(offered)
    assert event is not None
    if event["status"] == "pending":
        ha.api(
            "POST",
            "/api/services/hems/flex_respond",
            {"event": "e2e-peak", "response": "accept"},
        )
    created = offered["attributes"]["created"]
    _wait_for(
        ha,
        lambda s: (
            (e := _event(s)) is not None
            and e["status"] == "accepted"
            and s["attributes"]["created"] != created
        ),
        "the accepted event re-planned",
    )
    return start, end


def _check_card(page: Page, start: datetime, end: datetime) -> None:
    """Assert the band, the rows and the figures match the browser's plan."""
    page.wait_for_selector(f"{CARD} svg.chart rect.flex-band")
    _, plan = plan_of(page)
    attributes = plan["attributes"]
    (event,) = [e for e in attributes["flex_events"] if e["id"] == "e2e-peak"]
    band = page.locator(
        f"{CARD} svg.chart rect.flex-band[data-event='service:e2e-peak']"
    )
    assert parse(band.get_attribute("data-start") or "") == start
    assert parse(band.get_attribute("data-end") or "") == end
    window = [
        slot["start"]
        for slot in attributes["slots"]
        if start <= parse(slot["start"]) < end
    ]
    assert len(window) == 4
    # In the chart: from the first half-hour's column to the last one's end.
    hits = page.locator(f"{CARD} svg.chart rect.hit").evaluate_all(
        "rects => rects.map(r => [r.dataset.start, +r.getAttribute('x'),"
        " +r.getAttribute('width')])"
    )
    columns = [(x, w) for at, x, w in hits if start <= parse(at) < end]
    assert len(columns) == 4
    left = float(band.get_attribute("x") or "nan")
    right = left + float(band.get_attribute("width") or "nan")
    assert left == pytest.approx(columns[0][0], abs=0.2)
    assert right == pytest.approx(columns[-1][0] + columns[-1][1], abs=0.2)
    rows = page.locator(f"{CARD} tr.slot[data-event='service:e2e-peak']")
    starts = rows.evaluate_all("rows => rows.map(row => row.dataset.start)")
    assert [parse(s) for s in starts] == [parse(s) for s in window]
    item = page.locator(f"{CARD} li.flex-event[data-event='service:e2e-peak']")
    planned = float(
        item.locator("[data-figure='planned']").get_attribute("data-kwh") or "nan"
    )
    by_slot = sum(
        slot["import_kwh"]
        for slot in attributes["slots"]
        if start <= parse(slot["start"]) < end
    )
    assert planned == pytest.approx(by_slot, abs=1e-3)
    assert planned == pytest.approx(event["planned_import_kwh"], abs=1e-3)
    target = float(
        item.locator("[data-figure='target']").get_attribute("data-kwh") or "nan"
    )
    assert target == pytest.approx(1.0 * 2)  # 1 kW for 2 h
    # The cap is planned: 1 kW in each half-hour, the import within it.
    assert [
        slot.get("max_import_kw")
        for slot in attributes["slots"]
        if start <= parse(slot["start"]) < end
    ] == [1.0] * 4
    assert planned <= target + 1e-3
    verdict = item.locator("[data-figure='verdict']").inner_text()
    assert verdict == "within the 2.00 kWh cap"
    assert page.locator(f"{CARD} svg.chart path.flex-target.down").count() == 1
    text = item.inner_text()
    assert "TURN DOWN" in text.upper()
    assert "taking part" in text
    if event["baseline_kwh"] is None:  # no grid meter in the development HA
        assert "asked: not known" in text
    else:
        asked = float(
            item.locator("[data-figure='asked']").get_attribute("data-kwh") or "nan"
        )
        assert asked == pytest.approx(max(0.0, event["baseline_kwh"] - 2.0), abs=1e-3)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@in_browser_thread
def test_an_accepted_event_is_marked_on_the_plan(
    home_assistant: HomeAssistant, open_dashboard: Callable[..., Page], scheme: str
) -> None:
    """The event's band, rows and figures on a desktop and a phone; screenshots."""
    state = _plan_state(home_assistant)
    found = _event(state)
    if found is None:
        start, end = _post_event(home_assistant)
    else:
        start, end = parse(found["start"]), parse(found["end"])
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_dashboard(viewport=viewport, color_scheme=scheme)
        _check_card(page, start, end)
        card = page.locator(f"{CARD} ha-card").bounding_box()
        assert card
        assert card["width"] <= viewport["width"]
        path = ARTIFACTS / f"hems-card-flex-{name}-{scheme}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000
        # The event view (README): the events section down to the chart's legend.
        top = page.locator(f"{CARD} section.flex-events").bounding_box()
        legend = page.locator(f"{CARD} .chart-legend").bounding_box()
        assert top
        assert legend
        assert legend["y"] > top["y"]  # the section comes before the chart
        page.screenshot(
            path=ARTIFACTS / f"hems-card-flex-events-{name}-{scheme}.png",
            full_page=True,
            clip={
                "x": top["x"] - 8,
                "y": top["y"] - 8,
                "width": top["width"] + 16,
                "height": legend["y"] + legend["height"] - top["y"] + 16,
            },
        )
