// flowscope ui: the page over the JSON API. Everything that comes from data is written with textContent
// (or as cytoscape canvas labels), never as HTML: asset names, snippets and reasons are untrusted.
"use strict";
(function () {
  const KINDS = ["sql", "static", "runtime", "config", "context", "declared"];
  const COLOURS = { protected: "#22a06b", needs_review: "#f5c518", violation: "#d93025", excluded: "#9aa0a6" };
  const NONE = "#dbe6ff";
  const $ = (id) => document.getElementById(id);
  const state = { start: null, expandedBy: new Map(), expanded: new Set(), colours: {}, info: null,
    token: "", table: { sort: "status", order: "asc", offset: 0, limit: 200, rows: [], total: 0, queue: false },
    selected: new Set(), maxNodes: 300, busy: 0 };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  async function api(path, options) {
    state.busy += 1;
    try {
      const res = await fetch(path, options);
      const body = await res.json().catch(() => ({ error: "the server answered " + res.status }));
      if (!res.ok) throw new Error(body.error || ("HTTP " + res.status));
      return body;
    } finally { state.busy -= 1; }
  }

  function say(target, text, isError) {
    const node = $(target);
    node.textContent = text;
    node.className = isError ? "error" : "muted";
  }

  // -- graph ---------------------------------------------------------------------------------------------
  cytoscape.use(cytoscapeDagre);
  const cy = cytoscape({
    container: $("cy"),
    style: [
      { selector: "node", style: { "background-color": (n) => colourOf(n), "label": "data(label)",
        "font-size": 10, "text-valign": "bottom", "text-margin-y": 3, "width": 18, "height": 18,
        "border-width": 1, "border-color": "#4b5563", "text-wrap": "ellipsis", "text-max-width": 150 } },
      { selector: "node[kind = 'dataset']", style: { "shape": "round-rectangle", "width": 26 } },
      { selector: "node[?start]", style: { "border-width": 3, "border-color": "#1d4ed8" } },
      { selector: "node[?group]", style: { "shape": "round-tag", "background-color": "#fff", "border-style": "dashed",
        "width": 30, "height": 18, "font-style": "italic" } },
      { selector: "node:selected", style: { "overlay-opacity": 0.15, "overlay-color": "#1d4ed8" } },
      { selector: "edge", style: { "width": (e) => 1 + 5 * (e.data("confidence") || 0), "curve-style": "bezier",
        "target-arrow-shape": "triangle", "line-color": "#8b95a7", "target-arrow-color": "#8b95a7", "arrow-scale": 0.8 } },
      { selector: "edge[?static_only]", style: { "line-style": "dashed" } },
      { selector: "edge:selected", style: { "line-color": "#1d4ed8", "target-arrow-color": "#1d4ed8" } },
    ],
  });
  window.flowscopeUI = { cy, state, colourOf: (id) => colourOf(cy.getElementById(id)) };

  function colourOf(n) {
    if (n.data("group")) return "#fff";
    const s = state.colours[n.id()];
    return s ? COLOURS[s] : NONE;
  }

  function recolour() {
    cy.nodes().forEach((n) => n.data("status", state.colours[n.id()] || null));
    cy.style().update();
  }

  function filterParams() {
    const p = new URLSearchParams();
    p.set("direction", $("direction").value);
    p.set("depth", $("depth").value || "5");
    p.set("min_confidence", $("min-confidence").value || "0");
    const kinds = KINDS.filter((k) => $("kind-" + k).checked);
    if (kinds.length && kinds.length < KINDS.length) p.set("kinds", kinds.join(","));
    if ($("direct-only").checked) p.set("direct_only", "true");
    if ($("namespace").value.trim()) p.set("namespace", $("namespace").value.trim());
    if ($("category").value.trim()) p.set("category", $("category").value.trim());
    return p;
  }

  function layout() {
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 22, rankSep: 150, animate: false, fit: true, padding: 20 }).run();
    $("status-line").textContent = cy.nodes().length + " nodes, " + cy.edges().length + " edges shown";
  }

  function addGraph(data, by) {
    const added = [];
    cy.batch(() => {
      for (const n of data.nodes) {
        if (cy.getElementById(n.id).nonempty()) continue;
        cy.add({ group: "nodes", data: { ...n, status: state.colours[n.id] || null, start: n.start || false } });
        added.push(n.id);
      }
      for (const e of data.edges) {
        if (cy.getElementById(e.id).nonempty()) continue;
        if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) continue;
        cy.add({ group: "edges", data: e });
      }
    });
    if (by) state.expandedBy.set(by, (state.expandedBy.get(by) || []).concat(added));
    return added;
  }

  async function select(assetId) {
    cy.elements().remove();
    state.expandedBy.clear();
    state.expanded.clear();
    const p = filterParams();
    p.set("asset", assetId);
    p.set("depth", "1");
    p.set("limit", "2");
    const data = await api("/api/neighbourhood?" + p);
    state.start = data.start;
    cy.add({ group: "nodes", data: { ...data.nodes[0], status: state.colours[data.start] || null } });
    layout();
    showNode(data.start);
  }

  async function expand(nodeId, direction, depth) {
    const p = filterParams();
    if (direction) p.set("direction", direction);
    if (depth) p.set("depth", String(depth));
    p.set("asset", nodeId);
    const room = state.maxNodes - cy.nodes().length + 1;
    if (room < 2) { $("status-line").textContent = "the page holds " + state.maxNodes + " nodes at most: collapse some first"; return; }
    p.set("limit", String(room));
    const data = await api("/api/neighbourhood?" + p);
    const drawStart = performance.now();
    addGraph(data, nodeId);
    state.expanded.add(nodeId);
    layout();
    state.lastDrawMs = performance.now() - drawStart;  // read by bench/ui_bench.py
    $("status-line").textContent += " · " + data.reached + " reached, " + data.folded + " folded into groups";
  }

  function collapse(nodeId) {
    const gone = new Set();
    const drop = (id) => {
      for (const child of state.expandedBy.get(id) || []) {
        if (child === state.start || gone.has(child)) continue;
        gone.add(child);
        drop(child);
      }
      state.expandedBy.delete(id);
      state.expanded.delete(id);
    };
    drop(nodeId);
    cy.batch(() => gone.forEach((id) => cy.getElementById(id).remove()));
    layout();
  }

  cy.on("tap", "node", async (evt) => {
    const n = evt.target;
    try {
      if (n.data("group")) {
        const anchor = n.data("anchor");
        n.remove();
        await expand(anchor, n.data("direction"), null);
        return;
      }
      showNode(n.id());
      if (state.expanded.has(n.id())) collapse(n.id()); else await expand(n.id(), null, null);
    } catch (err) { $("status-line").textContent = "error: " + err.message; }
  });

  cy.on("tap", "edge", (evt) => showEdge(evt.target.data()));

  // -- side panel ----------------------------------------------------------------------------------------
  // Each click builds its panel off-screen and shows it only if no later click started another one.
  let panelSeq = 0;
  function panel() { panelSeq += 1; const box = el("div"); box.dataset.seq = String(panelSeq); return box; }
  function show(box) { if (Number(box.dataset.seq) === panelSeq) $("panel").replaceChildren(box); }

  function dl(parent, pairs) {
    const d = el("dl");
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)) continue;
      d.append(el("dt", k), el("dd", Array.isArray(v) ? v.join(", ") : v));
    }
    parent.append(d);
  }

  async function showNode(id) {
    const p = panel();
    p.append(el("h3", id));
    try {
      const a = await api("/api/asset?asset=" + encodeURIComponent(id));
      dl(p, [["namespace", a.namespace], ["name", a.name], ["field", a.field], ["description", a.description],
        ["owners", a.owners], ["tags", a.tags], ["written by", a.writers.map((j) => j.namespace + "/" + j.name)]]);
      if (a.fields.length) {
        p.append(el("h4", "fields (" + a.fields.length + ")"));
        const ul = el("ul");
        for (const f of a.fields.slice(0, 200)) ul.append(el("li", f.type ? f.name + " : " + f.type : f.name));
        p.append(ul);
      }
      const zone = $("zone").value;
      if (zone) {
        p.append(el("h4", "zone " + zone));
        const q = new URLSearchParams({ q: id, limit: "50" });
        const st = await api("/api/zones/" + encodeURIComponent(zone) + "/status?" + q);
        const row = st.rows.find((r) => r.asset === id);
        if (!row) p.append(el("p", "not in the zone", "muted"));
        else dl(p, [["status", row.status], ["decision", row.decision ? row.decision + (row.inherited ? " (its dataset's)" : "") : "none"],
          ["by", row.by], ["reason", row.reason], ["stale", row.stale], ["data uses", row.uses], ["denied", row.denied],
          ["confidence", row.confidence], ["hops", row.hops]]);
      }
    } catch (err) { p.append(el("p", "error: " + err.message, "error")); }
    show(p);
  }

  async function showEdge(e) {
    const p = panel();
    p.append(el("h3", e.source + " → " + e.target));
    if (String(e.target).startsWith("more:") || String(e.source).startsWith("more:")) {
      p.append(el("p", "a folded group: click it to expand", "muted"));
      show(p);
      return;
    }
    try {
      const q = new URLSearchParams({ source: e.source, target: e.target });
      const d = await api("/api/edge?" + q);
      for (const edge of d.edges) {
        const box = el("div");
        box.className = "edge";
        box.append(el("h4", "job " + edge.job.namespace + "/" + edge.job.name));
        dl(box, [["from", edge.source], ["to", edge.target], ["confidence", edge.confidence], ["kinds", edge.kinds],
          ["collectors", edge.collectors], ["runtime matches", edge.matches],
          ["transformations", edge.transformations.map((t) => t.type + "/" + t.subtype + (t.masking ? " (masking)" : ""))],
          ["count", edge.count || null], ["first seen", edge.first_seen], ["last seen", edge.last_seen],
          ["job type", edge.job.type], ["code", edge.job.source_location && edge.job.source_location.path]]);
        if (edge.job.sql) { box.append(el("h4", "sql")); box.append(el("pre", edge.job.sql)); }
        box.append(el("h4", "evidence (" + edge.evidence.length + ")"));
        for (const ev of edge.evidence) {
          const item = el("div", null, "ev");
          item.append(el("div", ev.location, "loc"));
          item.append(el("div", ev.collector + " / " + ev.kind, "muted"));
          if (ev.snippet) item.append(el("pre", ev.snippet));
          if (ev.detail) for (const [k, v] of Object.entries(ev.detail)) item.append(el("div", k + ": " + v, "muted"));
          box.append(item);
        }
        p.append(box);
      }
    } catch (err) { p.append(el("p", "error: " + err.message, "error")); }
    show(p);
  }

  // -- search with completion ----------------------------------------------------------------------------
  let searchTimer = null, searchSeq = 0;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 150);
  });
  $("search").addEventListener("keydown", (evt) => {
    const items = [...$("suggestions").children];
    const at = items.findIndex((li) => li.classList.contains("active"));
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      if (!items.length) return;
      const next = evt.key === "ArrowDown" ? (at + 1) % items.length : (at - 1 + items.length) % items.length;
      items.forEach((li, i) => li.classList.toggle("active", i === next));
    } else if (evt.key === "Enter") {
      const li = items[at >= 0 ? at : 0];
      if (li) choose(li.dataset.id);
    } else if (evt.key === "Escape") { $("suggestions").hidden = true; }
  });

  async function runSearch() {
    const q = $("search").value.trim();
    const seq = ++searchSeq;
    const list = $("suggestions");
    if (!q) { list.hidden = true; return; }
    try {
      const d = await api("/api/search?" + new URLSearchParams({ q, limit: "20" }));
      if (seq !== searchSeq) return;
      list.replaceChildren();
      for (const r of d.results) {
        const li = el("li", r.label);
        li.dataset.id = r.id;
        li.title = r.id;
        li.setAttribute("role", "option");
        li.addEventListener("mousedown", (evt) => { evt.preventDefault(); choose(r.id); });
        list.append(li);
      }
      if (!d.results.length) list.append(el("li", "no asset matches", "muted"));
      list.hidden = false;
    } catch (err) { list.replaceChildren(el("li", "error: " + err.message, "error")); list.hidden = false; }
  }

  function choose(id) {
    if (!id) return;
    $("suggestions").hidden = true;
    $("search").value = id;
    select(id).catch((err) => { $("status-line").textContent = "error: " + err.message; });
  }

  // -- zones: colours, table, queue, review --------------------------------------------------------------
  async function refreshColours() {
    const zone = $("zone").value;
    if (!zone) { state.colours = {}; recolour(); return; }
    const d = await api("/api/zones/" + encodeURIComponent(zone) + "/status?limit=1");
    state.colours = d.colours;
    recolour();
  }

  const COLUMNS = [["", null], ["asset", "asset"], ["status", "status"], ["confidence", "confidence"], ["hops", "hops"],
    ["decision", "decision"], ["data uses", null], ["behind", null]];

  async function loadTable() {
    const zone = $("zone").value;
    const t = state.table;
    const body = $("table").tBodies[0];
    if (!zone) { say("table-message", "choose a zone first"); body.replaceChildren(); return; }
    let rows, title;
    if (t.queue) {
      const d = await api("/api/zones/" + encodeURIComponent(zone) + "/queue");
      rows = d.candidates;
      t.total = rows.length;
      title = d.converged ? "zone " + zone + " has converged: nothing to review"
        : "review queue of " + zone + ": " + rows.length + " candidate(s) now, " + d.pending + " pending in all";
    } else {
      const q = new URLSearchParams({ sort: t.sort, order: t.order, offset: String(t.offset), limit: String(t.limit) });
      if ($("table-status").value) q.set("status", $("table-status").value);
      if ($("table-q").value.trim()) q.set("q", $("table-q").value.trim());
      const d = await api("/api/zones/" + encodeURIComponent(zone) + "/status?" + q);
      rows = d.rows;
      t.total = d.total;
      state.colours = d.colours;
      recolour();
      const c = d.counts;
      title = "zone " + zone + ": " + c.protected + " protected, " + c.needs_review + " need review, " + c.excluded +
        " excluded, " + c.violation + " violation(s)";
    }
    t.rows = rows;
    $("table-title").textContent = title;
    const head = $("table").tHead;
    head.replaceChildren();
    const hr = el("tr");
    for (const [name, key] of COLUMNS) {
      if (name === "behind" && !t.queue) continue;
      const th = el("th", name + (key && key === t.sort && !t.queue ? (t.order === "asc" ? " ▲" : " ▼") : ""));
      if (name === "") {
        const all = el("input"); all.type = "checkbox"; all.id = "select-all";
        all.addEventListener("change", () => { rows.forEach((r) => all.checked ? state.selected.add(r.asset) : state.selected.delete(r.asset)); loadTableRows(); });
        th.append(all);
      } else if (key && !t.queue) {
        th.addEventListener("click", () => { t.order = t.sort === key && t.order === "asc" ? "desc" : "asc"; t.sort = key; t.offset = 0; loadTable(); });
      }
      hr.append(th);
    }
    head.append(hr);
    loadTableRows();
    $("page").textContent = t.queue ? "" : (t.total ? (t.offset + 1) + "–" + Math.min(t.offset + t.limit, t.total) + " of " + t.total : "0 rows");
  }

  function loadTableRows() {
    const t = state.table;
    const body = $("table").tBodies[0];
    body.replaceChildren();
    for (const r of t.rows) {
      const tr = el("tr", null, "st-" + r.status);
      tr.dataset.asset = r.asset;
      const box = el("input"); box.type = "checkbox"; box.checked = state.selected.has(r.asset);
      box.addEventListener("change", () => { box.checked ? state.selected.add(r.asset) : state.selected.delete(r.asset); });
      const td0 = el("td"); td0.append(box); tr.append(td0);
      tr.append(el("td", r.asset, "asset"), el("td", r.status, "status"), el("td", Number(r.confidence).toFixed(3)),
        el("td", r.hops), el("td", r.decision ? r.decision + (r.inherited ? " (dataset)" : "") + (r.by ? " by " + r.by : "") : ""),
        el("td", (r.uses || []).join(", ")));
      if (t.queue) tr.append(el("td", r.behind));
      body.append(tr);
    }
  }

  async function review(action) {
    const zone = $("zone").value;
    const assets = [...state.selected];
    if (!zone || !assets.length) { say("table-message", "select assets in the table first", true); return; }
    const reason = $("reason").value.trim();
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    try {
      const out = await api("/api/zones/" + encodeURIComponent(zone) + "/review", { method: "POST", headers,
        body: JSON.stringify({ action, assets, reason, downstream: $("downstream").checked }) });
      const n = action === "clear" ? out.cleared.length : out.applied.length;
      say("table-message", action + ": " + n + " decision(s) written to " + out.file + (out.kept.length ? ", " + out.kept.length + " earlier decision(s) kept" : ""));
      state.selected.clear();
      await loadTable();
      await refreshColours();
    } catch (err) { say("table-message", "error: " + err.message, true); }
  }

  for (const a of ["include", "exclude", "acknowledge", "clear"]) $("do-" + a).addEventListener("click", () => review(a));
  $("prev").addEventListener("click", () => { state.table.offset = Math.max(0, state.table.offset - state.table.limit); loadTable(); });
  $("next").addEventListener("click", () => { if (state.table.offset + state.table.limit < state.table.total) { state.table.offset += state.table.limit; loadTable(); } });
  $("table-status").addEventListener("change", () => { state.table.offset = 0; loadTable(); });
  $("table-q").addEventListener("change", () => { state.table.offset = 0; loadTable(); });

  function showTab(name) {
    for (const t of ["graph", "table", "queue"]) $("tab-" + t).classList.toggle("active", t === name);
    $("graph-view").hidden = name !== "graph";
    $("table-view").hidden = name === "graph";
    if (name === "graph") { cy.resize(); cy.fit(undefined, 20); return; }
    state.table.queue = name === "queue";
    state.table.offset = 0;
    $("table").tBodies[0].replaceChildren();  // never show one view's rows under the other's title
    $("table-title").textContent = "loading…";
    loadTable().catch((err) => say("table-message", "error: " + err.message, true));
  }
  for (const t of ["graph", "table", "queue"]) $("tab-" + t).addEventListener("click", () => showTab(t));

  $("zone").addEventListener("change", () => {
    refreshColours().catch((err) => { $("status-line").textContent = "error: " + err.message; });
    if (!$("table-view").hidden) loadTable();
  });
  $("apply").addEventListener("click", () => {
    if (!state.start) return;
    const start = state.start;
    select(start).then(() => expand(start, null, null)).catch((err) => { $("status-line").textContent = "error: " + err.message; });
  });
  $("token").addEventListener("change", () => { state.token = $("token").value; });

  async function init() {
    const kinds = $("kinds");
    kinds.append(el("span", "Evidence "));
    for (const k of KINDS) {
      const l = el("label"); const c = el("input"); c.type = "checkbox"; c.id = "kind-" + k; c.checked = true;
      l.append(c, document.createTextNode(" " + k)); kinds.append(l);
    }
    // #asset=ID[&expand=1] opens on an asset (a link to paste), #token=... hands the write token over
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("token")) state.token = hash.get("token");
    if (location.hash) history.replaceState(null, "", location.pathname);
    state.info = await api("/api/info");
    state.maxNodes = state.info.max_nodes;
    $("mode").textContent = (state.info.read_only ? "read-only" : "reviewer: " + state.info.reviewer) + " · store " + state.info.store;
    if (state.info.token_required && !state.token) $("token").hidden = false;
    if (state.info.read_only) for (const a of ["include", "exclude", "acknowledge", "clear"]) $("do-" + a).disabled = true;
    const z = await api("/api/zones");
    for (const zone of z.zones) { const o = el("option", zone.name); o.value = zone.name; $("zone").append(o); }
    if (z.zones.length) { $("zone").value = z.zones[0].name; await refreshColours(); }
    for (const b of z.broken) $("status-line").append(el("div", "zone file error: " + b, "error"));
    document.body.dataset.ready = "true";
    if (hash.get("asset")) {
      if (hash.get("depth")) $("depth").value = hash.get("depth");
      if (hash.get("direction")) $("direction").value = hash.get("direction");
      await select(hash.get("asset"));
      if (hash.get("expand")) await expand(state.start, null, null);
      document.body.dataset.graph = "ready";
      state.readyAt = performance.now();  // since navigation start: the page is interactive with its graph
    }
  }
  init().catch((err) => { $("status-line").textContent = "error: " + err.message; document.body.dataset.ready = "error"; });
})();
