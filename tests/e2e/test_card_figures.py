"""The card's figures, from plans made up for the purpose (no Home Assistant).

Each test mounts the card on a blank page with a ``hass`` object holding one
plan sensor, so what the card must show follows from the plan alone.
"""

from datetime import UTC, datetime, timedelta
import re
from typing import Any

from playwright.sync_api import Browser, Page
import pytest

from tests.conftest import REPO

from .conftest import in_browser_thread

pytestmark = pytest.mark.e2e

CARD_JS = REPO / "custom_components" / "hems" / "frontend" / "hems-plan-card.js"
SLOT = timedelta(minutes=30)
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
