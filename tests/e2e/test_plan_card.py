"""The plan card in a real browser, on the development Home Assistant.

Each test compares what the card shows with the plan Home Assistant sent the
browser (the plan sensor's attributes), so it holds whatever the demo prices
and the time of day are.
"""

from collections.abc import Callable
import copy
from datetime import UTC, datetime, timedelta
import re
import statistics
import time
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect
import pytest

from tests.conftest import REPO

from .conftest import ARTIFACTS, DESKTOP, PHONE, HomeAssistant, in_browser_thread

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")
SLOT = timedelta(minutes=30)
CARD_JS = REPO / "custom_components" / "hems" / "frontend" / "hems-plan-card.js"
# A figure shown with two decimals is within half a unit, plus float rounding.
SHOWN = 0.005 + 1e-9

HASS = "document.querySelector('home-assistant').hass"
ENTITY_BY_KEY = f"""key => Object.values({HASS}.entities)
    .find(e => e.platform === 'hems' && e.translation_key === key)?.entity_id"""
ROWS = """rows => rows.map(row => ({
    start: row.dataset.start,
    now: row.classList.contains('now'),
    half: row.closest('section.half').dataset.half,
    time: row.querySelector('td.time').textContent.trim(),
    price: row.querySelector('td.price').textContent.trim(),
    loads: Object.fromEntries([...row.querySelectorAll('td.load')].map(td =>
        [td.dataset.load, {classes: [...td.classList], text: td.textContent.trim()}])),
}))"""


def parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def clock(text: str) -> tuple[int, int]:
    """Return (hour, minute) of a time shown as "13:30" or "1:30 PM"."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*([AP]M)?", text.replace("\u202f", " "))
    assert match, f"not a time: {text!r}"
    hour, minute, half = int(match[1]), int(match[2]), match[3]
    if half:
        hour = hour % 12 + (12 if half == "PM" else 0)
    return hour, minute


def number(text: str) -> float:
    match = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    assert match, f"no number in {text!r}"
    return float(match[0])


def plan_of(page: Page) -> tuple[str, dict[str, Any]]:
    """Return the plan sensor's id and the state the browser holds for it."""
    entity_id = page.evaluate(ENTITY_BY_KEY, "planned_cost_total")
    assert entity_id, "no hems entity with translation key planned_cost_total"
    return entity_id, page.evaluate(f"id => {HASS}.states[id]", entity_id)


def browser_now(page: Page) -> datetime:
    return datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)


def visible_slots(plan: dict[str, Any], now: datetime) -> list[tuple[int, dict]]:
    """Return (index, slot) of the plan's slots that have not ended."""
    return [
        (index, slot)
        for index, slot in enumerate(plan["attributes"]["slots"])
        if parse(slot["start"]) + SLOT > now
    ]


def rows_of(page: Page) -> list[dict[str, Any]]:
    return page.locator("hems-plan-card tr.slot").evaluate_all(ROWS)


def check_table(page: Page, plan: dict[str, Any]) -> dict[str, int]:
    """Assert every row matches the plan; return counts of what is marked."""
    rows = rows_of(page)
    now = browser_now(page)
    expected = visible_slots(plan, now)
    assert [row["start"] for row in rows] == [slot["start"] for _, slot in expected]
    counts = {"on": 0, "start": 0, "over": 0, "charge": 0, "now": 0}
    loads = plan["attributes"]["loads"]
    for row, (index, slot) in zip(rows, expected, strict=True):
        start = parse(slot["start"])
        local = start.astimezone(LONDON)
        assert clock(row["time"]) == (local.hour, local.minute), row
        half = f"{local.date().isoformat()}-{'am' if local.hour < 12 else 'pm'}"
        assert row["half"] == half
        assert number(row["price"]) == pytest.approx(slot["price"], abs=0.006)
        assert row["now"] == (start <= now < start + SLOT)
        counts["now"] += row["now"]
        for load in loads:
            cell = row["loads"][load["id"]]
            classes = set(cell["classes"])
            if load["kind"] == "battery":
                mode = load["modes"][index]
                assert ("charge" in classes) == (mode == "force_charge"), cell
                assert ("hold" in classes) == (mode == "charge_only"), cell
                counts["charge"] += mode == "force_charge"
                continue
            assert ("on" in classes) == bool(load["on"][index]), (load["name"], row)
            counts["on"] += bool(load["on"][index])
            if "cycle_costs" not in load:
                continue
            cost = load["cycle_costs"][index]
            if cost is None:
                assert cell["text"] == ""
            else:
                assert number(cell["text"]) == pytest.approx(cost, abs=0.051)
            chosen = any(parse(s) == start for s in load["starts"])
            assert ("start" in classes) == chosen, (load["name"], row)
            over = (
                load["max_cycle_cost"] is not None
                and (cost or 0) > load["max_cycle_cost"]
            )
            assert ("over" in classes) == (cost is not None and over), cell
            counts["start"] += chosen
            counts["over"] += "over" in classes
    return counts


def check_table_settled(page: Page, attempts: int = 3) -> dict[str, Any]:
    """Check the table against the plan the browser holds; return the counts.

    Home Assistant may publish a new plan (new prices at 16:00) or the
    half-hour may turn while the rows are read: then read both again.
    """
    for attempt in range(attempts):
        _, plan = plan_of(page)
        try:
            return {"plan": plan, **check_table(page, plan)}
        except AssertionError:
            if attempt == attempts - 1:
                raise
            time.sleep(1.5)
    raise AssertionError  # pragma: no cover - the loop returns or raises


@in_browser_thread
def test_table_shows_the_plan_in_local_time(
    open_dashboard: Callable[..., Page],
) -> None:
    """Rows are the plan's half-hours in UK time (a browser in the UK)."""
    page = open_dashboard()
    page.wait_for_selector("hems-plan-card tr.slot")
    counts = check_table_settled(page)
    plan = counts["plan"]
    assert counts["now"] == 1, "the current half-hour is marked"
    assert counts["start"] >= 1, "a chosen wet-goods start is highlighted"
    assert counts["on"] >= 1
    headers = page.locator("hems-plan-card table.plan >> nth=0 >> th").all_inner_texts()
    names = [load["name"] for load in plan["attributes"]["loads"]]
    assert all(any(name in header for header in headers) for name in names)


@in_browser_thread
def test_chart_marks_now_and_the_import_limit(
    open_dashboard: Callable[..., Page],
) -> None:
    """The chart has prices, the stacked load, the current slot and the limit."""
    page = open_dashboard()
    page.wait_for_selector("hems-plan-card svg.chart")
    _, plan = plan_of(page)
    now = browser_now(page)
    marker = page.locator("hems-plan-card svg.chart rect.now-marker")
    assert marker.count() == 1
    start = parse(marker.get_attribute("data-start") or "")
    assert start <= now < start + SLOT
    limit = page.locator("hems-plan-card svg.chart line.import-limit")
    assert plan["attributes"]["import_limit_kw"] == 10.0
    assert float(limit.get_attribute("data-kw") or 0) == 10.0
    assert page.locator("hems-plan-card svg.chart rect.stack").count() > 0
    path = page.locator("hems-plan-card svg.chart path.price-line")
    slots = int(
        page.locator("hems-plan-card svg.chart").get_attribute("data-slots") or 0
    )
    assert slots >= len(plan["attributes"]["slots"])
    assert (path.get_attribute("d") or "").count("H") == slots


@in_browser_thread
def test_totals_compare_with_mean_and_flat_prices(
    home_assistant: HomeAssistant, open_dashboard: Callable[..., Page]
) -> None:
    """Today's and the planned totals, at the mean Agile price and flat 24.5p."""
    page = open_dashboard()
    page.wait_for_selector("hems-plan-card table.totals")
    _, plan = plan_of(page)

    def total(key: str) -> str:
        return page.locator(f"hems-plan-card td[data-total='{key}']").inner_text()

    energy_id = page.evaluate(ENTITY_BY_KEY, "energy_today")
    mean_id = page.evaluate(ENTITY_BY_KEY, "today_mean_price")
    energy = float(home_assistant.state(energy_id)["state"])
    mean = float(home_assistant.state(mean_id)["state"])
    assert number(total("today-energy")) == pytest.approx(energy, abs=SHOWN)
    assert number(total("today-mean").split("@")[1]) == pytest.approx(mean, abs=SHOWN)
    # Planned from now, for the controlled loads: the plan's own breakdown.
    controlled = plan["attributes"]["planned"]["controlled_loads"]
    planned = controlled["energy_kwh"]
    cost = controlled["cost"] * 100
    assert planned > 0
    assert number(total("planned-energy")) == pytest.approx(planned, abs=SHOWN)
    assert number(total("planned-cost")) == pytest.approx(cost / 100, abs=SHOWN)
    assert number(total("planned-average")) == pytest.approx(cost / planned, abs=SHOWN)
    assert number(total("planned-flat")) == pytest.approx(planned * 0.245, abs=SHOWN)
    saving = number(total("planned-saving"))
    assert saving == pytest.approx(planned * 0.245 - cost / 100, abs=0.011)
    label = page.locator("hems-plan-card table.totals").inner_text()
    assert "24.50 p/kWh" in label
    # The headline is the Planned cost sensor, broken down into its parts.
    headline = page.locator("hems-plan-card [data-summary='cost']").inner_text()
    parts = plan["attributes"]["planned"]
    assert number(headline) == pytest.approx(float(plan["state"]), abs=SHOWN)
    for key, name in (("loads", "controlled_loads"), ("base", "base_load")):
        shown = page.locator(f"hems-plan-card [data-part='{key}']").inner_text()
        assert number(shown) == pytest.approx(parts[name]["cost"], abs=SHOWN)


def _wait_past_boundary(margin: float = 25.0) -> None:
    """Avoid a real half-hour boundary (HA re-publishes the plan) mid-test."""
    now = time.time()
    left = 1800 - now % 1800
    if left < margin:
        time.sleep(left + 2)


@in_browser_thread
def test_live_update_after_a_slot_change(
    home_assistant: HomeAssistant, open_dashboard: Callable[..., Page]
) -> None:
    """A new plan and the next half-hour show without reloading the page."""
    _wait_past_boundary()
    page = open_dashboard(clock_at=datetime.now(UTC))
    page.wait_for_selector("hems-plan-card tr.slot")
    entity_id, plan = plan_of(page)
    page.evaluate("window.__notReloaded = true")
    probe = "hems-plan-card ha-card"
    page.locator(probe).evaluate("card => card.dataset.probe = 'kept'")

    # Another entity changing does not re-render the card.
    home_assistant.api("POST", "/api/states/sensor.e2e_other", {"state": "1"})
    page.wait_for_function(f"() => {HASS}.states['sensor.e2e_other']")
    assert page.locator(probe).get_attribute("data-probe") == "kept"

    # The plan moves on one half-hour, the washer moves its start, and the
    # dishwasher gets a maximum cycle cost some starts are above.
    attributes = copy.deepcopy(plan["attributes"])
    attributes["slots"] = attributes["slots"][1:]
    for load in attributes["loads"]:
        for key in ("on", "modes", "cycle_costs"):
            if key in load:
                load[key] = load[key][1:]
    washer = next(load for load in attributes["loads"] if load["name"] == "Washer")
    possible = [i for i, cost in enumerate(washer["cycle_costs"]) if cost is not None]
    moved = next(
        i
        for i in reversed(possible)
        if attributes["slots"][i]["start"] not in washer["starts"]
    )
    washer["starts"] = [attributes["slots"][moved]["start"]]
    dishwasher = next(
        load for load in attributes["loads"] if load["name"] == "Dishwasher"
    )
    costs = [cost for cost in dishwasher["cycle_costs"] if cost is not None]
    dishwasher["max_cycle_cost"] = statistics.median(costs)
    new_first = attributes["slots"][0]["start"]
    try:
        home_assistant.api(
            "POST",
            f"/api/states/{entity_id}",
            {"state": plan["state"], "attributes": attributes},
        )
        first_row = page.locator("hems-plan-card tr.slot").first
        expect(first_row).to_have_attribute("data-start", new_first)
        assert page.evaluate("window.__notReloaded") is True
        assert page.locator(probe).get_attribute("data-probe") is None, "re-rendered"
        _, updated = plan_of(page)
        assert updated["attributes"]["slots"][0]["start"] == new_first
        counts = check_table(page, updated)
        assert counts["over"] >= 1, "starts above the maximum cycle cost are marked"
        washer_start = page.locator(
            f"hems-plan-card tr[data-start='{washer['starts'][0]}'] td.start"
        )
        assert washer_start.count() == 1
        assert counts["now"] == 0, "the first planned half-hour has not begun yet"

        # The browser's clock reaches that half-hour: the card moves "now" by itself.
        ahead = parse(new_first) - browser_now(page) + timedelta(seconds=1)
        page.clock.fast_forward(int(ahead.total_seconds() * 1000))
        expect(page.locator("hems-plan-card tr.slot.now")).to_have_attribute(
            "data-start", new_first
        )
        marker = page.locator("hems-plan-card svg.chart rect.now-marker")
        assert parse(marker.get_attribute("data-start") or "") == parse(new_first)
        assert page.evaluate("window.__notReloaded") is True
    finally:
        # The real plan again, for the tests after this one.
        home_assistant.api(
            "POST",
            f"/api/states/{entity_id}",
            {"state": plan["state"], "attributes": plan["attributes"]},
        )


def _half_columns(page: Page) -> list[tuple[float, float]]:
    boxes = [
        half.bounding_box()
        for half in page.locator("hems-plan-card section.half").all()
    ]
    return [(box["x"], box["y"]) for box in boxes if box]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@in_browser_thread
def test_screenshots_desktop_and_phone(
    open_dashboard: Callable[..., Page], scheme: str
) -> None:
    """Two halves side by side on a desktop, one column on a phone; screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_dashboard(viewport=viewport, color_scheme=scheme)
        page.wait_for_selector("hems-plan-card tr.slot")
        page.wait_for_selector("hems-plan-card svg.chart")
        columns = page.locator("hems-plan-card div.halves").evaluate(
            "grid => getComputedStyle(grid).gridTemplateColumns.split(' ').length"
        )
        assert columns == (2 if name == "desktop" else 1)
        halves = _half_columns(page)
        assert halves
        if len(halves) >= 2:
            (x1, y1), (x2, y2) = halves[:2]
            if name == "desktop":
                assert x2 > x1
                assert y2 == pytest.approx(y1, abs=2)
            else:
                assert x2 == pytest.approx(x1, abs=2)
                assert y2 > y1
        card = page.locator("hems-plan-card ha-card")
        width = card.bounding_box()
        assert width
        assert width["width"] <= viewport["width"]
        background = card.evaluate("card => getComputedStyle(card).backgroundColor")
        dark = scheme == "dark"
        channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
        assert (sum(channels) / 3 < 128) == dark, background
        assert not _overlapping_labels(page), name
        path = ARTIFACTS / f"hems-card-{name}-{scheme}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000


def _overlapping_labels(page: Page) -> list[tuple[str, str]]:
    """Return the pairs of chart labels (day, limit, now, event) that overlap."""
    boxes = page.locator(
        "hems-plan-card svg.chart text.day, hems-plan-card svg.chart text.limit-label"
    ).evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect();"
        " return [e.textContent, b.left, b.top, b.right, b.bottom]; })"
    )
    return [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


@in_browser_thread
def test_editor_and_card_picker(open_dashboard: Callable[..., Page]) -> None:
    """The visual editor edits the config; the card is offered in the picker."""
    page = open_dashboard()
    entity_id, _ = plan_of(page)
    assert page.evaluate(
        "() => window.customCards.some(card => card.type === 'hems-plan-card')"
    )
    stub = page.evaluate(
        f"() => customElements.get('hems-plan-card').getStubConfig({HASS})"
    )
    assert stub["entity"] == entity_id
    assert stub["flat_tariff"] == 24.5
    # Inside the app, as in the dashboard editor, where its pickers find the
    # app's translations.
    page.evaluate(
        f"""stub => {{
        const editor = customElements.get('hems-plan-card').getConfigElement();
        editor.id = 'e2e-editor';
        editor.style.cssText = 'position:fixed;inset:60px auto auto 300px;width:520px;'
            + 'z-index:10;padding:16px;background:var(--primary-background-color);'
            + 'box-shadow:0 4px 16px rgba(0,0,0,.4)';
        editor.hass = {HASS};
        editor.setConfig({{type: 'custom:hems-plan-card', ...stub}});
        window.__configs = [];
        editor.addEventListener(
            'config-changed', e => window.__configs.push(e.detail.config));
        document.querySelector('home-assistant').shadowRoot.append(editor);
    }}""",
        stub,
    )
    editor = page.locator("#e2e-editor")
    form = editor.locator("> ha-form")
    form.wait_for()
    # The entity picker shows the plan sensor by its name and device.
    expect(editor.get_by_text("Recorded prices (demo)")).to_be_visible()
    expect(
        editor.get_by_role("paragraph").filter(has_text="Show the table")
    ).to_be_visible()
    names = form.evaluate(
        "form => form.schema.flatMap(s => s.schema || [s]).map(s => s.name)"
    )
    assert names == [
        "entity",
        "title",
        "flat_tariff",
        "show_totals",
        "show_chart",
        "show_table",
        "show_events",
    ]
    assert form.evaluate("form => form.data.flat_tariff") == 24.5
    page.screenshot(path=ARTIFACTS / "hems-card-editor.png")
    form.evaluate(
        """form => form.dispatchEvent(new CustomEvent('value-changed',
            {detail: {value: {...form.data, flat_tariff: 30, show_chart: false}}}))"""
    )
    configs = page.evaluate("window.__configs")
    assert configs[-1]["flat_tariff"] == 30
    assert configs[-1]["show_chart"] is False
    assert configs[-1]["type"] == "custom:hems-plan-card"


def test_served_for_manual_resources(home_assistant: HomeAssistant) -> None:
    """The card is served at a stable URL and loaded with a versioned one."""
    status, content_type, body = home_assistant.fetch("/hems_static/hems-plan-card.js")
    assert status == 200
    assert "javascript" in content_type
    assert body == CARD_JS.read_bytes()
    _, _, page = home_assistant.fetch("/hems-plan/plan")
    assert re.search(rb"/hems_static/hems-plan-card\.js\?v=[0-9a-f]{12}", page)


def _synthetic_plan(day_start: datetime, slots: int) -> dict[str, Any]:
    """Return a plan over one local day with a washer starting in its sixth slot."""
    starts = [day_start + i * SLOT for i in range(slots)]
    costs = [10.0 + i % 7 for i in range(slots)]
    chosen = 5
    return {
        "entity_id": "sensor.plan",
        "state": "1.23",
        "attributes": {
            "created": day_start.isoformat(),
            "slot_minutes": 30,
            "base_load_kw": 0.3,
            "import_limit_kw": None,
            "slots": [
                {"start": s.isoformat(), "price": 5.0 + i % 11}
                for i, s in enumerate(starts)
            ],
            "loads": [
                {
                    "id": "washer",
                    "name": "Washer",
                    "kind": "washing_machine",
                    "on": [int(chosen <= i < chosen + 2) for i in range(slots)],
                    "energy_kwh": 1.0,
                    "cost": 12.0,
                    "cycle_costs": costs,
                    "max_cycle_cost": 15.0,
                    "starts": [starts[chosen].isoformat()],
                }
            ],
            "notes": [],
        },
    }


@pytest.mark.parametrize(
    ("day_start", "slots", "first_half"),
    [
        (datetime(2026, 10, 24, 23, tzinfo=UTC), 50, 26),  # BST -> GMT: 25 hours
        (datetime(2026, 3, 29, 0, tzinfo=UTC), 46, 22),  # GMT -> BST: 23 hours
    ],
)
@in_browser_thread
def test_clock_change_days(
    browser: Browser, day_start: datetime, slots: int, first_half: int
) -> None:
    """On clock-change days the halves have 26 or 22 rows and times repeat or skip."""
    page = browser.new_page()
    page.clock.install(time=day_start)
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content=CARD_JS.read_text(), type="module")
    page.wait_for_function("() => customElements.get('hems-plan-card')")
    plan = _synthetic_plan(day_start, slots)
    page.evaluate(
        """plan => {
        const card = document.createElement('hems-plan-card');
        card.setConfig({type: 'custom:hems-plan-card', show_chart: false});
        card.hass = {
            states: {[plan.entity_id]: plan},
            entities: {[plan.entity_id]: {entity_id: plan.entity_id, platform: 'hems',
                translation_key: 'planned_cost_total'}},
            config: {time_zone: 'Europe/London', currency: 'GBP'},
            locale: {language: 'en-GB', time_format: '24'},
        };
        document.body.append(card);
    }""",
        plan,
    )
    rows = rows_of(page)
    assert len(rows) == slots
    halves = [row["half"] for row in rows]
    assert halves.count(halves[0]) == first_half
    assert halves.count(halves[-1]) == 24
    times = [row["time"] for row in rows]
    expected = [
        parse(slot["start"]).astimezone(LONDON).strftime("%H:%M")
        for slot in plan["attributes"]["slots"]
    ]
    assert times == expected
    assert times.count("01:30") == (2 if slots == 50 else 0)
    washer = [row["loads"]["washer"] for row in rows]
    assert [i for i, cell in enumerate(washer) if "start" in cell["classes"]] == [5]
    assert [i for i, cell in enumerate(washer) if "over" in cell["classes"]] == [
        i for i in range(slots) if 10.0 + i % 7 > 15.0
    ]
    page.close()
