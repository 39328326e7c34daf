/*
 * hems-plan-card: the plan of hems (Home Energy Management) as a Lovelace card.
 *
 * A half-hourly table of the plan in local time, a chart of prices with the
 * planned load stacked on it, and today's totals against the day's mean price
 * and a flat tariff. Plain ES module, no build step and no network: it reads
 * the hems entities that Home Assistant already sends the frontend (`hass`).
 *
 * Served by the integration at /hems_static/hems-plan-card.js and loaded on
 * every page; it can also be added by hand as a dashboard resource (module).
 */

const CARD_TAG = "hems-plan-card";
const EDITOR_TAG = "hems-plan-card-editor";
const VERSION = "0.1.0";

const DEFAULTS = Object.freeze({
  title: "Energy plan",
  flat_tariff: 24.5,
  show_totals: true,
  show_chart: true,
  show_table: true,
  show_events: true,
});

// The hems sensors the card reads, by translation key.
const KEYS = Object.freeze({
  plan: "planned_cost_total",
  current: "current_price",
  mean: "today_mean_price",
  cost: "cost_today",
  energy: "energy_today",
  average: "average_price_today",
});

const WET_GOODS = new Set(["dishwasher", "washing_machine"]);
// Mid-tone colours that read on light and dark card backgrounds.
const PALETTE = ["#1e88e5", "#f57c00", "#8e24aa", "#00897b", "#c2185b", "#6d4c41", "#3949ab", "#7cb342"];
const BATTERY_MODES = Object.freeze({ force_charge: "charge", charge_only: "hold", force_discharge: "sell" });
// Flexibility events: what each asks, and how the card words it.
const FLEX_DIRECTIONS = Object.freeze({ down: "turn down", up: "turn up" });
const FLEX_STATUS = Object.freeze({
  pending: "waiting for your answer", accepted: "taking part", declined: "declined", cancelled: "cancelled by its source",
});
const UNAVAILABLE = new Set(["unavailable", "unknown", "", undefined, null]);

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const numberOrNull = (value) => {
  if (value === null || value === undefined || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
};

const stateNumber = (stateObj) => (!stateObj || UNAVAILABLE.has(stateObj.state) ? null : numberOrNull(stateObj.state));

/** Find the hems entities the card shows: the configured plan sensor and its siblings. */
function findEntities(hass, configured) {
  const found = {};
  const registry = Object.values(hass.entities || {}).filter((entry) => entry.platform === "hems");
  let device;
  if (configured) {
    found.plan = configured;
    device = hass.entities?.[configured]?.device_id;
  }
  for (const [role, key] of Object.entries(KEYS)) {
    if (found[role]) continue;
    const matches = registry.filter((entry) => entry.translation_key === key && hass.states[entry.entity_id]);
    const pick = matches.find((entry) => device && entry.device_id === device) || matches[0];
    if (pick) found[role] = pick.entity_id;
  }
  if (!found.plan) {
    // Without registry data (very old frontends): the sensor carrying a plan.
    found.plan = Object.keys(hass.states).find((id) => {
      const attributes = hass.states[id].attributes;
      return id.startsWith("sensor.") && Array.isArray(attributes.slots) && Array.isArray(attributes.loads);
    });
  }
  return found;
}

/** Local-time formatting in Home Assistant's time zone (GMT/BST and any other). */
class LocalTime {
  constructor(hass) {
    // The user's profile chooses the server's time zone or the browser's, as
    // Home Assistant's own panels do.
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const timeZone = hass.locale?.time_zone === "local" ? browserZone : hass.config?.time_zone || browserZone;
    this.timeZone = timeZone;
    this.locale = hass.locale?.language || hass.language || navigator.language || "en-GB";
    const setting = hass.locale?.time_format;
    let hour12;
    if (setting === "12" || setting === "24") hour12 = setting === "12";
    else {
      const probe = new Intl.DateTimeFormat(setting === "system" ? undefined : this.locale, { hour: "numeric" });
      hour12 = ["h11", "h12"].includes(probe.resolvedOptions().hourCycle);
    }
    this._parts = new Intl.DateTimeFormat("en-GB", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    this.hour12 = hour12;
    this._time = new Intl.DateTimeFormat(this.locale, hour12
      ? { timeZone, hour: "numeric", minute: "2-digit", hour12: true }
      : { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    this._day = new Intl.DateTimeFormat(this.locale, { timeZone, weekday: "short", day: "numeric", month: "short" });
    this._number = new Map();
    this._money = new Intl.NumberFormat(this.locale, { style: "currency", currency: hass.config?.currency || "GBP" });
  }

  /** Local date ("YYYY-MM-DD"), hour and minute of an instant (ms). */
  parts(ms) {
    const p = {};
    for (const { type, value } of this._parts.formatToParts(ms)) p[type] = value;
    return { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour) % 24, minute: Number(p.minute) };
  }

  time(ms) { return this._time.format(ms); }

  day(ms) { return this._day.format(ms); }

  number(value, digits = 1) {
    if (value === null || value === undefined) return "—";
    if (!this._number.has(digits)) {
      this._number.set(digits, new Intl.NumberFormat(this.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
    }
    return this._number.get(digits).format(value);
  }

  /** Money from pence. */
  money(pence) { return pence === null || pence === undefined ? "—" : this._money.format(pence / 100); }
}

/** kW of a load in each slot: from `kw` if the backend gives it, else energy over its on-slots. */
function loadPower(load, slotHours) {
  if (Array.isArray(load.kw)) return load.kw.map((value) => numberOrNull(value) || 0);
  const on = load.on || [];
  const count = on.filter(Boolean).length;
  const power = numberOrNull(load.power_kw) ?? (count ? (numberOrNull(load.energy_kwh) || 0) / (count * slotHours) : 0);
  return on.map((value) => (value ? power : 0));
}

/** The plan sensor's attributes as the card uses them. */
function planModel(stateObj) {
  const attributes = stateObj?.attributes || {};
  const slotMs = (numberOrNull(attributes.slot_minutes) || 30) * 60000;
  const pvKw = Array.isArray(attributes.pv_kw) ? attributes.pv_kw : [];
  const slots = (attributes.slots || []).map((slot, index) => ({
    index, iso: slot.start, start: Date.parse(slot.start), price: numberOrNull(slot.price),
    exportPrice: numberOrNull(slot.export_price), pv: numberOrNull(slot.pv_kw ?? pvKw[index]),
    // The plan's grid flows (kWh), where the backend gives them.
    importKwh: numberOrNull(slot.import_kwh), exportKwh: numberOrNull(slot.export_kwh),
    curtailedKwh: numberOrNull(slot.curtailed_kwh),
    // What accepted flexibility events asked of the slot (kW).
    capKw: numberOrNull(slot.max_import_kw), targetKw: numberOrNull(slot.min_import_kw),
  }));
  const loads = (attributes.loads || []).map((load, index) => ({
    ...load,
    color: PALETTE[index % PALETTE.length],
    wet: WET_GOODS.has(load.kind),
    battery: load.kind === "battery",
    power: loadPower(load, slotMs / 3600000),
    startSet: new Set((load.starts || []).map((start) => Date.parse(start))),
    max: numberOrNull(load.max_cycle_cost),
  }));
  const planned = attributes.planned && typeof attributes.planned === "object" ? attributes.planned : null;
  const events = (Array.isArray(attributes.flex_events) ? attributes.flex_events : [])
    .map((event) => ({
      ...event,
      startMs: Date.parse(event.start),
      endMs: Date.parse(event.end),
      down: event.direction === "down",
      // Pending and accepted events are planned around (bands, rows).
      live: event.status === "pending" || event.status === "accepted",
    }))
    .filter((event) => Number.isFinite(event.startMs) && Number.isFinite(event.endMs));
  const part = (item) => ({
    energy: numberOrNull(item?.energy_kwh),
    cost: numberOrNull(item?.cost) === null ? null : numberOrNull(item.cost) * 100,
  });
  const breakdown = (parts) => parts && typeof parts === "object" ? {
    loads: Object.fromEntries(Object.entries(parts.loads || {}).map(([id, item]) => [id, part(item)])),
    controlled: part(parts.controlled_loads),
    base: part(parts.base_load),
    battery: part(parts.battery),
    solar: parts.solar ? part(parts.solar) : null,
    export: parts.export ? part(parts.export) : null,
    gridImport: parts.grid_import ? part(parts.grid_import) : null,
    total: part(parts.total),
  } : null;
  return {
    slotMs,
    slots,
    loads,
    planned: breakdown(planned),
    today: breakdown(attributes.today),
    solar: attributes.solar && typeof attributes.solar === "object" ? attributes.solar : null,
    exportLimitKw: numberOrNull(attributes.export_limit_kw),
    created: attributes.created ? Date.parse(attributes.created) : null,
    baseKw: numberOrNull(attributes.base_load_kw) || 0,
    // The base load per slot (learnt from the house's history), if given.
    baseSlots: Array.isArray(attributes.base_kw) ? attributes.base_kw.map((kw) => numberOrNull(kw) || 0) : null,
    limitKw: numberOrNull(attributes.import_limit_kw),
    notes: Array.isArray(attributes.notes) ? attributes.notes : [],
    events,
    cost: stateNumber(stateObj),
  };
}

/** The live flexibility event whose window covers part of a slot, if any. */
const eventAt = (model, start) =>
  model.events.find((event) => event.live && event.startMs < start + model.slotMs && start < event.endMs);

const niceStep = (range, target) => {
  const raw = range / Math.max(target, 1);
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => raw <= s) || 10 * power;
  return step;
};

class HemsPlanCard extends HTMLElement {
  static getConfigElement() {
    return document.createElement(EDITOR_TAG);
  }

  static getStubConfig(hass) {
    const { plan } = findEntities(hass || { states: {} });
    return { ...(plan ? { entity: plan } : {}), flat_tariff: DEFAULTS.flat_tariff };
  }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._watched = [];
    this._timer = null;
    this._chartWidth = 0;
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.entity !== undefined && config.entity !== null && typeof config.entity !== "string") {
      throw new Error("entity must be a sensor's entity id");
    }
    const flat = config.flat_tariff === undefined || config.flat_tariff === "" ? DEFAULTS.flat_tariff : Number(config.flat_tariff);
    if (!Number.isFinite(flat) || flat < 0) throw new Error("flat_tariff must be a price in p/kWh");
    this._config = { ...DEFAULTS, ...config, flat_tariff: flat };
    this._watched = [];
    if (this._hass) this._update(true);
  }

  set hass(hass) {
    this._hass = hass;
    this._update(false);
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    const rows = this._rows || 24;
    return 2 + (this._config?.show_totals ? 4 : 0) + (this._config?.show_chart ? 5 : 0) + (this._config?.show_table ? Math.ceil(rows / 2) : 0);
  }

  getGridOptions() {
    return { columns: "full", min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    if (!this._resize) {
      this._resize = new ResizeObserver(() => {
        const chart = this.shadowRoot.querySelector(".chart-box");
        const width = chart ? Math.round(chart.clientWidth) : 0;
        if (width && Math.abs(width - this._chartWidth) > 4) this._renderChart();
      });
    }
    this._resize.observe(this);
    this._schedule();
  }

  disconnectedCallback() {
    this._resize?.disconnect();
    clearTimeout(this._timer);
    this._timer = null;
  }

  /** Re-render only when a watched entity's state object (or the config/locale) changed. */
  _update(force) {
    const hass = this._hass;
    if (!hass || !this._config) return;
    // The entities are looked up again only when the registry (or a watched
    // entity's presence) changes, not at every state change in the house.
    let ids = this._ids;
    const lookup = [hass.entities, this._config.entity];
    if (force || !ids || lookup.some((item, index) => item !== this._lookup?.[index]) ||
        Object.values(ids).some((id) => !hass.states[id]) || !ids.plan) {
      ids = findEntities(hass, this._config.entity);
      this._lookup = lookup;
    }
    const watched = [ids, hass.locale, hass.config?.time_zone, ...Object.values(ids).map((id) => hass.states[id])];
    const changed = force || watched.length !== this._watched.length ||
      watched.some((item, index) => (index === 0 ? JSON.stringify(item) !== JSON.stringify(this._watched[0]) : item !== this._watched[index]));
    if (!changed) return;
    this._watched = watched;
    this._ids = ids;
    this._render();
  }

  /** Re-render at every half-hour so the current slot moves on by itself. */
  _schedule() {
    clearTimeout(this._timer);
    if (!this.isConnected) return;
    const slotMs = this._model?.slotMs || 1800000;
    const wait = slotMs - (Date.now() % slotMs) + 250;
    this._timer = setTimeout(() => {
      this._render();
      this._schedule();
    }, wait);
  }

  _render() {
    const hass = this._hass;
    const config = this._config;
    if (!hass || !config) return;
    const ids = this._ids || {};
    const planState = ids.plan ? hass.states[ids.plan] : undefined;
    this._time = new LocalTime(hass);
    const now = Date.now();
    let body;
    if (!planState) {
      body = `<div class="message warning">${ids.plan && config.entity
        ? `Entity ${escapeHtml(config.entity)} not found.`
        : "No hems plan found: set up the hems integration, or pick its <i>Planned cost</i> sensor in the card's settings."}</div>`;
      this._model = null;
    } else {
      const model = planModel(planState);
      this._model = model;
      const visible = model.slots.filter((slot) => slot.start + model.slotMs > now);
      this._rows = visible.length;
      body = [
        this._headline(model, visible),
        config.show_totals ? this._totals(model, visible) : "",
        config.show_events ? this._events(model, now) : "",
        config.show_chart ? `<div class="chart-box" part="chart"></div>` : "",
        config.show_table ? this._table(model, visible, now) : "",
      ].join("");
    }
    this.shadowRoot.innerHTML = `<style>${STYLES}</style>
      <ha-card>
        ${config.title ? `<h1 class="card-header">${escapeHtml(config.title)}</h1>` : ""}
        <div class="content">${body}</div>
      </ha-card>`;
    if (planState && config.show_chart) this._renderChart();
  }

  _headline(model, visible) {
    const t = this._time;
    if (!model.slots.length) return `<div class="message">No plan yet: waiting for prices.</div>`;
    const last = model.slots[model.slots.length - 1];
    const total = model.planned ? model.planned.total.cost : (model.cost === null ? null : model.cost * 100);
    const parts = [`<span><span data-summary="cost">Planned from now ${t.money(total)}</span>${model.planned ? ` ${this._breakdown(model, model.planned, "")}` : ""}</span>`];
    if (model.created) parts.push(`<span>made ${escapeHtml(t.day(model.created))} ${escapeHtml(t.time(model.created))}</span>`);
    const end = last.start + model.slotMs;
    parts.push(`<span>until ${escapeHtml(t.day(end))} ${escapeHtml(t.time(end))}</span>`);
    const notes = model.notes.length
      ? `<ul class="notes">${model.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join("")}</ul>` : "";
    const empty = visible.length ? "" : `<div class="message">Every planned half-hour has passed: waiting for the next plan.</div>`;
    const today = model.today
      ? `<div class="headline today"><span><span data-summary="today">Today so far ${t.money(model.today.total.cost)}</span> ${this._breakdown(model, model.today, "today-")}</span><span class="hint">(as planned, from the half-hours that passed)</span></div>`
      : "";
    const sun = model.solar?.summary
      ? `<div class="sun" data-sun="${model.solar.planned_with_pv ? "planned" : "none"}">${escapeHtml(model.solar.summary)}${model.solar.sun ? ` ${escapeHtml(model.solar.sun)}` : ""}</div>` : "";
    return `<div class="headline">${parts.join('<span class="dot">·</span>')}</div>${today}${sun}${notes}${empty}`;
  }

  /**
   * The parts of a total, each with its sign: loads + base load + battery -
   * solar used in the house - export revenue = import cost - export revenue.
   */
  _breakdown(model, parts, prefix) {
    const t = this._time;
    const items = [["loads", "controlled loads", parts.controlled], ["base", "base load", parts.base]];
    if (model.loads.some((load) => load.battery)) items.push(["battery", "battery", parts.battery]);
    const hasSun = model.slots.some((slot) => (slot.pv || 0) > 0) || Math.abs(parts.solar?.cost || 0) > 0;
    const sells = model.slots.some((slot) => slot.exportPrice !== null) || Math.abs(parts.export?.cost || 0) > 0;
    if (parts.solar && hasSun) items.push(["solar", "solar used", parts.solar]);
    if (parts.export && sells) items.push(["export", "export", parts.export]);
    const text = items.map(([key, label, item], index) => {
      const cost = item.cost || 0;
      const sign = cost < 0 ? "−" : "+";
      const lead = index === 0 ? (cost < 0 ? "−" : "") : ` ${sign} `;
      return `${lead}<span data-part="${prefix}${key}" data-pence="${cost.toFixed(4)}">${label} ${t.money(Math.abs(cost))}</span>`;
    }).join("");
    // -0 would show as "-£0.00".
    const revenue = 0 - (parts.export?.cost || 0) + 0;
    const grid = parts.gridImport && (hasSun || sells)
      ? ` <span class="grid-sum">(= import <span data-part="${prefix}import" data-pence="${(parts.gridImport.cost || 0).toFixed(4)}">${t.money(parts.gridImport.cost)}</span> − export <span data-part="${prefix}revenue" data-pence="${revenue.toFixed(4)}">${t.money(revenue)}</span>)</span>`
      : "";
    return `<span class="breakdown">= ${text}${grid}</span>`;
  }

  _totals(model, visible) {
    const t = this._time;
    const hass = this._hass;
    const ids = this._ids;
    const flat = this._config.flat_tariff;
    const state = (role) => (ids[role] ? hass.states[ids[role]] : undefined);
    const costGbp = stateNumber(state("cost"));
    const energy = stateNumber(state("energy"));
    const cost = costGbp === null ? null : costGbp * 100;
    let average = stateNumber(state("average"));
    if (average === null && cost !== null && energy) average = cost / energy;
    const mean = stateNumber(state("mean"));
    const today = {
      energy, cost, average, mean,
      atMean: energy === null || mean === null ? null : energy * mean,
      atFlat: energy === null ? null : energy * flat,
    };
    const visibleStarts = new Set(visible.map((slot) => slot.index));
    let plannedEnergy = 0;
    let plannedCost = 0;
    if (model.planned) {
      plannedEnergy = model.planned.controlled.energy || 0;
      plannedCost = model.planned.controlled.cost || 0;
    } else {
      for (const load of model.loads) {
        if (load.battery) continue;
        plannedEnergy += numberOrNull(load.energy_kwh) || 0;
        plannedCost += numberOrNull(load.cost) || 0;
      }
    }
    const prices = model.slots.filter((slot) => visibleStarts.has(slot.index) && slot.price !== null).map((slot) => slot.price);
    const horizonMean = prices.length ? prices.reduce((a, b) => a + b, 0) / prices.length : null;
    const planned = {
      energy: plannedEnergy, cost: plannedCost, average: plannedEnergy ? plannedCost / plannedEnergy : null, mean: horizonMean,
      atMean: horizonMean === null ? null : plannedEnergy * horizonMean, atFlat: plannedEnergy * flat,
    };
    const saving = (col) => (col.cost === null || col.atFlat === null ? null : col.atFlat - col.cost);
    const cell = (name, key, text, cls = "") => `<td class="${cls}" data-total="${name}-${key}">${text}</td>`;
    const rows = [
      ["energy", "Energy", (c) => (c.energy === null ? "—" : `${t.number(c.energy, 2)} kWh`)],
      ["cost", "Cost", (c) => t.money(c.cost)],
      ["average", "Average paid", (c) => (c.average === null ? "—" : `${t.number(c.average, 2)} p/kWh`)],
      ["mean", "At the mean Agile price", (c) => (c.atMean === null ? "—" : `${t.money(c.atMean)} <small>@ ${t.number(c.mean, 2)}p</small>`)],
      ["flat", `At a flat ${t.number(flat, 2)} p/kWh`, (c) => t.money(c.atFlat)],
      ["saving", "Saved against flat", (c) => {
        const value = saving(c);
        return value === null ? "—" : `<span class="${value >= 0 ? "good" : "bad"}">${t.money(value)}</span>`;
      }],
    ];
    return `<table class="totals">
      <thead><tr><th scope="col">Controlled loads</th><th>Today so far</th><th>Planned from now</th></tr></thead>
      <tbody>${rows.map(([key, label, fn]) =>
        `<tr><th scope="row">${label}</th>${cell("today", key, fn(today))}${cell("planned", key, fn(planned))}</tr>`).join("")}
      </tbody></table>`;
  }

  _table(model, visible, now) {
    const t = this._time;
    if (!visible.length) return "";
    const halves = [];
    for (const slot of visible) {
      const local = t.parts(slot.start);
      const key = `${local.date}-${local.hour < 12 ? "am" : "pm"}`;
      if (!halves.length || halves[halves.length - 1].key !== key) halves.push({ key, slots: [] });
      halves[halves.length - 1].slots.push(slot);
    }
    const prices = visible.map((slot) => slot.price).filter((price) => price !== null);
    const top = Math.max(1, ...prices);
    const hasExport = model.slots.some((slot) => slot.exportPrice !== null);
    const hasPv = model.slots.some((slot) => (slot.pv || 0) > 0);
    const hasGrid = (hasPv || hasExport) && model.slots.some((slot) => slot.importKwh !== null);
    this._columns = { hasExport, hasPv, hasGrid };
    const head = `<thead><tr><th class="time">Time</th><th class="price">p/kWh</th>${hasExport ? `<th class="export" title="paid for export">export<small>p/kWh</small></th>` : ""}${hasPv ? `<th class="pv" title="solar forecast">solar<small>kW</small></th>` : ""}${hasGrid ? `<th class="grid" title="from the grid (+) or sold to it (−)">grid<small>kWh</small></th>` : ""}${model.loads.map((load) =>
      `<th class="load" style="--c:${load.color}" title="${escapeHtml(load.name)}${load.wet ? ": pence for a cycle started in each half-hour" : ""}">
        <span class="swatch"></span>${escapeHtml(load.name)}${load.wet ? "<small>p/cycle</small>" : ""}</th>`).join("")}</tr></thead>`;
    const blocks = halves.map((half) => {
      const first = half.slots[0].start;
      const end = half.slots[half.slots.length - 1].start + model.slotMs;
      const rows = half.slots.map((slot) => this._row(model, slot, now, top)).join("");
      return `<section class="half" data-half="${half.key}">
        <h2>${escapeHtml(t.day(first))} <span>${escapeHtml(t.time(first))}–${escapeHtml(t.time(end))}</span></h2>
        <table class="plan${t.hour12 ? " h12" : ""}">${head}<tbody>${rows}</tbody></table></section>`;
    }).join("");
    const wet = model.loads.some((load) => load.wet);
    const runners = model.loads.filter((load) => !load.battery);
    const runColours = runners.length ? runners.map((load) => load.color) : [PALETTE[0]];
    const runKey = runColours.length > 1
      ? `linear-gradient(90deg, ${runColours.map((c, i) => `${c} ${(i * 100) / runColours.length}% ${((i + 1) * 100) / runColours.length}%`).join(", ")})`
      : runColours[0];
    const battery = model.loads.find((load) => load.battery);
    const legend = `<div class="legend">
      <span><i class="key run" style="background:${runKey}"></i>runs (in the load's colour)</span>
      ${battery ? `<span><i class="key charge" style="--c:${battery.color}"></i>battery charges from the grid</span><span><i class="key hold">hold</i>battery keeps its charge</span>${model.loads.some((load) => load.battery && (load.modes || []).includes("force_discharge")) ? `<span><i class="key sell">sell</i>battery sells to the grid</span>` : ""}` : ""}
      ${wet ? `<span><i class="key start"></i>chosen start</span><span><i class="key over"></i>start above the maximum cycle cost</span>` : ""}
      ${["down", "up"].filter((d) => model.events.some((e) => e.live && (e.down ? "down" : "up") === d)).map((d) =>
        `<span><i class="key flex-key ${d}"></i>${FLEX_DIRECTIONS[d]} event</span>`).join("")}
      <span><i class="key now"></i>now</span></div>`;
    return `<div class="halves">${blocks}</div>${legend}${this._statuses(model)}`;
  }

  /** One sentence per load: what is planned next, or why nothing is. */
  _statuses(model) {
    const items = model.loads.filter((load) => load.status);
    if (!items.length) return "";
    return `<ul class="statuses">${items.map((load) =>
      `<li data-load="${escapeHtml(load.id)}" style="--c:${load.color}"><span class="swatch"></span><b>${escapeHtml(load.name)}</b>: ${escapeHtml(load.status)}</li>`).join("")}</ul>`;
  }

  /** The window of an event in local time: "Tue 1 Dec 17:00–18:00". */
  _window(event) {
    const t = this._time;
    const sameDay = t.parts(event.startMs).date === t.parts(event.endMs - 1).date;
    return `${t.day(event.startMs)} ${t.time(event.startMs)}–${sameDay ? "" : `${t.day(event.endMs)} `}${t.time(event.endMs)}`;
  }

  /**
   * The flexibility events beside the plan: per event its window, what it
   * asks, what the plan imports in it and, once measured, what it delivered.
   * Each figure is worked out from the ones beside it.
   */
  _events(model, now) {
    if (!model.events.length) return "";
    const t = this._time;
    const kwh = (value) => `${t.number(value, 2)} kWh`;
    const figure = (name, value, text) =>
      `<span class="figure" data-figure="${name}"${value === null || value === undefined ? "" : ` data-kwh="${Number(value)}"`}>${text}</span>`;
    const names = new Map(model.loads.map((load) => [load.id, load.name]));
    const items = model.events.map((event) => {
      const direction = event.down ? "down" : "up";
      const target = numberOrNull(event.target_kw);
      const targetKwh = numberOrNull(event.target_kwh);
      const baseline = numberOrNull(event.baseline_kwh);
      const asked = numberOrNull(event.asked_kwh);
      const planned = numberOrNull(event.planned_import_kwh);
      const reward = numberOrNull(event.reward_p_per_kwh);
      const hours = numberOrNull(event.hours) ?? (event.endMs - event.startMs) / 3600000;
      const ended = event.endMs <= now;
      const figures = [];
      const bound = event.down ? "at most" : "at least";
      figures.push(target === null
        ? figure("ask", null, reward === null ? "asks nothing measurable" : "a reward only, no target")
        : figure("target", targetKwh, `asks import ${bound} ${t.number(target, 1)} kW = ${kwh(targetKwh)} over ${t.number(hours, 1)} h`));
      if (reward !== null) {
        const points = numberOrNull(event.points_per_kwh);
        figures.push(figure("reward", null, `pays ${t.number(reward, 2)} p/kWh${points !== null ? ` (${t.number(points, 0)} points)` : ""}`));
      }
      if (event.status === "accepted" && !ended) {
        // What the plan did to the window's prices (the table's p/kWh).
        const price = numberOrNull(event.price);
        const delta = numberOrNull(event.price_delta) || 0;
        const parts = [];
        if (price !== null) parts.push(`prices the window at ${t.number(price, 2)}p`);
        if (Math.abs(delta) > 1e-9) parts.push(`${delta > 0 ? "adds" : "takes"} ${t.number(Math.abs(delta), 2)}p ${delta > 0 ? "to" : "off"} its prices`);
        if (parts.length) figures.push(`<span class="figure" data-figure="prices">the plan ${parts.join(" and ")}</span>`);
      }
      if (baseline !== null) figures.push(figure("baseline", baseline, `baseline ${kwh(baseline)}`));
      if (asked !== null) {
        const how = event.down ? `baseline ${t.number(baseline, 2)} − ${t.number(targetKwh, 2)}` : `${t.number(targetKwh, 2)} − baseline ${t.number(baseline, 2)}`;
        figures.push(figure("asked", asked, `asked ${kwh(asked)} (= ${how}, at least 0)`));
      } else if (target !== null) {
        figures.push(figure("asked", null, "asked: not known (no baseline from the grid meter yet)"));
      }
      if (planned !== null) {
        const slots = model.slots.filter((slot) => slot.start < event.endMs && event.startMs < slot.start + model.slotMs).length;
        // The base load and every load in the window: they add up to the
        // import where no sun or export is in it.
        const uses = [["base load", numberOrNull(event.base_kwh) || 0],
          ...Object.entries(event.planned_kwh || {}).map(([id, value]) => [names.get(id) || id, numberOrNull(value) || 0])]
          .filter(([, value]) => Math.abs(value) >= 0.005);
        const sum = uses.reduce((total, [, value]) => total + value, 0);
        const parts = uses.map(([name, value], index) =>
          `${index ? (value < 0 ? " − " : " + ") : value < 0 ? "−" : ""}${escapeHtml(name)} ${t.number(Math.abs(value), 2)}`).join("");
        const adds = uses.length && Math.abs(sum - planned) < 0.005;
        figures.push(figure("planned", planned, `planned import ${kwh(planned)} (the ${slots} half-hour${slots === 1 ? "" : "s"} marked in the table${adds ? ` = ${parts}` : ""})`));
        if (targetKwh !== null && !ended) {
          // Against the target: only an accepted event is planned to.
          let verdict;
          if (event.status !== "accepted") verdict = "not planned to until you take part";
          else if (event.down) verdict = planned <= targetKwh + 0.005 ? `within the ${kwh(targetKwh)} cap` : `${kwh(planned - targetKwh)} above the cap`;
          else verdict = planned >= targetKwh - 0.005 ? `meets the ${kwh(targetKwh)} target` : `${kwh(targetKwh - planned)} short of the target`;
          figures.push(`<span class="figure" data-figure="verdict">${verdict}</span>`);
        }
        if (!adds && uses.length) figures.push(`<span class="figure" data-figure="loads">in the window: ${parts} kWh (the import differs by the sun used and what is sold)</span>`);
      }
      const after = [];
      const metered = numberOrNull(event.metered_kwh);
      const delivered = numberOrNull(event.delivered_kwh);
      if (metered !== null) after.push(figure("metered", metered, `metered ${kwh(metered)}${event.complete === false ? " so far" : ""}`));
      if (delivered !== null) {
        const how = event.down ? "baseline − metered" : "metered − baseline";
        const share = asked ? ` (${t.number((Math.max(0, delivered) / asked) * 100, 0)}%)` : "";
        const against = asked !== null ? ` of ${kwh(asked)} asked${share}` : "";
        after.push(figure("delivered", delivered, `<b>delivered ${kwh(delivered)}</b>${against} = ${how}`));
        const earned = numberOrNull(event.reward_p);
        if (earned !== null && reward !== null) {
          after.push(`<span class="figure" data-figure="earned" data-pence="${earned}">earned ${t.money(earned)} = ${t.number(Math.max(0, delivered), 2)} kWh × ${t.number(reward, 2)}p</span>`);
        }
      } else if (ended && event.status === "accepted") {
        after.push(figure("delivered", null, "delivered: not measured (no grid meter readings)"));
      }
      const status = ended
        ? (event.status === "accepted" ? (event.reported ? "finished" : "finished, measuring") : `finished (${FLEX_STATUS[event.status] || event.status})`)
        : event.startMs <= now && event.status === "accepted" ? "running now" : FLEX_STATUS[event.status] || event.status;
      return `<li class="flex-event ${direction}${event.live ? "" : " inactive"}" data-event="${escapeHtml(event.key || event.id)}" data-status="${escapeHtml(event.status)}">
        <div class="flex-head"><i class="flex-key ${direction}"></i><b>${escapeHtml(this._window(event))}</b>
          <span class="flex-dir">${FLEX_DIRECTIONS[direction]}</span>${event.title ? ` <span class="flex-title">${escapeHtml(event.title)}</span>` : ""}
          <span class="flex-status">${escapeHtml(status)}</span></div>
        <div class="flex-figures">${figures.join("")}</div>
        ${after.length ? `<div class="flex-figures after">${after.join("")}</div>` : ""}</li>`;
    }).join("");
    return `<section class="flex-events"><h2>Flexibility events</h2><ul>${items}</ul></section>`;
  }

  _row(model, slot, now, top) {
    const t = this._time;
    const current = slot.start <= now && now < slot.start + model.slotMs;
    const price = slot.price;
    const width = price === null || price <= 0 ? 0 : Math.min(100, (price / top) * 100);
    const cells = model.loads.map((load) => {
      const i = slot.index;
      const on = Boolean(load.on?.[i]);
      const classes = ["load"];
      let text = "";
      let title = load.name;
      if (load.battery) {
        const mode = load.modes?.[i];
        if (mode && BATTERY_MODES[mode]) {
          classes.push(mode === "force_charge" ? "charge" : mode === "force_discharge" ? "sell" : "hold");
          text = BATTERY_MODES[mode];
          title += `: ${mode.replace("_", " ")}`;
        } else if (!load.modes && Math.abs(load.power[i] || 0) >= 0.05) {
          const kw = load.power[i];
          classes.push(kw > 0 ? "charge" : "sell");
          text = `${kw > 0 ? "+" : "−"}${t.number(Math.abs(kw), 1)}`;
          title += `: ${kw > 0 ? "charge" : "discharge"} ${t.number(Math.abs(kw), 1)} kW`;
        }
        const soc = numberOrNull(load.soc_kwh?.[i]);
        if (soc !== null) title += `; ${t.number(soc, 1)} kWh stored at the start`;
        if (on) classes.push("on");
      } else if (load.wet) {
        const cost = numberOrNull(load.cycle_costs?.[i]);
        if (on) classes.push("on");
        if (cost !== null) {
          text = t.number(cost, 1);
          title += `: a cycle started now costs ${t.number(cost, 1)}p`;
          if (load.max !== null && cost > load.max) {
            classes.push("over");
            title += ` (above the maximum ${t.number(load.max, 1)}p)`;
          }
        }
        if (load.startSet.has(slot.start)) {
          classes.push("start");
          title += ": chosen start";
        }
      } else if (on) {
        classes.push("on");
        text = "●";
        title += `: on, ${t.number(load.power[i], 1)} kW`;
      }
      return `<td class="${classes.join(" ")}" data-load="${escapeHtml(load.id)}" style="--c:${load.color}" title="${escapeHtml(title)}">${text}</td>`;
    }).join("");
    const event = eventAt(model, slot.start);
    const flex = event ? ` flex ${event.down ? "down" : "up"}" data-event="${escapeHtml(event.key || event.id)}` : "";
    const flexTitle = event ? ` title="${escapeHtml(`${FLEX_DIRECTIONS[event.down ? "down" : "up"]}: ${this._window(event)}`)}"` : "";
    return `<tr class="slot${current ? " now" : ""}${flex}" data-start="${escapeHtml(slot.iso)}" data-index="${slot.index}">
      <td class="time"${flexTitle}>${escapeHtml(t.time(slot.start))}</td>
      <td class="price${price !== null && price < 0 ? " negative" : ""}" style="--w:${width.toFixed(1)}%">${t.number(price, 2)}</td>${this._columns?.hasExport ? `<td class="export">${t.number(slot.exportPrice, 2)}</td>` : ""}${this._columns?.hasPv ? `<td class="pv">${slot.pv ? t.number(slot.pv, 1) : ""}</td>` : ""}${this._columns?.hasGrid ? this._gridCell(slot) : ""}${cells}</tr>`;
  }

  /** The grid's part of a slot: import (+) or export (−), kWh; curtailment in the title. */
  _gridCell(slot) {
    const t = this._time;
    const sold = slot.exportKwh || 0;
    const bought = slot.importKwh || 0;
    const value = sold > 0 ? -sold : bought;
    const curtailed = (slot.curtailedKwh || 0) > 0 ? `; ${t.number(slot.curtailedKwh, 2)} kWh of PV curtailed` : "";
    const title = sold > 0 ? `sold ${t.number(sold, 2)} kWh${curtailed}` : `bought ${t.number(bought, 2)} kWh${curtailed}`;
    return `<td class="grid${sold > 0 ? " sold" : ""}${curtailed ? " curtailed" : ""}" data-import="${bought}" data-export="${sold}" title="${escapeHtml(title)}">${Math.abs(value) < 0.005 ? "0" : `${value < 0 ? "−" : ""}${t.number(Math.abs(value), 2)}`}</td>`;
  }

  /** The chart: prices as a step line over the planned load stacked in kW. */
  _renderChart() {
    const box = this.shadowRoot.querySelector(".chart-box");
    const model = this._model;
    if (!box || !model || !this._hass) return;
    const t = this._time;
    const width = Math.max(280, Math.round(box.clientWidth || this.clientWidth || 600));
    this._chartWidth = width;
    const height = width < 500 ? 190 : 240;
    const now = Date.now();
    const slotMs = model.slotMs;

    // Prices from local midnight (current price sensor), and the plan's.
    const priceAt = new Map();
    const current = this._ids.current ? this._hass.states[this._ids.current] : undefined;
    for (const item of current?.attributes?.prices || []) {
      const value = numberOrNull(item.value);
      if (value !== null) priceAt.set(Date.parse(item.start), value);
    }
    for (const slot of model.slots) if (slot.price !== null) priceAt.set(slot.start, slot.price);
    const planIndex = new Map(model.slots.map((slot) => [slot.start, slot.index]));
    const starts = [...new Set([...priceAt.keys(), ...planIndex.keys()])].sort((a, b) => a - b);
    if (!starts.length) {
      box.innerHTML = "";
      return;
    }
    const x0 = starts[0];
    const x1 = starts[starts.length - 1] + slotMs;

    // What the grid sees per slot: the loads (a charging battery among them)
    // stacked, less what a discharging battery covers, drawn hatched on top.
    const stacks = starts.map((start) => {
      const index = planIndex.get(start);
      const stack = { layers: [], gross: 0, net: 0, covered: 0, sun: 0, exported: 0 };
      if (index === undefined) return stack;
      const baseKw = model.baseSlots ? model.baseSlots[index] ?? model.baseKw : model.baseKw;
      if (baseKw > 0) stack.layers.push({ id: "__base", name: "Base load", color: "var(--hems-base-color)", kw: baseKw });
      let discharge = 0;
      for (const load of model.loads) {
        const kw = load.power[index] || 0;
        if (kw > 0) stack.layers.push({ id: load.id, name: load.name, color: load.color, kw });
        else if (kw < 0) discharge -= kw;
      }
      stack.gross = stack.layers.reduce((sum, layer) => sum + layer.kw, 0);
      const slot = model.slots[index];
      if (slot.importKwh !== null) {
        // The plan's own grid flows: what the grid does not give, the sun
        // (first) and the battery cover; what is sold hangs below zero.
        const hours = slotMs / 3600000;
        stack.net = slot.importKwh / hours;
        stack.exported = (slot.exportKwh || 0) / hours;
        const pvUsed = Math.max(0, (slot.pv || 0) - (slot.curtailedKwh || 0) / hours);
        stack.sun = Math.min(Math.max(stack.gross - stack.net, 0), pvUsed);
        stack.covered = Math.max(stack.gross - stack.net - stack.sun, 0);
      } else {
        stack.net = Math.max(0, stack.gross - discharge);
        stack.covered = stack.gross - stack.net;
      }
      return stack;
    });
    const kwTop = Math.max(1, model.limitKw || 0, ...stacks.map((stack) => stack.gross),
      ...model.slots.map((slot) => Math.max(slot.capKw || 0, slot.targetKw || 0)),
      ...model.slots.map((slot) => slot.pv || 0)) * 1.1;
    const sold = Math.max(0, ...stacks.map((stack) => stack.exported));
    const kwMin = sold > 0 ? -sold * 1.1 : 0;
    const priceValues = [...priceAt.values()];
    const pMin = Math.min(0, ...priceValues);
    const pMax = Math.max(1, ...priceValues) * 1.08;

    const pad = { left: 40, right: 44, top: 18, bottom: 26 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const x = (ms) => pad.left + ((ms - x0) / (x1 - x0)) * plotW;
    const yP = (p) => pad.top + (1 - (p - pMin) / (pMax - pMin)) * plotH;
    const yK = (kw) => pad.top + (1 - (kw - kwMin) / (kwTop - kwMin)) * plotH;
    const f = (v) => v.toFixed(1);
    const out = [];

    // Grid and price axis (left), kW axis (right).
    const pStep = niceStep(pMax - pMin, height < 200 ? 4 : 5);
    for (let p = Math.ceil(pMin / pStep) * pStep; p <= pMax; p += pStep) {
      out.push(`<line class="grid${Math.abs(p) < 1e-9 ? " zero" : ""}" x1="${pad.left}" x2="${width - pad.right}" y1="${f(yP(p))}" y2="${f(yP(p))}"/>`);
      out.push(`<text class="axis" x="${pad.left - 4}" y="${f(yP(p) + 3)}" text-anchor="end">${t.number(p, pStep < 1 ? 1 : 0)}p</text>`);
    }
    const kStep = niceStep(kwTop - kwMin, 4);
    for (let k = Math.ceil(kwMin / kStep) * kStep; k <= kwTop; k += kStep) {
      out.push(`<text class="axis kw" x="${width - pad.right + 4}" y="${f(yK(k) + 3)}">${t.number(k, kStep < 1 ? 1 : 0)} kW</text>`);
    }
    if (kwMin < 0) out.push(`<line class="grid zero kw-zero" x1="${pad.left}" x2="${width - pad.right}" y1="${f(yK(0))}" y2="${f(yK(0))}"/>`);
    // What has passed is shaded.
    if (now > x0) out.push(`<rect class="past" x="${pad.left}" y="${pad.top}" width="${f(Math.min(x(now), x(x1)) - pad.left)}" height="${plotH}"/>`);
    // Flexibility event windows: a band over their half-hours, a strip and a
    // label along the top (turn-down and turn-up in their own colours).
    const bands = model.events.filter((event) => event.live && event.endMs > x0 && event.startMs < x1);
    for (const event of bands) {
      const a = Math.max(event.startMs, x0);
      const b = Math.min(event.endMs, x1);
      const direction = event.down ? "down" : "up";
      const label = `${FLEX_DIRECTIONS[direction]} ${this._window(event)}${event.status === "pending" ? " (not answered)" : ""}`;
      out.push(`<rect class="flex-band ${direction}${event.status === "pending" ? " pending" : ""}" data-event="${escapeHtml(event.key || event.id)}" data-start="${new Date(a).toISOString()}" data-end="${new Date(b).toISOString()}" x="${f(x(a))}" y="${pad.top}" width="${f(x(b) - x(a))}" height="${plotH}"><title>${escapeHtml(label)}</title></rect>`);
      out.push(`<rect class="flex-strip ${direction}" x="${f(x(a))}" y="${pad.top - 3}" width="${f(x(b) - x(a))}" height="3"/>`);
      // Above the plot, after the "now" label if that is in the way.
      const nowX = x(now);
      const labelX = nowX > x(a) - 12 && nowX < x(a) + 24 ? nowX + 14 : x(a);
      const text = event.down ? "▼ turn down" : "▲ turn up";
      out.push(`<text class="flex-label ${direction}" x="${f(labelX)}" y="${pad.top - 6}">${text}</text>`);
    }

    // Stacked load (kW), solid up to the grid import, hatched above it where
    // the battery covers the rest.
    out.push(`<defs><pattern id="hems-covered" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">
      <rect width="5" height="5" fill="transparent"/><line x1="0" y1="0" x2="0" y2="5" stroke="var(--secondary-text-color)" stroke-width="2.5"/></pattern>
      <pattern id="hems-sun" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">
      <rect width="5" height="5" fill="transparent"/><line x1="0" y1="0" x2="0" y2="5" stroke="#fbc02d" stroke-width="2.5"/></pattern></defs>`);
    const slotW = plotW / ((x1 - x0) / slotMs);
    starts.forEach((start, i) => {
      const stack = stacks[i];
      let base = 0;
      for (const layer of stack.layers) {
        const top = Math.min(base + layer.kw, stack.net);
        if (top > base) {
          out.push(`<rect class="stack" data-load="${escapeHtml(layer.id)}" x="${f(x(start))}" width="${f(Math.max(slotW - 0.5, 0.5))}" y="${f(yK(top))}" height="${f(yK(base) - yK(top))}" fill="${layer.color}"/>`);
        }
        // The part the grid does not give (the sun or the battery does), faint
        // under the hatching, so every load still shows in its colour.
        const low = Math.max(base, stack.net);
        if (base + layer.kw > low + 1e-9) {
          out.push(`<rect class="stack-covered" data-load="${escapeHtml(layer.id)}" x="${f(x(start))}" width="${f(Math.max(slotW - 0.5, 0.5))}" y="${f(yK(base + layer.kw))}" height="${f(yK(low) - yK(base + layer.kw))}" fill="${layer.color}"/>`);
        }
        base += layer.kw;
      }
      const w = f(Math.max(slotW - 0.5, 0.5));
      if (stack.sun > 1e-9) {
        out.push(`<rect class="sun-covered" x="${f(x(start))}" width="${w}" y="${f(yK(stack.net + stack.sun))}" height="${f(yK(stack.net) - yK(stack.net + stack.sun))}" fill="url(#hems-sun)"/>`);
      }
      if (stack.covered > 1e-9) {
        const low = stack.net + stack.sun;
        out.push(`<rect class="battery-covered" x="${f(x(start))}" width="${w}" y="${f(yK(low + stack.covered))}" height="${f(yK(low) - yK(low + stack.covered))}" fill="url(#hems-covered)"/>`);
      }
      if (stack.exported > 1e-9) {
        out.push(`<rect class="export-bar" x="${f(x(start))}" width="${w}" y="${f(yK(0))}" height="${f(yK(-stack.exported) - yK(0))}"/>`);
      }
    });
    // The grid import as a step line on the kW scale.
    let grid = "";
    starts.forEach((start, i) => {
      if (planIndex.get(start) === undefined) return;
      grid += `${grid ? "L" : "M"}${f(x(start))},${f(yK(stacks[i].net))}H${f(x(start + slotMs))}`;
    });
    if (grid) out.push(`<path class="grid-import" d="${grid}"/>`);
    // The solar forecast (kW), where there is one.
    let sun = "";
    starts.forEach((start) => {
      const index = planIndex.get(start);
      const pv = index === undefined ? null : model.slots[index].pv;
      if (pv === null || pv === undefined) return;
      sun += `${sun ? "L" : "M"}${f(x(start))},${f(yK(pv))}H${f(x(start + slotMs))}`;
    });
    const hasSun = model.slots.some((slot) => (slot.pv || 0) > 0);
    if (hasSun) out.push(`<path class="pv-line" d="${sun}"/>`);
    // Each battery's charge, 0 at the bottom to full at the top of the chart.
    const ySoc = (fraction) => pad.top + (1 - Math.min(Math.max(fraction, 0), 1)) * plotH;
    const socLoads = model.loads.filter((load) => load.battery && Array.isArray(load.soc_kwh) && numberOrNull(load.capacity_kwh));
    for (const load of socLoads) {
      const capacity = numberOrNull(load.capacity_kwh);
      let line = "";
      starts.forEach((start) => {
        const index = planIndex.get(start);
        const soc = index === undefined ? null : numberOrNull(load.soc_kwh[index]);
        if (soc === null) return;
        line += `${line ? "L" : "M"}${f(x(start))},${f(ySoc(soc / capacity))}`;
        if (index === model.slots.length - 1) {
          const end = numberOrNull(load.soc_kwh[index + 1]);
          if (end !== null) line += `L${f(x(start + slotMs))},${f(ySoc(end / capacity))}`;
        }
      });
      if (line) out.push(`<path class="soc-line" data-load="${escapeHtml(load.id)}" style="stroke:${load.color}" d="${line}"/>`);
    }

    // A battery charging from the grid (its power is not in the plan): a strip
    // along the bottom of its half-hours.
    const strips = model.loads.filter((load) => load.battery && load.modes && !load.power.some((kw) => kw > 0));
    strips.forEach((load, n) => {
      starts.forEach((start) => {
        const index = planIndex.get(start);
        if (index === undefined || load.modes[index] !== "force_charge") return;
        out.push(`<rect class="battery-strip" data-load="${escapeHtml(load.id)}" x="${f(x(start))}" width="${f(Math.max(slotW - 0.5, 0.5))}" y="${f(pad.top + plotH - 5 * (n + 1))}" height="4" fill="${load.color}"/>`);
      });
    });

    // Price as a step line.
    let path = "";
    let previous = null;
    for (const start of starts) {
      const price = priceAt.get(start);
      if (price === undefined) {
        previous = null;
        continue;
      }
      const command = previous === null || previous !== start ? "M" : "L";
      path += `${command}${f(x(start))},${f(yP(price))}H${f(x(start + slotMs))}`;
      previous = start + slotMs;
    }
    out.push(`<path class="price-line" d="${path}"/>`);

    // What accepted events ask of each half-hour: a cap (turn-down) or a
    // target (turn-up) on the grid import, a step line on the kW scale.
    for (const [key, direction] of [["capKw", "down"], ["targetKw", "up"]]) {
      let line = "";
      let last = null;
      for (const slot of model.slots) {
        if (slot[key] === null) {
          last = null;
          continue;
        }
        line += `${last === slot.start ? "L" : "M"}${f(x(slot.start))},${f(yK(slot[key]))}H${f(x(slot.start + slotMs))}`;
        last = slot.start + slotMs;
      }
      if (line) out.push(`<path class="flex-target ${direction}" d="${line}"/>`);
    }

    // Import limit.
    if (model.limitKw) {
      const y = f(yK(model.limitKw));
      out.push(`<line class="import-limit" data-kw="${model.limitKw}" x1="${pad.left}" x2="${width - pad.right}" y1="${y}" y2="${y}"/>`);
      // Above its line, unless that is the day labels' row: then below it.
      const above = yK(model.limitKw) - 4;
      const labelY = above < pad.top + 24 ? yK(model.limitKw) + 12 : above;
      out.push(`<text class="limit-label" x="${width - pad.right - 4}" y="${f(labelY)}" text-anchor="end">import limit ${t.number(model.limitKw, 1)} kW</text>`);
    }

    // Time axis: labels every 3 or 6 hours, a line at each local midnight.
    // As many hours between labels as a label needs room ("12:00 AM" is wider).
    const hourPx = plotW / ((x1 - x0) / 3600000);
    const labelPx = t.hour12 ? 54 : 36;
    const every = [3, 6, 12, 24].find((hours) => hours * hourPx >= labelPx) || 24;
    for (const start of starts) {
      const local = t.parts(start);
      if (local.minute !== 0) continue;
      if (local.hour === 0 && start > x0) {
        out.push(`<line class="midnight" x1="${f(x(start))}" x2="${f(x(start))}" y1="${pad.top}" y2="${height - pad.bottom}"/>`);
        out.push(`<text class="day" x="${f(x(start) + 3)}" y="${pad.top + 10}">${escapeHtml(t.day(start))}</text>`);
      }
      if (local.hour % every === 0) {
        out.push(`<text class="axis" x="${f(x(start))}" y="${height - pad.bottom + 14}" text-anchor="middle">${escapeHtml(t.time(start))}</text>`);
      }
    }

    // The current slot.
    const nowSlot = starts.find((start) => start <= now && now < start + slotMs);
    if (nowSlot !== undefined) {
      out.push(`<rect class="now-marker" data-start="${new Date(nowSlot).toISOString()}" x="${f(x(nowSlot))}" y="${pad.top}" width="${f(slotW)}" height="${plotH}"/>`);
      out.push(`<line class="now-line" x1="${f(x(now))}" x2="${f(x(now))}" y1="${pad.top - 4}" y2="${height - pad.bottom}"/>`);
      out.push(`<text class="now-label" x="${f(x(now))}" y="${pad.top - 6}" text-anchor="middle">now</text>`);
    }

    // Tooltips: one transparent column per slot.
    starts.forEach((start, i) => {
      const price = priceAt.get(start);
      const stack = stacks[i];
      const loads = stack.layers.filter((layer) => layer.id !== "__base").map((layer) => `${layer.name} ${t.number(layer.kw, 1)} kW`);
      const covered = stack.covered > 1e-9 ? `; the battery covers ${t.number(stack.covered, 1)} kW` : "";
      const sunny = stack.sun > 1e-9 ? `; the sun covers ${t.number(stack.sun, 1)} kW` : "";
      const selling = stack.exported > 1e-9 ? `; sold ${t.number(stack.exported, 1)} kW` : "";
      const event = eventAt(model, start);
      const flex = event ? `; ${FLEX_DIRECTIONS[event.down ? "down" : "up"]} event ${this._window(event)}` : "";
      const label = `${t.day(start)} ${t.time(start)}: ${price === undefined ? "no price" : `${t.number(price, 2)} p/kWh`}${loads.length ? `; ${loads.join(", ")}` : ""}${sunny}${covered}; from the grid ${t.number(stack.net, 1)} kW${selling}${flex}`;
      out.push(`<rect class="hit" data-start="${new Date(start).toISOString()}" data-net="${stack.net.toFixed(3)}" data-gross="${stack.gross.toFixed(3)}" data-sun="${stack.sun.toFixed(3)}" data-covered="${stack.covered.toFixed(3)}" data-export="${stack.exported.toFixed(3)}" x="${f(x(start))}" y="${pad.top}" width="${f(slotW)}" height="${plotH}"><title>${escapeHtml(label)}</title></rect>`);
    });

    const legend = [
      `<span><i class="line"></i>price (p/kWh)</span>`,
      ...(model.baseKw > 0 || model.baseSlots?.some((kw) => kw > 0) ? [`<span><i style="background:var(--hems-base-color)"></i>base load</span>`] : []),
      ...model.loads.filter((load) => load.power.some((kw) => kw > 0)).map((load) => `<span><i style="background:${load.color}"></i>${escapeHtml(load.name)} (kW)</span>`),
      ...strips.map((load) => `<span><i class="strip" style="background:${load.color}"></i>${escapeHtml(load.name)} charges from the grid</span>`),
      ...(stacks.some((stack) => stack.sun > 1e-9) ? [`<span><i class="sun"></i>covered by the sun</span>`] : []),
      ...(stacks.some((stack) => stack.covered > 1e-9) ? [`<span><i class="covered"></i>covered by the battery</span>`] : []),
      ...(stacks.some((stack) => stack.exported > 1e-9) ? [`<span><i class="export"></i>sold to the grid (kW)</span>`] : []),
      ...socLoads.map((load) => `<span><i class="soc" style="border-color:${load.color}"></i>${escapeHtml(load.name)} charge (empty to full)</span>`),
      `<span><i class="import"></i>from the grid (kW)</span>`,
      ...(model.slots.some((slot) => (slot.pv || 0) > 0) ? [`<span><i class="pv"></i>solar forecast (kW)</span>`] : []),
      ...(model.limitKw ? [`<span><i class="limit"></i>import limit</span>`] : []),
      ...["down", "up"].filter((d) => bands.some((e) => (e.down ? "down" : "up") === d)).map((d) =>
        `<span><i class="flex-key ${d}"></i>${FLEX_DIRECTIONS[d]} event window</span>`),
      ...(model.slots.some((slot) => slot.capKw !== null) ? [`<span><i class="flex-line down"></i>import cap asked (kW)</span>`] : []),
      ...(model.slots.some((slot) => slot.targetKw !== null) ? [`<span><i class="flex-line up"></i>import target asked (kW)</span>`] : []),
    ].join("");
    box.innerHTML = `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"
        aria-label="Prices and planned load" data-slots="${starts.length}">${out.join("")}</svg>
      <div class="legend chart-legend">${legend}</div>`;
  }
}

const STYLES = `
  :host { display: block; --hems-start-bg: #ffe45c; --hems-start-fg: #1f1f1f; --hems-over: #e53935;
    --hems-base-color: rgba(127, 127, 127, 0.45); }
  ha-card { overflow: hidden; }
  .card-header { margin: 0; padding: 16px 16px 4px; font-size: 1.5em; font-weight: 400; color: var(--ha-card-header-color, var(--primary-text-color)); }
  .content { padding: 0 16px 16px; color: var(--primary-text-color); }
  .headline { display: flex; flex-wrap: wrap; gap: 4px 6px; color: var(--secondary-text-color); font-size: 0.95em; margin: 4px 0 8px; }
  .headline [data-summary] { color: var(--primary-text-color); font-weight: 500; }
  .notes { margin: 0 0 8px; padding-left: 18px; color: var(--secondary-text-color); font-size: 0.85em; }
  .message { padding: 8px 0; color: var(--secondary-text-color); }
  .message.warning { color: var(--warning-color, #f57c00); }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  .totals { margin: 4px 0 12px; font-size: 0.95em; max-width: 640px; }
  .totals th, .totals td { padding: 3px 6px; text-align: right; border-bottom: 1px solid var(--divider-color); }
  .totals th[scope="row"] { text-align: left; font-weight: 400; color: var(--secondary-text-color); }
  .totals thead th { font-weight: 500; }
  .totals small { color: var(--secondary-text-color); }
  .good { color: var(--success-color, #43a047); font-weight: 500; }
  .bad { color: var(--error-color, #db4437); font-weight: 500; }
  .chart-box { width: 100%; margin: 4px 0 12px; }
  svg.chart { display: block; overflow: visible; }
  svg .grid { stroke: var(--divider-color); stroke-width: 1; }
  svg .grid.zero { stroke: var(--secondary-text-color); }
  svg .axis { fill: var(--secondary-text-color); font-size: 10px; }
  svg .day { fill: var(--secondary-text-color); font-size: 10px; }
  svg .past { fill: var(--secondary-text-color); opacity: 0.08; }
  svg .stack { opacity: 0.75; }
  svg .price-line { fill: none; stroke: var(--primary-text-color); stroke-width: 2; stroke-linejoin: round; }
  svg .import-limit { stroke: var(--error-color, #db4437); stroke-width: 1.5; stroke-dasharray: 6 4; }
  svg .limit-label { fill: var(--error-color, #db4437); font-size: 10px; }
  svg .midnight { stroke: var(--secondary-text-color); stroke-dasharray: 2 3; }
  svg .now-marker { fill: var(--primary-color); opacity: 0.18; }
  svg .now-line { stroke: var(--primary-color); stroke-width: 2; }
  svg .now-label { fill: var(--primary-color); font-size: 10px; font-weight: 600; }
  svg .hit { fill: transparent; }
  svg .hit:hover { fill: var(--primary-color); opacity: 0.08; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.8em; color: var(--secondary-text-color); margin-top: 6px; }
  .legend span { display: inline-flex; align-items: center; gap: 5px; }
  .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
  .legend i.line { height: 2px; background: var(--primary-text-color); }
  .legend i.strip { height: 4px; }
  .legend i.limit { height: 0; border-top: 2px dashed var(--error-color, #db4437); }
  .halves { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); gap: 8px 20px; align-items: start; }
  .half h2 { font-size: 1em; font-weight: 500; margin: 8px 0 4px; }
  .half h2 span { color: var(--secondary-text-color); font-weight: 400; }
  .plan { font-size: 0.9em; table-layout: fixed; }
  .plan th { font-weight: 500; font-size: 0.85em; color: var(--secondary-text-color); padding: 2px 3px; text-align: center;
    overflow-wrap: anywhere; hyphens: auto; vertical-align: bottom; border-bottom: 1px solid var(--divider-color); }
  .plan th small { display: block; font-weight: 400; font-size: 0.85em; }
  .plan th.time { width: 3.4em; text-align: left; }
  .plan.h12 th.time { width: 5.2em; }
  .plan th.price { width: 4.4em; text-align: right; }
  .plan th.export, .plan th.pv { width: 3.8em; text-align: right; }
  .plan td.export, .plan td.pv { text-align: right; color: var(--secondary-text-color); }
  .plan th .swatch { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--c); margin-right: 3px; vertical-align: middle; }
  .plan td { padding: 1px 3px; height: 1.55em; text-align: center; border-bottom: 1px solid var(--divider-color); white-space: nowrap; }
  .plan td.time { text-align: left; }
  .plan td.price { text-align: right; background: linear-gradient(color-mix(in srgb, var(--primary-color) 55%, transparent),
    color-mix(in srgb, var(--primary-color) 55%, transparent)) no-repeat right bottom 2px / var(--w) 3px; }
  .plan td.price.negative { color: var(--success-color, #43a047); font-weight: 600; }
  .plan td.load.on { background: color-mix(in srgb, var(--c) 40%, transparent); }
  .key.run { opacity: 0.6; }
  .statuses { list-style: none; margin: 8px 0 0; padding: 0; font-size: 0.9em; }
  .statuses li { margin: 2px 0; }
  .statuses .swatch { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--c); margin-right: 5px; }
  .breakdown { color: var(--secondary-text-color); }
  svg .battery-covered { opacity: 0.9; }
  svg .grid-import { fill: none; stroke: var(--primary-text-color); stroke-width: 1.5; }
  svg .pv-line { fill: none; stroke: #fbc02d; stroke-width: 2; stroke-dasharray: 5 3; }
  .legend i.pv { height: 0; border-top: 2px dashed #fbc02d; }
  .legend i.covered { background: repeating-linear-gradient(135deg, var(--secondary-text-color) 0 2px, transparent 2px 4px); }
  .legend i.import { height: 0; border-top: 2px solid var(--primary-text-color); }
  .plan td.load.charge, .key.charge { background: color-mix(in srgb, var(--c, #00897b) 45%, transparent); }
  .plan td.load.hold { color: var(--secondary-text-color); font-style: italic; }
  .plan td.load.sell, .key.sell { background: color-mix(in srgb, #43a047 35%, transparent); font-weight: 500; }
  .legend i.key.sell { width: auto; height: auto; padding: 0 3px; font-style: normal; font-size: 0.95em; }
  .plan th.grid { width: 3.8em; text-align: right; }
  .plan td.grid { text-align: right; }
  .plan td.grid.sold { color: var(--success-color, #43a047); font-weight: 500; }
  .plan td.grid.curtailed { text-decoration: underline dotted; }
  .headline.today { margin-top: -4px; }
  .headline .hint { font-size: 0.85em; font-style: italic; }
  .sun { font-size: 0.85em; color: var(--secondary-text-color); margin: -4px 0 8px; }
  svg .sun-covered { opacity: 0.9; }
  svg .stack-covered { opacity: 0.3; }
  svg .export-bar { fill: #43a047; opacity: 0.6; }
  svg .soc-line { fill: none; stroke-width: 2.5; stroke-dasharray: 1 3; stroke-linecap: round; }
  .legend i.sun { background: repeating-linear-gradient(135deg, #fbc02d 0 2px, transparent 2px 4px); }
  .legend i.export { background: #43a047; opacity: 0.6; }
  .legend i.soc { height: 0; border-top: 3px dotted; }
  .plan td.load.over, .key.over { background: color-mix(in srgb, var(--hems-over) 30%, transparent); box-shadow: inset 3px 0 0 var(--hems-over); }
  .plan td.load.over.on { background: linear-gradient(color-mix(in srgb, var(--hems-over) 30%, transparent), color-mix(in srgb, var(--hems-over) 30%, transparent)),
    color-mix(in srgb, var(--c) 40%, transparent); }
  .plan td.load.start, .key.start { background: var(--hems-start-bg); color: var(--hems-start-fg); font-weight: 700; box-shadow: inset 0 0 0 2px var(--c, #f57c00); }
  .plan tr.now td.load.start { color: var(--hems-start-fg); }
  .plan tr.now td { font-weight: 600; }
  .plan tr.now td.time, .key.now { box-shadow: inset 4px 0 0 var(--primary-color); }
  .plan tr.now { outline: 2px solid var(--primary-color); outline-offset: -2px; }
  .key { border: 1px solid var(--divider-color); }
  .content { container-type: inline-size; }
  @container (max-width: 480px) {
    .plan { font-size: 0.82em; }
    .plan th { font-size: 0.78em; padding: 2px 1px; }
    .plan td { padding: 1px 2px; }
    .plan th.time { width: 3.6em; }
    .plan.h12 th.time { width: 5.6em; }
    .plan th.price { width: 3.6em; }
  }
  .legend i.key.hold { width: auto; height: auto; border: none; font-size: 0.95em; color: var(--secondary-text-color); }
  :host { --hems-flex-down: #e8590c; --hems-flex-up: #1c7ed6; }
  svg .flex-band.down { fill: var(--hems-flex-down); opacity: 0.16; }
  svg .flex-band.up { fill: var(--hems-flex-up); opacity: 0.16; }
  svg .flex-band.pending { opacity: 0.08; }
  svg .flex-strip.down { fill: var(--hems-flex-down); }
  svg .flex-strip.up { fill: var(--hems-flex-up); }
  svg .flex-label { font-size: 10px; font-weight: 600; }
  svg .flex-target { fill: none; stroke-width: 2; stroke-dasharray: 2 2; }
  svg .flex-target.down { stroke: var(--hems-flex-down); }
  svg .flex-target.up { stroke: var(--hems-flex-up); }
  .legend i.flex-line { height: 0; border-top: 2px dotted; }
  .legend i.flex-line.down { border-color: var(--hems-flex-down); }
  .legend i.flex-line.up { border-color: var(--hems-flex-up); }
  svg .flex-label.down { fill: var(--hems-flex-down); }
  svg .flex-label.up { fill: var(--hems-flex-up); }
  .flex-key.down { background: color-mix(in srgb, var(--hems-flex-down) 35%, transparent); box-shadow: inset 0 3px 0 var(--hems-flex-down); }
  .flex-key.up { background: color-mix(in srgb, var(--hems-flex-up) 35%, transparent); box-shadow: inset 0 3px 0 var(--hems-flex-up); }
  .plan tr.flex.down td.time { background: color-mix(in srgb, var(--hems-flex-down) 28%, transparent); }
  .plan tr.flex.up td.time { background: color-mix(in srgb, var(--hems-flex-up) 28%, transparent); }
  .plan tr.flex.down td.time, .plan tr.flex.up td.time { border-right: 3px solid; }
  .plan tr.flex.down td.time { border-right-color: var(--hems-flex-down); }
  .plan tr.flex.up td.time { border-right-color: var(--hems-flex-up); }
  .flex-events { margin: 4px 0 12px; }
  .flex-events h2 { font-size: 1em; font-weight: 500; margin: 8px 0 4px; }
  .flex-events ul { list-style: none; margin: 0; padding: 0; }
  .flex-event { padding: 6px 8px; margin: 4px 0; border-radius: 6px; border-left: 4px solid var(--hems-flex-down);
    background: color-mix(in srgb, var(--hems-flex-down) 8%, transparent); font-size: 0.9em; }
  .flex-event.up { border-left-color: var(--hems-flex-up); background: color-mix(in srgb, var(--hems-flex-up) 8%, transparent); }
  .flex-event.inactive { opacity: 0.7; }
  .flex-head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; }
  .flex-head i.flex-key { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
  .flex-dir { text-transform: uppercase; font-size: 0.8em; font-weight: 600; letter-spacing: 0.04em; }
  .flex-event.down .flex-dir { color: var(--hems-flex-down); }
  .flex-event.up .flex-dir { color: var(--hems-flex-up); }
  .flex-status { color: var(--secondary-text-color); font-style: italic; }
  .flex-figures { display: flex; flex-wrap: wrap; gap: 2px 14px; color: var(--secondary-text-color); margin-top: 2px; }
  .flex-figures.after { color: var(--primary-text-color); }
`;

class HemsPlanCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    if (this._form) this._form.hass = hass;
    else this._render();
  }

  async connectedCallback() {
    // ha-form is loaded lazily by the frontend: make sure it is defined.
    if (!customElements.get("ha-form") && window.loadCardHelpers) {
      try {
        const helpers = await window.loadCardHelpers();
        const card = await helpers.createCardElement({ type: "entities", entities: [] });
        await card.constructor.getConfigElement?.();
      } catch (err) {
        // The form still renders once ha-form is defined.
      }
    }
    this._render();
  }

  _schema() {
    const plans = Object.values(this._hass?.entities || {})
      .filter((entry) => entry.platform === "hems" && entry.translation_key === KEYS.plan)
      .map((entry) => entry.entity_id);
    return [
      { name: "entity", selector: { entity: { filter: { integration: "hems", domain: "sensor" }, ...(plans.length ? { include_entities: plans } : {}) } } },
      { name: "title", selector: { text: {} } },
      { name: "flat_tariff", selector: { number: { min: 0, max: 200, step: 0.01, mode: "box", unit_of_measurement: "p/kWh" } } },
      { type: "grid", name: "", schema: [
        { name: "show_totals", selector: { boolean: {} } },
        { name: "show_chart", selector: { boolean: {} } },
        { name: "show_table", selector: { boolean: {} } },
        { name: "show_events", selector: { boolean: {} } },
      ] },
    ];
  }

  _render() {
    if (!this._hass || !this._config || !this.isConnected) return;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.computeLabel = (schema) => ({
        entity: "Plan sensor (hems Planned cost; empty: found automatically)",
        title: "Title",
        flat_tariff: "Flat tariff to compare with (p/kWh)",
        show_totals: "Show today's totals",
        show_chart: "Show the chart",
        show_table: "Show the table",
        show_events: "Show flexibility events",
      })[schema.name] || schema.name;
      this._form.addEventListener("value-changed", (event) => {
        const config = { ...event.detail.value };
        for (const key of Object.keys(config)) if (config[key] === "" || config[key] === undefined) delete config[key];
        this._config = config;
        this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
      });
      this.append(this._form);
    }
    this._form.hass = this._hass;
    this._form.schema = this._schema();
    this._form.data = { ...DEFAULTS, ...this._config };
  }
}

function defineElements() {
  const registry = window.customElements;
  if (!registry.get(CARD_TAG)) registry.define(CARD_TAG, HemsPlanCard);
  if (!registry.get(EDITOR_TAG)) registry.define(EDITOR_TAG, HemsPlanCardEditor);
}

// Loaded by the integration as an extra module, this runs before Home
// Assistant's app has replaced window.customElements (a scoped custom element
// registry): an element defined now would be invisible to the dashboards.
// So wait for the app to define <home-assistant>, then define the card in the
// registry the app uses. As a dashboard resource the app is already there.
if (document.querySelector("home-assistant") && !window.customElements.get("home-assistant")) {
  window.customElements.whenDefined("home-assistant").then(defineElements);
} else {
  defineElements();
}

window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === CARD_TAG)) {
  window.customCards.push({
    type: CARD_TAG,
    name: "hems plan",
    description: "The hems plan: half-hourly table, prices with the planned load, and today's cost against the mean price and a flat tariff.",
    preview: true,
    documentationURL: "https://github.com/hems-energy/hems#the-dashboard-card",
  });
}

console.info(`%c hems-plan-card %c ${VERSION} `, "color: white; background: #1e88e5; font-weight: 600", "color: #1e88e5");
