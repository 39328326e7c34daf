"""The card's figures, from plans made up for the purpose (no Home Assistant).

Each test mounts the card on a blank page with a ``hass`` object holding one
plan sensor, so what the card must show follows from the plan alone.
"""

from datetime import UTC, datetime, timedelta
import re
from typing import Any

from playwright.sync_api import Browser, Page
import pytest

from custom_components.hems.plan_totals import (
    Planned,
    PlannedTotals,
    planned_from,
    slot_flows,
)
from custom_components.hems.scheduling import LoadSchedule, Schedule
from tests.conftest import REPO

from .conftest import in_browser_thread

pytestmark = pytest.mark.e2e

CARD_JS = REPO / "custom_components" / "hems" / "frontend" / "hems-plan-card.js"
SLOT = timedelta(minutes=30)
MINUS = "\u2212"  # the card's minus sign
START = datetime(2026, 7, 1, 8, tzinfo=UTC)  # 09:00 BST


def _plan(*, slots: int = 12) -> dict[str, Any]:
    """Return a plan: an 11 kW car, a battery covering 2.5 kW, a 9 kW limit."""
    starts = [START + i * SLOT for i in range(slots)]
    car_on = [int(2 <= i < 6) for i in range(slots)]
    battery_kw = [
        -2.5 if 2 <= i < 6 else (2.0 if i == 8 else 0.0) for i in range(slots)
    ]
    return {
        "entity_id": "sensor.plan",
        "state": "1.70",
        "attributes": {
            "created": START.isoformat(),
            "slot_minutes": 30,
            "base_load_kw": 0.4,
            "import_limit_kw": 9.0,
            "slots": [
                {"start": s.isoformat(), "price": 10.0 + i}
                for i, s in enumerate(starts)
            ],
            "planned": {
                "loads": {"car": {"energy_kwh": 22.0, "cost": 1.12}},
                "controlled_loads": {"energy_kwh": 22.0, "cost": 1.12},
                "base_load": {"energy_kwh": 2.4, "cost": 0.45},
                "battery": {"energy_kwh": -4.0, "cost": 0.13},
                "total": {"energy_kwh": 20.4, "cost": 1.70},
            },
            "loads": [
                {
                    "id": "car",
                    "name": "Car",
                    "kind": "ev_charger",
                    "on": car_on,
                    "kw": [11.0 * on for on in car_on],
                    "energy_kwh": 22.0,
                    "cost": 112.0,
                    "status": "2 h planned from 10:00, done by 07:00.",
                },
                {
                    "id": "battery",
                    "name": "Battery",
                    "kind": "battery",
                    "on": [0] * slots,
                    "kw": battery_kw,
                    "energy_kwh": -4.0,
                    "cost": 13.0,
                    "modes": [
                        "normal" if kw <= 0 else "force_charge" for kw in battery_kw
                    ],
                    "status": "Charges from the grid in 1 half-hour(s).",
                },
                {
                    "id": "heater",
                    "name": "Hot water",
                    "kind": "immersion",
                    "on": [0] * slots,
                    "kw": [0.0] * slots,
                    "energy_kwh": 0,
                    "cost": 0,
                    "status": "Waiting for the prices up to Thu 07:30.",
                },
            ],
            "notes": [],
        },
    }


def _mount(
    browser: Browser,
    plan: dict[str, Any],
    *,
    time_zone: str = "server",
    browser_zone: str = "Europe/London",
) -> Page:
    page = browser.new_page(
        timezone_id=browser_zone, viewport={"width": 1100, "height": 1400}
    )
    page.clock.install(time=START + timedelta(minutes=5))
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content=CARD_JS.read_text(), type="module")
    page.wait_for_function("() => customElements.get('hems-plan-card')")
    page.evaluate(
        """([plan, timeZone]) => {
        const card = document.createElement('hems-plan-card');
        card.setConfig({type: 'custom:hems-plan-card'});
        card.hass = {
            states: {[plan.entity_id]: plan},
            entities: {[plan.entity_id]: {entity_id: plan.entity_id, platform: 'hems',
                translation_key: 'planned_cost_total'}},
            config: {time_zone: 'Europe/London', currency: 'GBP'},
            locale: {language: 'en-GB', time_format: '24', time_zone: timeZone},
        };
        document.body.append(card);
    }""",
        [plan, time_zone],
    )
    page.wait_for_selector("hems-plan-card svg.chart")
    return page


def _number(text: str) -> float:
    match = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    assert match, text
    return float(match[0])


@in_browser_thread
def test_a_plan_within_the_limit_is_drawn_within_it(browser: Browser) -> None:
    """11.4 kW of load with 2.5 kW from the battery: the grid sees 8.9 kW < 9 kW."""
    page = _mount(browser, _plan())
    hits = page.locator("hems-plan-card svg.chart rect.hit").evaluate_all(
        "rects => rects.map(r => [r.dataset.start, +r.dataset.net, +r.dataset.gross])"
    )
    by_start = {start: (net, gross) for start, net, gross in hits}
    busy = (START + 2 * SLOT).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert by_start[busy] == (pytest.approx(8.9), pytest.approx(11.4))
    limit_y = float(
        page.locator("hems-plan-card line.import-limit").get_attribute("y1")
    )
    tops = page.locator("hems-plan-card svg.chart rect.stack").evaluate_all(
        "rects => rects.map(r => +r.getAttribute('y'))"
    )
    assert min(tops) >= limit_y  # no solid bar reaches above the limit line
    assert page.locator("hems-plan-card rect.battery-covered").count() == 4
    legend = page.locator("hems-plan-card .chart-legend").inner_text()
    assert "covered by the battery" in legend
    page.close()


@in_browser_thread
def test_the_headline_adds_up(browser: Browser) -> None:
    """Planned from now = controlled loads + base load + battery."""
    page = _mount(browser, _plan())
    card = "hems-plan-card"
    total = _number(page.locator(f"{card} [data-summary='cost']").inner_text())
    parts = [
        _number(page.locator(f"{card} [data-part='{key}']").inner_text())
        for key in ("loads", "base", "battery")
    ]
    assert total == pytest.approx(1.70)
    assert parts == [pytest.approx(1.12), pytest.approx(0.45), pytest.approx(0.13)]
    assert sum(parts) == pytest.approx(total)
    planned = page.locator(f"{card} td[data-total='planned-cost']").inner_text()
    assert _number(planned) == pytest.approx(1.12)
    header = page.locator(f"{card} table.totals thead").inner_text()
    assert "Controlled loads" in header
    assert "Planned from now" in header
    page.close()


@in_browser_thread
def test_every_load_says_what_it_does(browser: Browser) -> None:
    """A load with nothing planned says why, beside the others' plans."""
    page = _mount(browser, _plan())
    items = page.locator("hems-plan-card ul.statuses li").all_inner_texts()
    assert "Hot water: Waiting for the prices up to Thu 07:30." in items
    assert any(item.startswith("Car: 2 h planned") for item in items)
    page.close()


@in_browser_thread
def test_legend_keys_are_told_apart(browser: Browser) -> None:
    """The keys of running and of charging from the grid differ in colour."""
    page = _mount(browser, _plan())
    colours = page.evaluate(
        """() => {
        const root = document.querySelector('hems-plan-card').shadowRoot;
        const paint = (sel) => {
            const style = getComputedStyle(root.querySelector(sel));
            return style.backgroundImage + style.backgroundColor;
        };
        return [paint('.legend .key.run'), paint('.legend .key.charge')];
    }"""
    )
    assert colours[0] != colours[1]
    page.close()


@pytest.mark.parametrize(
    ("setting", "first_time"), [("server", "09:00"), ("local", "17:00")]
)
@in_browser_thread
def test_the_profile_time_zone_is_followed(
    browser: Browser, setting: str, first_time: str
) -> None:
    """Server time zone (UK) or the browser's (Tokyo), as the user's profile says."""
    page = _mount(browser, _plan(), time_zone=setting, browser_zone="Asia/Tokyo")
    first = page.locator("hems-plan-card tr.slot td.time").first.inner_text()
    assert first == first_time
    page.close()


@in_browser_thread
def test_a_learnt_base_load_is_drawn_per_slot(browser: Browser) -> None:
    """The base load per slot (learnt from history) is what the chart stacks."""
    plan = _plan()
    plan["attributes"]["base_kw"] = [0.2 + 0.1 * i for i in range(12)]
    page = _mount(browser, plan)
    gross = page.locator("hems-plan-card svg.chart rect.hit").evaluate_all(
        "rects => rects.map(r => +r.dataset.gross)"
    )
    quiet = [value for i, value in enumerate(gross) if not 2 <= i < 6 and i != 8]
    expected = [0.2 + 0.1 * i for i in range(12) if not 2 <= i < 6 and i != 8]
    assert quiet == [pytest.approx(value, abs=1e-3) for value in expected]
    page.close()


@in_browser_thread
def test_export_prices_and_solar_get_columns(browser: Browser) -> None:
    """With export prices and a PV forecast the table shows both."""
    plan = _plan()
    for i, slot in enumerate(plan["attributes"]["slots"]):
        slot["export_price"] = 5.0 + i
    plan["attributes"]["pv_kw"] = [0.0, 1.5] + [0.0] * 10
    page = _mount(browser, plan)
    first = page.locator("hems-plan-card tr.slot").nth(1)
    assert first.locator("td.export").inner_text() == "6.00"
    assert first.locator("td.pv").inner_text() == "1.5"
    headers = page.locator("hems-plan-card table.plan >> nth=0 >> th").all_inner_texts()
    assert any(header.startswith("export") for header in headers)
    assert page.locator("hems-plan-card svg.chart path.pv-line").count() == 1
    assert "solar forecast" in page.locator("hems-plan-card .chart-legend").inner_text()
    page.close()


def _sunny_plan() -> dict[str, Any]:
    """Return a sunny morning's plan: its figures worked out as the sensor does.

    The house (0.4 kW) and a 3 kW water heater under 0-3.2 kW of PV; a
    battery taking the surplus, then selling at 15p; a 2 kW export limit.
    """
    slots = 12
    starts = [START + i * SLOT for i in range(slots)]
    pv = [0.0, 0.5, 1.5, 2.5, 3.2, 3.2, 3.0, 2.5, 1.5, 0.5, 0.0, 0.0]
    heater_on = [int(4 <= i < 7) for i in range(slots)]
    battery_kw = [0.0, 0.0, 1.1, 2.0, 0.0, 0.0, 0.0, 1.5, 0.0, -2.0, -2.0, 0.0]
    soc = [1.0]
    for kw in battery_kw:
        soc.append(round(soc[-1] + (kw * 0.9 if kw > 0 else kw) * 0.5, 4))
    schedule = Schedule(
        created=START,
        slot_starts=tuple(starts),
        prices=tuple(12.0 + i for i in range(slots)),
        loads={
            "heater": LoadSchedule(
                load_id="heater",
                on=tuple(bool(on) for on in heater_on),
                kw=tuple(3.0 * on for on in heater_on),
            ),
            "battery": LoadSchedule(
                load_id="battery",
                on=(False,) * slots,
                modes=tuple(
                    "force_discharge" if kw < 0 else "normal" for kw in battery_kw
                ),
                soc_kwh=tuple(soc),
                kw=tuple(battery_kw),
            ),
        },
        cost=0.0,
        base_load_kw=0.4,
        pv_kw=tuple(pv),
        export_prices=(15.0,) * slots,
        export_limit_kw=2.0,
    )
    flows = slot_flows(schedule)
    planned = planned_from(schedule, START + timedelta(minutes=5))
    today = planned_from(schedule, START, START + timedelta(minutes=5))

    def gbp(part: Planned) -> dict[str, float]:
        return {"energy_kwh": part.energy_kwh, "cost": round(part.cost / 100, 4)}

    def parts(totals: PlannedTotals) -> dict[str, Any]:
        return {
            "loads": {k: gbp(v) for k, v in totals.loads.items()},
            "controlled_loads": gbp(totals.controlled),
            "base_load": gbp(totals.base_load),
            "battery": gbp(totals.battery),
            "solar": gbp(totals.solar),
            "export": gbp(totals.export),
            "grid_import": gbp(totals.grid_import),
            "total": gbp(totals.total),
        }

    return {
        "entity_id": "sensor.plan",
        "state": str(round(planned.total.cost / 100, 2)),
        "attributes": {
            "created": START.isoformat(),
            "slot_minutes": 30,
            "base_load_kw": 0.4,
            "import_limit_kw": None,
            "export_limit_kw": 2.0,
            "slots": [
                {
                    "start": start.isoformat(),
                    "price": 12.0 + i,
                    "export_price": 15.0,
                    "import_kwh": flows.import_kwh[i],
                    "export_kwh": flows.export_kwh[i],
                    "curtailed_kwh": flows.curtailed_kwh[i],
                    "pv_kw": pv[i],
                    "soc_kwh": soc[i],
                }
                for i, start in enumerate(starts)
            ],
            "planned": parts(planned),
            "today": parts(today),
            "pv_kw": pv,
            "solar": {
                "source": "sensor",
                "summary": "Solar forecast from sensor.solcast_forecast_today.",
                "planned_with_pv": True,
                "sun": "",
            },
            "loads": [
                {
                    "id": "heater",
                    "name": "Hot water",
                    "kind": "immersion",
                    "on": heater_on,
                    "kw": [3.0 * on for on in heater_on],
                    "energy_kwh": 4.5,
                    "cost": 0,
                    "status": "1.5 h planned from 11:00.",
                },
                {
                    "id": "battery",
                    "name": "Battery",
                    "kind": "battery",
                    "control": "modes",
                    "capacity_kwh": 5.0,
                    "on": [0] * slots,
                    "kw": battery_kw,
                    "soc_kwh": soc,
                    "modes": [
                        "force_discharge" if kw < 0 else "normal" for kw in battery_kw
                    ],
                    "energy_kwh": 0,
                    "cost": 0,
                    "status": "Sells 2 half-hour(s) at the peak.",
                },
            ],
            "notes": [],
        },
    }


def _money(text: str) -> float:
    """Return the pounds of a figure such as "-£0.28" (the sign before the £)."""
    match = re.search(rf"([-{MINUS}]?)£(\d+(?:\.\d+)?)", text)
    assert match, text
    return -float(match[2]) if match[1] else float(match[2])


def _pence(page: Page, key: str) -> float:
    return float(
        page.locator(f"hems-plan-card [data-part='{key}']").get_attribute("data-pence")
        or "nan"
    )


@in_browser_thread
def test_with_sun_and_export_every_figure_adds_up(browser: Browser) -> None:
    """Loads + base + battery - solar - export = import - export revenue = total."""
    plan = _sunny_plan()
    page = _mount(browser, plan)
    card = "hems-plan-card"
    for prefix, summary, source in (
        ("", "cost", "planned"),
        ("today-", "today", "today"),
    ):
        total = _money(page.locator(f"{card} [data-summary='{summary}']").inner_text())
        parts = [
            _pence(page, f"{prefix}{key}")
            for key in ("loads", "base", "battery", "solar", "export")
        ]
        figures = plan["attributes"][source]
        assert sum(parts) / 100 == pytest.approx(figures["total"]["cost"], abs=1e-4)
        assert total == pytest.approx(figures["total"]["cost"], abs=0.005)
        grid = _pence(page, f"{prefix}import") - _pence(page, f"{prefix}revenue")
        assert grid / 100 == pytest.approx(figures["total"]["cost"], abs=1e-4)
    # The sun and the export are in the plan: both take money off.
    assert _pence(page, "solar") < 0
    assert _pence(page, "export") < 0
    assert (
        "sensor.solcast_forecast_today" in page.locator(f"{card} div.sun").inner_text()
    )
    page.close()


@in_browser_thread
def test_the_chart_shows_sun_export_and_charge(browser: Browser) -> None:
    """Per slot: grid + sun + battery = the load; sales below zero; the SoC line."""
    plan = _sunny_plan()
    page = _mount(browser, plan)
    hits = page.locator("hems-plan-card svg.chart rect.hit").evaluate_all(
        """rects => rects.map(r => [r.dataset.start, +r.dataset.net, +r.dataset.gross,
            +r.dataset.sun, +r.dataset.covered, +r.dataset.export])"""
    )
    slots = {
        datetime.fromisoformat(slot["start"]): slot
        for slot in plan["attributes"]["slots"]
    }
    for start, net, gross, sun, covered, sold in hits:
        slot = slots[datetime.fromisoformat(start)]
        assert net == pytest.approx(slot["import_kwh"] / 0.5, abs=1e-3)
        assert sold == pytest.approx(slot["export_kwh"] / 0.5, abs=1e-3)
        assert net + sun + covered == pytest.approx(gross, abs=1e-3)
        assert sold <= 2.0 + 1e-6  # the export limit
    assert any(sun > 0 for *_, sun, _, _ in hits)
    exported = [slot for slot in slots.values() if slot["export_kwh"] > 0]
    assert page.locator("hems-plan-card svg.chart rect.export-bar").count() == len(
        exported
    )
    assert page.locator("hems-plan-card svg.chart path.soc-line").count() == 1
    legend = page.locator("hems-plan-card .chart-legend").inner_text()
    assert "covered by the sun" in legend
    assert "sold to the grid" in legend
    assert "Battery charge" in legend
    # The table's grid column: bought (+) or sold (-) per half-hour.
    cells = page.locator("hems-plan-card table.plan td.grid").evaluate_all(
        "cells => cells.map(c => [+c.dataset.import, +c.dataset.export, c.innerText])"
    )
    assert cells
    for bought, sold, text in cells:
        shown = -sold if sold > 0 else bought
        assert _number(text.replace(MINUS, "-")) == pytest.approx(shown, abs=0.005)
    page.close()
