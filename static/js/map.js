// The territory map (DESIGN §10): countries and US states drawn with d3-geo from the
// world-atlas / us-atlas packages served by this server, coloured by a metric from
// /api/v1/analytics/map/regions/, territory boundaries merged from the regions their rules
// name, and account pins clustered on the server for the visible area and zoom level.
(function () {
  "use strict";
  const root = document.getElementById("map");
  const configNode = document.getElementById("map-config");
  if (!root || !configNode || !window.d3 || !window.topojson) return;
  const config = JSON.parse(configNode.textContent);
  const d3 = window.d3;
  const WIDTH = 960;
  const HEIGHT = 500;
  const EMPTY_FILL = "#eef0f3";
  const LOW = "#dbe7f5";
  const HIGH = "#12467f";

  const form = document.getElementById("map-filters");
  const placement = document.querySelector("[data-testid=map-placement]");
  const tooltip = document.getElementById("map-tooltip");
  const legend = document.getElementById("map-legend");
  const panel = document.getElementById("map-panel");
  const svg = d3.select(root).select("svg");
  const projection = d3.geoNaturalEarth1().fitExtent([[4, 4], [WIDTH - 4, HEIGHT - 4]], {type: "Sphere"});
  const path = d3.geoPath(projection);
  const layer = svg.append("g").attr("class", "map-layer");
  layer.append("path").attr("class", "map-sphere").datum({type: "Sphere"}).attr("d", path);
  const countryLayer = layer.append("g").attr("class", "map-countries");
  const stateLayer = layer.append("g").attr("class", "map-states");
  const outlineLayer = layer.append("g").attr("class", "map-territories");
  const pinLayer = layer.append("g").attr("class", "map-pins");
  let world = null;
  let us = null;
  let data = null;
  let transform = d3.zoomIdentity;
  let pinRequest = 0;
  let pinTimer = null;

  const regionByFeature = {countries: new Map(), states: new Map()};
  const territoryById = new Map();

  function params(extra) {
    const query = new URLSearchParams();
    for (const name of ["owner", "level"]) {
      const value = form.elements[name].value;
      if (value) query.set(name, value);
    }
    for (const [key, value] of Object.entries(extra || {})) query.set(key, value);
    return query.toString();
  }

  async function getJSON(url) {
    const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function metric() {
    return form.elements.metric.value;
  }

  function metricValue(region) {
    if (!region) return null;
    const name = metric();
    const value = region[name];
    if (value === null || value === undefined) return null;
    return Number(value);
  }

  function formatValue(name, value) {
    if (value === null) return "—";
    if (name === "attainment") return `${Math.round(value * 100)} %`;
    if (name === "open_pipeline") return value.toLocaleString(undefined, {maximumFractionDigits: 0});
    return value.toLocaleString();
  }

  function colourScale() {
    const values = [...data.countries, ...data.states].map(metricValue).filter((v) => v !== null && v > 0);
    const max = values.length ? Math.max(...values) : 0;
    const interpolate = d3.interpolateRgb(LOW, HIGH);
    return (value) => {
      if (value === null || value <= 0 || max <= 0) return EMPTY_FILL;
      return interpolate(Math.sqrt(value / max));
    };
  }

  function drawBase() {
    const countries = topojson.feature(world, world.objects.countries).features;
    countryLayer.selectAll("path").data(countries).join("path")
      .attr("class", (f) => (f.id === "840" ? "map-region map-country map-us" : "map-region map-country"))
      .attr("d", path)
      .attr("data-feature", (f) => f.id || "");
    const states = topojson.feature(us, us.objects.states).features;
    stateLayer.selectAll("path").data(states).join("path")
      .attr("class", "map-region map-state")
      .attr("d", path)
      .attr("data-feature", (f) => f.id || "");
    for (const selection of [countryLayer.selectAll("path"), stateLayer.selectAll("path")]) {
      selection
        .on("mousemove", (event, feature) => showTooltip(event, regionOf(feature, event.currentTarget), feature))
        .on("mouseleave", hideTooltip)
        .on("click", (event, feature) => {
          const region = regionOf(feature, event.currentTarget);
          if (region) openRegion(region.code);
        });
    }
  }

  function regionOf(feature, node) {
    const kind = node.classList.contains("map-state") ? "states" : "countries";
    return regionByFeature[kind].get(String(feature.id)) || null;
  }

  function paint() {
    const scale = colourScale();
    const name = metric();
    for (const [selection, kind] of [[countryLayer.selectAll("path"), "countries"], [stateLayer.selectAll("path"), "states"]]) {
      selection.each(function (feature) {
        const region = regionByFeature[kind].get(String(feature.id));
        const value = metricValue(region);
        this.setAttribute("fill", scale(value));
        this.setAttribute("data-code", region ? region.code : "");
        this.setAttribute("data-value", value === null ? "" : String(value));
      });
    }
    const values = [...data.countries, ...data.states].map(metricValue).filter((v) => v !== null);
    const max = values.length ? Math.max(...values) : 0;
    legend.innerHTML = "";
    const label = document.createElement("span");
    label.textContent = `${form.elements.metric.selectedOptions[0].textContent}: 0`;
    const bar = document.createElement("span");
    bar.className = "map-legend-bar";
    const top = document.createElement("span");
    top.textContent = formatValue(name, max);
    legend.append(label, bar, top);
  }

  function drawTerritories() {
    outlineLayer.selectAll("*").remove();
    const countryGeometries = new Map(world.objects.countries.geometries.map((g) => [String(g.id), g]));
    const stateGeometries = new Map(us.objects.states.geometries.map((g) => [String(g.id), g]));
    const featureOf = {};
    for (const region of data.countries) featureOf[region.code] = region.feature_id;
    for (const region of data.states) featureOf[region.code] = region.feature_id;
    for (const territory of data.territories) {
      const group = outlineLayer.append("g").attr("class", "map-territory").attr("data-territory", territory.id);
      group.append("title").text(territory.name);
      const countries = territory.countries.map((code) => countryGeometries.get(featureOf[code])).filter(Boolean);
      const states = territory.states.map((code) => stateGeometries.get(featureOf[code])).filter(Boolean);
      if (countries.length) group.append("path").datum(topojson.merge(world, countries)).attr("d", path);
      if (states.length) group.append("path").datum(topojson.merge(us, states)).attr("d", path);
    }
  }

  function showTooltip(event, region, feature) {
    const name = region ? region.name : (feature.properties && feature.properties.name) || "";
    const lines = [name];
    if (region) {
      lines.push(`${form.elements.metric.selectedOptions[0].textContent}: ${formatValue(metric(), metricValue(region))}`);
      const names = region.territories.map((id) => territoryById.get(id)).filter(Boolean).map((t) => t.name);
      lines.push(names.length ? `Territory: ${names.join(", ")}` : "No territory");
    }
    tooltip.textContent = "";
    lines.forEach((line, index) => {
      const row = document.createElement("div");
      row.textContent = line;
      if (index === 0) row.className = "map-tooltip-title";
      tooltip.append(row);
    });
    const box = root.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - box.left + 12}px`;
    tooltip.style.top = `${event.clientY - box.top + 12}px`;
    tooltip.hidden = false;
  }

  function hideTooltip() {
    tooltip.hidden = true;
  }

  function showPlacement() {
    const p = data.placement;
    const parts = [`${p.accounts.toLocaleString()} accounts`, `${p.located.toLocaleString()} on the map`];
    parts.push(`${p.unresolved.toLocaleString()} without a known place (postal code or city)`);
    if (p.pending) parts.push(`${p.pending.toLocaleString()} not placed yet`);
    if (data.outside_known_regions.accounts) {
      parts.push(`${data.outside_known_regions.accounts.toLocaleString()} with no known country`);
    }
    if (data.as_of) {
      const when = new Date(data.as_of).toLocaleString();
      parts.push(data.refreshing ? `figures of ${when}, being updated` : `figures of ${when}`);
    }
    placement.textContent = parts.join(" · ");
    placement.dataset.unresolved = String(p.unresolved);
  }

  async function loadRegions() {
    root.dataset.ready = "";
    hideTooltip();  // its figures are of the data being replaced
    const period = form.elements.period ? form.elements.period.value.split("|") : [];
    const extra = period.length === 2 ? {period_start: period[0], period_end: period[1]} : {};
    data = await getJSON(`${config.regions_url}?${params(extra)}`);
    regionByFeature.countries = new Map(data.countries.map((r) => [r.feature_id, r]));
    regionByFeature.states = new Map(data.states.map((r) => [r.feature_id, r]));
    territoryById.clear();
    for (const territory of data.territories) territoryById.set(territory.id, territory);
    showPlacement();
    paint();
    drawTerritories();
    await loadPins();
  }

  function visibleBox() {
    if (transform.k <= 1.01) return [-180, -90, 180, 90];
    const [x0, y0] = transform.invert([0, 0]);
    const [x1, y1] = transform.invert([WIDTH, HEIGHT]);
    let west = 180, east = -180, south = 90, north = -90;
    const steps = 12;
    for (let i = 0; i <= steps; i++) {
      for (let j = 0; j <= steps; j++) {
        const point = projection.invert([x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * j) / steps]);
        if (!point || !Number.isFinite(point[0]) || !Number.isFinite(point[1])) continue;
        if (Math.abs(point[0]) > 180 || Math.abs(point[1]) > 90) continue;
        west = Math.min(west, point[0]);
        east = Math.max(east, point[0]);
        south = Math.min(south, point[1]);
        north = Math.max(north, point[1]);
      }
    }
    if (west > east) return [-180, -90, 180, 90];
    const padX = (east - west) / steps;
    const padY = (north - south) / steps;
    return [Math.max(-180, west - padX), Math.max(-90, south - padY), Math.min(180, east + padX), Math.min(90, north + padY)];
  }

  function zoomLevel() {
    return Math.max(0, Math.min(14, Math.floor(Math.log2(transform.k))));
  }

  async function loadPins() {
    const request = ++pinRequest;
    const box = visibleBox().map((v) => v.toFixed(4)).join(",");
    const zoom = zoomLevel();
    const pins = await getJSON(`${config.pins_url}?${params({bbox: box, zoom})}`);
    if (request !== pinRequest) return;
    drawPins(pins);
    root.dataset.zoom = String(zoom);
    root.dataset.ready = "1";
  }

  function drawPins(pins) {
    const k = transform.k;
    const groups = pinLayer.selectAll("g.pin").data(pins.clusters, (c) => `${c.latitude},${c.longitude},${c.count}`)
      .join((enter) => {
        const g = enter.append("g").attr("class", "pin");
        g.append("circle");
        g.append("text").attr("text-anchor", "middle").attr("dy", "0.35em");
        g.append("title");
        return g;
      });
    groups
      .attr("class", (c) => (c.count > 1 ? "pin pin-cluster" : "pin pin-account"))
      .attr("data-count", (c) => c.count)
      .attr("transform", (c) => {
        const [x, y] = projection([c.longitude, c.latitude]);
        return `translate(${x},${y}) scale(${1 / k})`;
      })
      .on("click", (event, c) => {
        event.stopPropagation();
        if (c.count > 1) {
          const [x, y] = projection([c.longitude, c.latitude]);
          svg.call(zoom.transform, d3.zoomIdentity.translate(WIDTH / 2, HEIGHT / 2).scale(k * 4).translate(-x, -y));
        } else if (c.account) {
          window.location.href = config.account_url.replace("/0/", `/${c.account.id}/`);
        }
      });
    groups.select("circle").attr("r", (c) => (c.count > 1 ? 7 + 3 * Math.log10(c.count) : 4));
    groups.select("text").text((c) => (c.count > 1 ? (c.count >= 1000 ? `${Math.round(c.count / 100) / 10}k` : c.count) : ""));
    groups.select("title").text((c) => (c.count > 1 ? `${c.count} accounts` : (c.account && c.account.name) || "Account"));
    pinLayer.attr("data-capped", pins.capped ? "1" : "");
  }

  function rescalePins() {
    const k = transform.k;
    pinLayer.selectAll("g.pin").attr("transform", (c) => {
      const [x, y] = projection([c.longitude, c.latitude]);
      return `translate(${x},${y}) scale(${1 / k})`;
    });
  }

  const zoom = d3.zoom()
    .scaleExtent([1, 4096])
    .translateExtent([[0, 0], [WIDTH, HEIGHT]])
    .on("zoom", (event) => {
      transform = event.transform;
      layer.attr("transform", transform);
      layer.style("--k", transform.k);
      rescalePins();
    })
    .on("end", () => {
      clearTimeout(pinTimer);
      root.dataset.ready = "";
      pinTimer = setTimeout(() => loadPins().catch(showError), 150);
    });
  svg.call(zoom);

  document.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.zoom === "in") svg.call(zoom.scaleBy, 2);
      else if (button.dataset.zoom === "out") svg.call(zoom.scaleBy, 0.5);
      else svg.call(zoom.transform, d3.zoomIdentity);
    });
  });

  async function openRegion(code) {
    panel.textContent = "Loading…";
    const region = await getJSON(`${config.region_url.replace("CODE", encodeURIComponent(code))}?${params()}`);
    panel.textContent = "";
    panel.dataset.region = region.code;
    const title = document.createElement("h2");
    title.textContent = region.name;
    const territoriesTitle = document.createElement("h3");
    territoriesTitle.textContent = `Territories (${region.territories.length})`;
    const territories = document.createElement("ul");
    territories.dataset.testid = "map-panel-territories";
    for (const territory of region.territories) {
      const item = document.createElement("li");
      item.textContent = `${territory.name} · level ${territory.level}`;
      territories.append(item);
    }
    if (!region.territories.length) territories.append(Object.assign(document.createElement("li"), {textContent: "None: white space."}));
    const orphanTitle = document.createElement("h3");
    orphanTitle.textContent = `Orphaned accounts (${region.orphaned_count})`;
    const orphans = document.createElement("ul");
    orphans.dataset.testid = "map-panel-orphans";
    for (const account of region.orphaned_accounts) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = config.account_url.replace("/0/", `/${account.id}/`);
      link.textContent = account.name;
      item.append(link);
      if (account.city) item.append(` · ${account.city}`);
      orphans.append(item);
    }
    if (region.orphaned_count > region.orphaned_accounts.length) {
      orphans.append(Object.assign(document.createElement("li"), {textContent: `… and ${region.orphaned_count - region.orphaned_accounts.length} more`}));
    }
    panel.append(title, territoriesTitle, territories, orphanTitle, orphans);
  }

  function showError(error) {
    placement.textContent = `The map could not load its data (${error.message}).`;
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "metric") {
      hideTooltip();
      paint();
    }
    else loadRegions().catch(showError);
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  const locate = document.getElementById("map-locate");
  if (locate) {
    locate.addEventListener("click", async () => {
      const csrf = document.body.getAttribute("hx-headers");
      const token = csrf ? JSON.parse(csrf)["X-CSRFToken"] : "";
      const response = await fetch(config.locate_url, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": token, Accept: "application/json"}});
      const status = document.getElementById("map-locate-status");
      if (response.ok) {
        const job = await response.json();
        status.textContent = `Job ${job.id} is placing the accounts; its progress is on the Jobs page.`;
      } else {
        status.textContent = `Refused (${response.status}).`;
      }
    });
  }

  Promise.all([getJSON(config.world_url), getJSON(config.states_url)])
    .then(([worldTopology, usTopology]) => {
      world = worldTopology;
      us = usTopology;
      drawBase();
      return loadRegions();
    })
    .catch(showError);
})();
