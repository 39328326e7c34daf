"""Flexibility events on the card, from events measured as Home Assistant does.

The events beside the plan come from `flex_plan.flex_events` over records
whose figures `flex.delivery` worked out from grid meter readings (the only
made-up input: what the meter read), so the card's figures follow from them.
"""

from datetime import datetime, timedelta
import re
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page
import pytest

from custom_components.hems.flex import Ask, FlexEvent, Reward, delivery
from custom_components.hems.flex_manager import FlexRecord, Response
from custom_components.hems.flex_plan import flex_events

from .conftest import ARTIFACTS, in_browser_thread
from .test_card_figures import START, _mount, _number, _plan

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
NOW = START + timedelta(minutes=5)
CARD = "hems-plan-card"


def _readings(until: datetime, per_half_hour: float) -> dict[datetime, float]:
    """Return a meter reading every half-hour of the 30 days before ``until``."""
    slot = until - timedelta(days=30)
    readings = {}
    while slot < until:
        readings[slot] = per_half_hour
        slot += SLOT
    return readings


def _events(plan: dict[str, Any]) -> list[dict[str, object]]:
    """Return an upcoming turn-down (asked) and yesterday's turn-up (delivered)."""
    down = FlexEvent(
        id="peak",
        source="service",
        direction="down",
        start=START + 2 * SLOT,
        end=START + 6 * SLOT,
        asks=(
            Ask(
                start=START + 2 * SLOT,
                end=START + 6 * SLOT,
                max_import_kw=2.0,
                price_delta=25.0,
            ),
        ),
        reward=Reward(pence_per_kwh=25.0),
        title="Evening peak",
    )
    up_start = START - timedelta(hours=20)
    up = FlexEvent(
        id="free",
        source="octopus_free_electricity",
        direction="up",
        start=up_start,
        end=up_start + timedelta(hours=1),
        asks=(
            Ask(
                start=up_start,
                end=up_start + timedelta(hours=1),
                min_import_kw=3.0,
                price=0.0,
            ),
        ),
        reward=Reward(pence_per_kwh=5.0),
        title="Free electricity",
    )
    # 0.6 kWh a half-hour before; 1.9 kWh in each half-hour of the turn-up.
    readings = _readings(up_start, 0.6) | {
        up_start: 1.9,
        up_start + SLOT: 1.9,
    }
    measured = delivery(up, readings, LONDON)
    expected = delivery(down, _readings(START, 2.1), LONDON).baseline_kwh
    records = [
        FlexRecord(event=down, response=Response.ACCEPTED, received=START),
        FlexRecord(
            event=up,
            response=Response.ACCEPTED,
            received=up_start,
            delivery=measured,
            reported=True,
        ),
    ]
    attributes = plan["attributes"]
    return flex_events(
        records,
        now=NOW,
        slot_starts=[datetime.fromisoformat(s["start"]) for s in attributes["slots"]],
        import_kwh=[s["import_kwh"] for s in attributes["slots"]],
        base_kw=[attributes["base_load_kw"]] * len(attributes["slots"]),
        loads_kw={load["id"]: load["kw"] for load in attributes["loads"]},
        baselines={down.key: expected},
    )


def _flex_plan() -> dict[str, Any]:
    """Return the figures test's plan with its grid import and the two events."""
    plan = _plan()
    attributes = plan["attributes"]
    for index, slot in enumerate(attributes["slots"]):
        kw = 0.4 + sum(load["kw"][index] for load in attributes["loads"])
        slot["import_kwh"] = round(max(kw, 0.0) * 0.5, 4)
        if 2 <= index < 6:  # the accepted turn-down's cap, as the plan carries it
            slot["max_import_kw"] = 2.0
    attributes["flex_events"] = _events(plan)
    return plan


def _figure(page: Page, key: str, name: str) -> float:
    selector = f"{CARD} li.flex-event[data-event='{key}'] [data-figure='{name}']"
    return float(page.locator(selector).get_attribute("data-kwh") or "nan")


@in_browser_thread
def test_the_band_covers_the_window_and_its_rows(browser: Browser) -> None:
    """The turn-down's band spans its four half-hours in the chart and the table."""
    plan = _flex_plan()
    page = _mount(browser, plan)
    band = page.locator(f"{CARD} svg.chart rect.flex-band")
    assert band.count() == 1  # yesterday's event lies before the chart
    assert band.get_attribute("class") == "flex-band down"
    hits = page.locator(f"{CARD} svg.chart rect.hit").evaluate_all(
        "rects => rects.map(r => [r.dataset.start, +r.getAttribute('x'),"
        " +r.getAttribute('width')])"
    )
    window = [
        (START + i * SLOT).strftime("%Y-%m-%dT%H:%M:%S.000Z") for i in range(2, 6)
    ]
    covered = [(x, w) for start, x, w in hits if start in window]
    left = float(band.get_attribute("x") or "nan")
    width = float(band.get_attribute("width") or "nan")
    assert left == pytest.approx(covered[0][0], abs=0.2)
    assert left + width == pytest.approx(covered[-1][0] + covered[-1][1], abs=0.2)
    rows = page.locator(f"{CARD} tr.slot.flex").evaluate_all(
        "rows => rows.map(r => [r.dataset.start, r.dataset.event, r.className])"
    )
    assert [start for start, _, _ in rows] == [
        (START + i * SLOT).isoformat() for i in range(2, 6)
    ]
    assert {key for _, key, _ in rows} == {"service:peak"}
    assert all("down" in classes for _, _, classes in rows)
    legend = page.locator(f"{CARD} .chart-legend").inner_text()
    assert "turn down event window" in legend
    assert "import cap asked (kW)" in legend
    # The cap: one step line over the window, below the 9 kW import limit.
    cap = page.locator(f"{CARD} svg.chart path.flex-target.down").get_attribute("d")
    assert cap
    assert cap.count("H") == 4
    heights = {float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", cap)}
    assert len(heights) == 1
    limit = page.locator(f"{CARD} line.import-limit").get_attribute("y1")
    assert heights.pop() > float(limit or "nan")
    colours = page.evaluate(
        """() => {
        const root = document.querySelector('hems-plan-card').shadowRoot;
        const style = getComputedStyle(root.host);
        return [style.getPropertyValue('--hems-flex-down'),
                style.getPropertyValue('--hems-flex-up')];
    }"""
    )
    assert colours[0] != colours[1]
    page.close()


@in_browser_thread
def test_the_events_figures_add_up(browser: Browser) -> None:
    """Asked, planned, delivered and earned follow from the figures beside them."""
    plan = _flex_plan()
    page = _mount(browser, plan)
    events = {e["key"]: e for e in plan["attributes"]["flex_events"]}
    items = page.locator(f"{CARD} li.flex-event").evaluate_all(
        "items => items.map(i => i.dataset.event)"
    )
    assert items == ["octopus_free_electricity:free", "service:peak"]
    # Upcoming turn-down: at most 2 kW for 2 h against a 4 x 2.1 kWh baseline.
    down = "service:peak"
    assert _figure(page, down, "target") == pytest.approx(4.0)
    assert _figure(page, down, "baseline") == pytest.approx(8.4)
    assert _figure(page, down, "asked") == pytest.approx(8.4 - 4.0)
    slots = plan["attributes"]["slots"][2:6]
    planned = _figure(page, down, "planned")
    assert planned == pytest.approx(sum(s["import_kwh"] for s in slots), abs=1e-3)
    assert planned == pytest.approx(events[down]["planned_import_kwh"])
    head = page.locator(f"{CARD} li[data-event='{down}'] .flex-head").inner_text()
    assert "10:00\u201312:00" in head  # 09:00-11:00 UTC in BST
    assert "turn down" in head.lower()
    text = page.locator(f"{CARD} li[data-event='{down}']").inner_text()
    # 0.4 kW of base load and 11 kW of car for 2 h, 2.5 kW from the battery.
    assert "= base load 0.80 + Car 22.00 \u2212 Battery 5.00)" in text
    assert pytest.approx(planned) == 0.8 + 22 - 5
    verdict = page.locator(f"{CARD} li[data-event='{down}'] [data-figure='verdict']")
    assert verdict.inner_text() == "13.80 kWh above the cap"  # 17.80 - 4.00
    prices = page.locator(f"{CARD} li[data-event='{down}'] [data-figure='prices']")
    assert prices.inner_text() == "the plan adds 25.00p to its prices"
    # Yesterday's turn-up: at least 3 kW for an hour; baseline 1.2 kWh.
    up = "octopus_free_electricity:free"
    assert _figure(page, up, "baseline") == pytest.approx(1.2)
    assert _figure(page, up, "asked") == pytest.approx(3.0 - 1.2)
    assert _figure(page, up, "metered") == pytest.approx(3.8)
    delivered = _figure(page, up, "delivered")
    assert delivered == pytest.approx(3.8 - 1.2)
    after = page.locator(f"{CARD} li[data-event='{up}'] .after").inner_text()
    assert "of 1.80 kWh asked (144%)" in after
    earned = page.locator(f"{CARD} li[data-event='{up}'] [data-figure='earned']")
    assert _number(earned.inner_text()) == pytest.approx(delivered * 5 / 100, abs=0.006)
    status = page.locator(f"{CARD} li[data-event='{up}'] .flex-status").inner_text()
    assert status == "finished"
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(f"{CARD} section.flex-events").screenshot(
        path=ARTIFACTS / "hems-card-flex-figures.png"
    )
    page.close()


@in_browser_thread
def test_the_events_section_can_be_left_out(browser: Browser) -> None:
    """``show_events: false`` hides the section; the windows stay marked."""
    page = _mount(browser, _flex_plan())
    assert page.locator(f"{CARD} section.flex-events").count() == 1
    page.evaluate(
        """() => document.querySelector('hems-plan-card').setConfig(
            {type: 'custom:hems-plan-card', show_events: false})"""
    )
    page.wait_for_selector(f"{CARD} svg.chart rect.flex-band")
    assert page.locator(f"{CARD} section.flex-events").count() == 0
    assert page.locator(f"{CARD} tr.slot.flex").count() == 4
    tooltip = page.locator(f"{CARD} svg.chart rect.hit").nth(3).text_content()
    assert tooltip
    assert tooltip.endswith("; turn down event Wed 1 Jul 10:00\u201312:00")
    page.close()
