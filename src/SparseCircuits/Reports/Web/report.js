// The report viewer: reads the JSON embedded in the page and draws one view per hash route
// (#/, #/circuit/ID[/node/NODE], #/embeddings, #/frontier), so links work from file://.
// Plain DOM + SVG, no library: the circuit graph is a layered DAG whose (x, y) layout is
// precomputed in C#, so a graph library would add only a build-time npm step and size.
// Every number is precomputed too; JavaScript only filters by threshold, zooms and pans.
(function () {
  'use strict';

  const SUPPORTED_FORMAT = 1;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const POS = [37, 99, 235];
  const NEG = [220, 38, 38];
  // One colour per node location, in the order the report lists them (DATA.locations, from C#).
  const LOCATION_PALETTE = ['#16a34a', '#2563eb', '#0891b2', '#7c3aed', '#475569', '#65a30d', '#ea580c', '#78716c'];
  const FALLBACK_COLOURS = ['#db2777', '#0d9488', '#9333ea', '#b45309', '#4d7c0f'];

  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  const app = document.getElementById('app');
  const nav = document.getElementById('nav');
  const circuitsById = new Map((DATA.circuits || []).map(c => [c.id, c]));
  const profiles = DATA.node_profiles || {};
  const locationOrder = DATA.locations || [];

  // ---------- small DOM helpers ----------

  function build(doc, ns, tag, attrs, children) {
    const e = ns ? doc.createElementNS(ns, tag) : doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    append(e, children);
    return e;
  }
  function append(parent, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(parent, c);
      else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return parent;
  }
  const el = (tag, attrs, ...children) => build(document, null, tag, attrs, children);
  const sv = (tag, attrs, ...children) => build(document, SVG_NS, tag, attrs, children);

  // ---------- numbers ----------

  // NaN and infinities arrive as strings ("NaN", "Infinity") from the C# serializer.
  function num(x) {
    if (x === null || x === undefined) return null;
    return typeof x === 'number' ? x : Number(x);
  }
  function fmt(x) {
    x = num(x);
    if (x === null) return '—';
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return '0';
    const a = Math.abs(x);
    if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
    if (a >= 1000) return Math.round(x).toLocaleString('en-US');
    return x.toPrecision(3);
  }
  function fmtInt(x) {
    x = num(x);
    return x === null ? '—' : Math.round(x).toLocaleString('en-US');
  }
  function fmtCount(x) {
    x = num(x);
    if (x === null) return '—';
    for (const [d, s] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']]) {
      if (Math.abs(x) >= d) return (x / d).toPrecision(3) + s;
    }
    return String(x);
  }
  function fmtPct(x) {
    x = num(x);
    return x === null ? '—' : fmt(100 * x) + '%';
  }
  function signed(x) {
    x = num(x);
    return x === null ? '—' : (x > 0 ? '+' : '') + fmt(x);
  }
  // Short axis labels: 7 rather than 7.00, 1.5k rather than 1,500.
  function fmtTick(x) {
    const big = Math.abs(x) >= 1000 ? /^(-?[\d.]+)([kMBT])$/.exec(fmtCount(x)) : null;
    if (big) return String(Number(big[1])) + big[2];
    return String(Number(x.toPrecision(3)));
  }
  // Min and max without spreading into arguments (metrics can have more points than a call takes).
  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }
  function maxAbs(values) {
    let m = 0;
    for (const v of values) { const a = Math.abs(num(v)); if (Number.isFinite(a) && a > m) m = a; }
    return m;
  }

  // ---------- colour ----------

  function activationColour(v, scale) {
    v = num(v);
    if (!scale || !Number.isFinite(v)) return 'transparent';
    const t = Math.max(-1, Math.min(1, v / scale));
    const [r, g, b] = t >= 0 ? POS : NEG;
    return `rgba(${r},${g},${b},${(0.7 * Math.abs(t)).toFixed(3)})`;
  }
  function locationColour(location) {
    const i = locationOrder.indexOf(location);
    if (i >= 0 && i < LOCATION_PALETTE.length) return LOCATION_PALETTE[i];
    let h = 0;
    for (const ch of location) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return FALLBACK_COLOURS[h % FALLBACK_COLOURS.length];
  }

  // ---------- tokens ----------

  const VISIBLE_WS = { ' ': '·', '\n': '↵', '\t': '→', '\r': '␍' };

  // Whitespace is drawn as faint symbols on one line, so snippets stay compact and spaces are visible.
  function tokenText(text) {
    const parts = [];
    let plain = '';
    for (const ch of String(text)) {
      if (VISIBLE_WS[ch]) {
        if (plain) { parts.push(plain); plain = ''; }
        parts.push(el('span', { class: 'ws', text: VISIBLE_WS[ch] }));
      } else plain += ch;
    }
    if (plain) parts.push(plain);
    return parts;
  }
  function tokenLine(tokens, values, scale, focus) {
    const line = el('div', { class: 'tokens' });
    (tokens || []).forEach((t, i) => {
      const v = values ? values[i] : null;
      const span = el('span', {
        class: i === focus ? 'tok focus' : 'tok',
        title: v === null || v === undefined ? null : fmt(v),
      }, tokenText(t));
      span.style.background = activationColour(v, scale);
      line.appendChild(span);
    });
    return line;
  }
  function shortLabel(text, max) {
    let s = '';
    for (const ch of String(text)) s += VISIBLE_WS[ch] || ch;
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  // ---------- tables ----------

  // columns: [{ label, num: bool }]; rows: arrays of cells (string | Node).
  function table(attrs, columns, rows) {
    return el('table', attrs,
      el('thead', {}, el('tr', {}, columns.map(c => el('th', { class: c.num ? 'num' : null }, c.label)))),
      el('tbody', {}, rows));
  }
  function row(attrs, columns, cells) {
    return el('tr', attrs, cells.map((c, i) => el('td', { class: columns[i] && columns[i].num ? 'num' : null }, c)));
  }
  function card(label, value, title) {
    return el('div', { class: 'card', title: title || null },
      el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  }

  // ---------- plots ----------

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    return ticks;
  }
  function log1pTicks(hi) {
    const ticks = [0];
    for (let p = 1; p <= Math.max(1, hi) * 10; p *= 10) {
      for (const m of [1, 3]) if (m * p <= hi * 1.0001 || ticks.length < 2) ticks.push(m * p);
    }
    return ticks.filter(t => t <= Math.max(hi, 1));
  }

  // A small line/point plot with axes and ticks. xLog uses log10(1 + x) so zero stays drawable.
  function plot(o) {
    const W = o.width || 640, H = o.height || 260;
    const m = { l: 56, r: 16, t: 22, b: 40 };
    const fx = o.xLog ? (x => Math.log10(1 + Math.max(0, x))) : (x => x);
    const pts = [];
    for (const s of o.series) for (const p of s.points) if (Number.isFinite(p[0]) && Number.isFinite(p[1])) pts.push(p);
    const svg = sv('svg', { class: 'plot', id: o.id || null, width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
    if (pts.length === 0) {
      svg.appendChild(sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted', text: o.empty || 'no data' }));
      return svg;
    }
    const xs = pts.map(p => fx(p[0])).concat((o.vlines || []).map(v => fx(v.x)));
    const ys = pts.map(p => p[1]).concat((o.hlines || []).filter(h => Number.isFinite(h.y)).map(h => h.y));
    let [x0, x1] = extent(xs);
    let [y0, y1] = extent(ys);
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const pad = 0.05 * (y1 - y0);
    y0 -= pad; y1 += pad;
    const X = x => m.l + (fx(x) - x0) / (x1 - x0) * (W - m.l - m.r);
    const Y = y => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);

    const grid = sv('g', { class: 'grid' });
    const axes = sv('g', { class: 'axis' });
    const yt = niceTicks(y0, y1, 5);
    for (const t of yt) {
      grid.appendChild(sv('line', { x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t) }));
      axes.appendChild(sv('line', { x1: m.l - 4, x2: m.l, y1: Y(t), y2: Y(t) }));
      axes.appendChild(sv('text', { x: m.l - 7, y: Y(t) + 4, 'text-anchor': 'end', text: fmtTick(t) }));
    }
    const xt = o.xLog ? log1pTicks(Math.pow(10, x1) - 1) : niceTicks(x0, x1, 6);
    for (const t of xt) {
      const px = o.xLog ? X(t) : m.l + (t - x0) / (x1 - x0) * (W - m.l - m.r);
      if (px < m.l - 0.5 || px > W - m.r + 0.5) continue;
      axes.appendChild(sv('line', { x1: px, x2: px, y1: H - m.b, y2: H - m.b + 4 }));
      axes.appendChild(sv('text', { x: px, y: H - m.b + 16, 'text-anchor': 'middle', text: fmtTick(t) }));
    }
    axes.appendChild(sv('path', { d: `M${m.l},${m.t} V${H - m.b} H${W - m.r}`, fill: 'none' }));
    axes.appendChild(sv('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', text: o.xLabel || '' }));
    axes.appendChild(sv('text', { x: 12, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})`, text: o.yLabel || '' }));
    svg.append(grid, axes);

    for (const h of o.hlines || []) {
      if (!Number.isFinite(h.y)) continue;
      svg.appendChild(sv('line', { x1: m.l, x2: W - m.r, y1: Y(h.y), y2: Y(h.y), stroke: h.colour, 'stroke-dasharray': '5 4' }));
      svg.appendChild(sv('text', { x: W - m.r - 2, y: Y(h.y) - 4, 'text-anchor': 'end', fill: h.colour, text: h.label }));
    }
    for (const v of o.vlines || []) {
      if (!Number.isFinite(v.x)) continue;
      svg.appendChild(sv('line', { x1: X(v.x), x2: X(v.x), y1: m.t, y2: H - m.b, stroke: v.colour, 'stroke-dasharray': '3 3' }));
      svg.appendChild(sv('text', { x: X(v.x) + 4, y: m.t + 10, fill: v.colour, text: v.label }));
    }
    let legendX = m.l + 8;
    for (const s of o.series) {
      const p = s.points.filter(q => Number.isFinite(q[0]) && Number.isFinite(q[1]));
      if (s.line && p.length > 1) {
        svg.appendChild(sv('polyline', { class: s.cls || null, fill: 'none', stroke: s.colour, 'stroke-width': 1.5,
          points: p.map(q => `${X(q[0]).toFixed(2)},${Y(q[1]).toFixed(2)}`).join(' ') }));
      }
      if (s.dots || p.length === 1) {
        const g = sv('g', { class: s.cls || null, fill: s.colour });
        for (const q of p) g.appendChild(sv('circle', { cx: X(q[0]), cy: Y(q[1]), r: 3 }, sv('title', { text: `${fmtInt(q[0])}: ${fmt(q[1])}` })));
        svg.appendChild(g);
      }
      svg.appendChild(sv('rect', { x: legendX, y: 6, width: 10, height: 10, fill: s.colour }));
      const label = sv('text', { x: legendX + 14, y: 15, text: s.name });
      svg.appendChild(label);
      legendX += 24 + 7 * s.name.length;
    }
    return svg;
  }

  // ---------- navigation ----------

  function circuitHref(id, node) {
    return '#/circuit/' + encodeURIComponent(id) + (node ? '/node/' + encodeURIComponent(node) : '');
  }
  function drawNav(active) {
    nav.replaceChildren();
    const links = [['overview', '#/', 'Overview'], ['embeddings', '#/embeddings', 'Embeddings']];
    if (DATA.frontier) links.push(['frontier', '#/frontier', 'Frontier']);
    if (DATA.bridges) links.push(['bridges', '#/bridges', 'Bridges']);
    for (const [key, href, label] of links) nav.appendChild(el('a', { href, class: key === active ? 'active' : null, id: 'nav-' + key }, label));
  }

  let current = { key: null, selectNode: null };

  function route() {
    let parts;
    try {
      parts = location.hash.replace(/^#\/?/, '').split('/').filter(p => p !== '').map(decodeURIComponent);
    } catch (e) {
      parts = ['?'];
    }
    const view = parts[0] || '';
    if (view === 'circuit' && parts.length >= 2) {
      const key = 'circuit:' + parts[1];
      const node = parts[2] === 'node' ? parts[3] : null;
      if (current.key === key && current.selectNode) { current.selectNode(node); return; }
      show('overview', key, () => circuitView(parts[1], node));
    } else if (view === '') show('overview', 'overview', overview);
    else if (view === 'embeddings') show('embeddings', 'embeddings', embeddingsView);
    else if (view === 'frontier' && DATA.frontier) show('frontier', 'frontier', frontierView);
    else if (view === 'bridges' && DATA.bridges) show('bridges', 'bridges', bridgesView);
    else show(null, 'missing', () => notFound('No such page: ' + location.hash));
  }
  function show(navKey, key, render) {
    drawNav(navKey);
    current = { key, selectNode: null };
    app.replaceChildren();
    if (num(DATA.format) > SUPPORTED_FORMAT) {
      app.appendChild(el('p', { class: 'empty' }, `This report has format ${DATA.format}; this viewer knows format ${SUPPORTED_FORMAT}. Some fields may be missing.`));
    }
    render();
    window.scrollTo(0, 0);
  }
  function notFound(message) {
    app.append(el('h1', {}, 'Not found'), el('p', { class: 'empty' }, message), el('p', {}, el('a', { href: '#/' }, 'Back to the overview')));
  }

  // ---------- overview ----------

  function overview() {
    const m = DATA.model || {};
    document.title = DATA.title || 'Report';
    app.appendChild(el('h1', {}, DATA.title || 'Report'));
    app.appendChild(el('p', { class: 'muted small' },
      `${m.name || ''} · step ${fmtInt(m.step)} · ${m.run_dir || ''} · built ${DATA.generated_at || '?'} with ${DATA.tool_version || '?'}`));
    app.appendChild(el('div', { class: 'cards', id: 'model-card' },
      card('parameters', fmtCount(m.parameters), fmtInt(m.parameters)),
      card('nonzeros', fmtCount(m.nonzeros), fmtInt(m.nonzeros)),
      card('density', m.dense ? 'dense' : fmtPct(m.density)),
      card('val loss', fmt(m.val_loss)),
      card('unigram val loss', fmt(m.unigram_val_loss)),
      card('train tokens', fmtCount(m.train_tokens), fmtInt(m.train_tokens))));
    const shape = [['layers', m.n_layer], ['d_model', m.d_model], ['heads', m.n_head], ['d_head', m.d_head],
      ['d_mlp', m.d_mlp], ['context', m.n_ctx], ['vocabulary', m.vocab_size]];
    const sc = [{ label: 'shape' }, { label: '', num: true }];
    app.appendChild(table({ id: 'shape-table' }, sc, shape.map(([k, v]) => row({}, sc, [k, fmtInt(v)]))));
    const config = m.config || [];
    const cc = [{ label: 'key' }, { label: 'value' }];
    app.appendChild(el('details', {}, el('summary', {}, `Training config (${config.length} entries)`),
      table({ id: 'config-table' }, cc, config.map(kv => row({}, cc, [el('code', {}, kv.key), el('code', {}, kv.value)])))));

    app.appendChild(el('h2', {}, 'Training'));
    const curve = DATA.training_curve || [];
    app.appendChild(plot({
      id: 'training-plot', width: 720, height: 280, xLabel: 'step', yLabel: 'loss', empty: 'no training metrics',
      series: [
        { name: 'train', colour: '#57606a', line: true, cls: 'train-line', points: curve.map(p => [num(p.step), num(p.train_loss)]) },
        { name: 'val', colour: '#d97706', dots: true, cls: 'val-points', points: curve.filter(p => p.val_loss !== null && p.val_loss !== undefined).map(p => [num(p.step), num(p.val_loss)]) },
      ],
      hlines: m.unigram_val_loss === null || m.unigram_val_loss === undefined ? [] : [{ y: num(m.unigram_val_loss), label: 'unigram', colour: '#8c959f' }],
    }));

    app.appendChild(el('h2', {}, 'Tasks'));
    const tasks = DATA.tasks || [];
    const tc = [{ label: 'task' }, { label: 'target loss', num: true }, { label: 'nodes', num: true }, { label: 'edges (weights)', num: true }, { label: 'full model', num: true },
      { label: 'circuit (sufficiency)', num: true }, { label: 'circuit removed (necessity)', num: true }, { label: 'random control', num: true }, { label: 'note' }];
    if (tasks.length === 0) app.appendChild(el('p', { class: 'empty' }, 'No tasks were pruned for this model.'));
    app.appendChild(table({ id: 'task-table' }, tc, tasks.map(t => {
      const linked = t.circuit_id && circuitsById.has(t.circuit_id);
      return row({ 'data-task': t.task, class: linked ? 'pruned' : 'not-pruned' }, tc, [
        linked ? el('a', { href: circuitHref(t.circuit_id) }, t.task) : t.task,
        fmt(t.target_loss),
        fmtInt(t.nodes), fmtInt(t.edges), fmt(t.full_model_loss), fmt(t.sufficiency_loss), fmt(t.necessity_loss), fmt(t.control_loss),
        t.reason || (t.pruned ? '' : 'not pruned'),
      ]);
    })));
    const listed = new Set(tasks.map(t => t.circuit_id));
    const others = (DATA.circuits || []).filter(c => !listed.has(c.id));
    if (others.length) {
      app.appendChild(el('h3', {}, 'Other circuits'));
      app.appendChild(el('ul', { id: 'other-circuits' }, others.map(c => el('li', {}, el('a', { href: circuitHref(c.id) }, `${c.task} (${c.id})`)))));
    }
  }

  // ---------- circuit ----------

  function circuitView(id, nodeId) {
    const c = circuitsById.get(id);
    if (!c) { notFound('No circuit with id ' + id); return; }
    document.title = `${c.task} · ${DATA.title || 'Report'}`;
    const v = c.validation || {};
    app.appendChild(el('h1', {}, `Circuit: ${c.task}`, el('span', { class: 'muted small' }, `  ${c.id} · ${c.method}`)));
    app.appendChild(el('div', { class: 'cards', id: 'circuit-summary' },
      card('full model loss', fmt(v.full_model_loss), `accuracy ${fmtPct(v.full_model_accuracy)}`),
      card('circuit loss (sufficiency)', fmt(v.sufficiency_loss), `accuracy ${fmtPct(v.sufficiency_accuracy)}; target ${fmt(c.target_loss)}`),
      card('circuit removed (necessity)', fmt(v.necessity_loss), `accuracy ${fmtPct(v.necessity_accuracy)}`),
      card('random control', `${fmt(v.control_loss_mean)} ± ${fmt(v.control_loss_std)}`, 'random circuits of the same size per location'),
      card('zero ablation', `${fmt(v.zero_sufficiency_loss)} / ${fmt(v.zero_necessity_loss)}`, 'sufficiency / necessity with zero instead of mean ablation'),
      card('nodes kept', `${fmtInt(c.node_count)} / ${fmtInt(c.total_nodes)}`),
      card('edges (nonzero weights)', fmtInt(c.edge_count), 'the paper\'s count; the drawing adds attention-score and residual links'),
      card('test prompts', fmtInt(v.test_prompts))));
    if (c.task_source) app.appendChild(el('details', {}, el('summary', {}, 'Task source'), el('pre', { class: 'mono small' }, c.task_source)));
    if ((c.notes || []).length) app.appendChild(el('ul', { id: 'circuit-notes', class: 'muted small' }, c.notes.map(t => el('li', {}, t))));

    const layout = el('div', { class: 'circuit-layout' });
    const left = el('div', {});
    const panel = el('aside', { id: 'node-panel' }, el('p', { class: 'empty' }, 'Click a node to see its connections, activations and pretraining snippets.'));
    layout.append(left, panel);
    app.appendChild(layout);

    const graph = circuitGraph(c);
    left.append(graph.toolbar, graph.svg, graph.legend);

    const lc = [{ label: 'layer', num: true }, { label: 'nodes', num: true }, { label: 'loss change when also ablated', num: true }];
    left.appendChild(el('h2', {}, 'Layers'));
    left.appendChild(table({ id: 'layer-table' }, lc, (c.layers || []).map(l => row({ 'data-layer': l.layer }, lc, [fmtInt(l.layer), fmtInt(l.nodes), signed(l.ablation_delta)]))));

    left.appendChild(el('h2', {}, 'Loss against circuit size'));
    // Prefixes of the ranking (the cut is the smallest passing one) and the smaller circuits the
    // refinement accepted after it: a user can pick a smaller circuit at a slightly higher loss.
    const stage = s => (c.loss_curve || []).filter(p => (p.stage || 'prefix') === s).sort((a, b) => num(a.nodes) - num(b.nodes));
    const prefixes = stage('prefix'), refined = stage('refined');
    const series = x => [
      { name: 'ranking prefixes', colour: '#0969da', line: true, dots: true, points: prefixes.filter(p => Number.isFinite(num(p[x]))).map(p => [num(p[x]), num(p.loss)]) },
      { name: 'refinement', colour: '#1a7f37', line: true, dots: true, points: refined.filter(p => Number.isFinite(num(p[x]))).map(p => [num(p[x]), num(p.loss)]) },
    ].filter(s => s.points.length);
    left.appendChild(plot({
      id: 'loss-curve', width: 640, height: 260, xLog: true, xLabel: 'nodes kept', yLabel: 'task loss', empty: 'no loss curve',
      series: series('nodes'),
      hlines: [{ y: num(c.target_loss), label: 'target', colour: '#cf222e' }],
      vlines: prefixes.length ? [{ x: num(c.node_count), label: 'this circuit', colour: '#57606a' }] : [],
    }));
    left.appendChild(plot({
      id: 'loss-edges-curve', width: 640, height: 260, xLog: true, xLabel: 'edges (nonzero weights between kept nodes)', yLabel: 'task loss',
      empty: 'no edge counts stored (circuit pruned before they were)',
      series: series('edges'),
      hlines: [{ y: num(c.target_loss), label: 'target', colour: '#cf222e' }],
      vlines: prefixes.some(p => Number.isFinite(num(p.edges))) ? [{ x: num(c.edge_count), label: 'this circuit', colour: '#57606a' }] : [],
    }));

    const nodesById = new Map((c.nodes || []).map(n => [n.id, n]));
    current.selectNode = node => {
      const n = node ? nodesById.get(node) : null;
      graph.select(n ? n.id : null);
      panel.replaceChildren();
      if (!n) {
        panel.appendChild(el('p', { class: 'empty' }, node ? `No node ${node} in this circuit.` : 'Click a node to see its connections, activations and pretraining snippets.'));
        return;
      }
      nodePanel(panel, c, n);
    };
    if (nodeId) current.selectNode(nodeId);
  }

  function circuitGraph(c) {
    const nodes = c.nodes || [];
    const rows = (c.rows || []).slice().sort((a, b) => num(a.y) - num(b.y));
    // Deep models have many rows: pack them closer and let the box grow, so the graph keeps its width.
    const W = 1000, LEFT = 150, RIGHT = 20, TOP = 30, ROW_GAP = rows.length > 12 ? 50 : 80, BOTTOM = 30;
    const ys = rows.map(r => num(r.y)).concat(nodes.map(n => num(n.y))).filter(Number.isFinite);
    const [minY, maxY] = ys.length ? extent(ys) : [0, 0];
    const span = Math.max(1, rows.length - 1) * ROW_GAP;
    const py = y => TOP + (maxY > minY ? (num(y) - minY) / (maxY - minY) * span : 0);
    const px = x => LEFT + Math.max(0, Math.min(1, num(x))) * (W - LEFT - RIGHT);
    const H = TOP + span + BOTTOM;
    const home = { x: 0, y: 0, w: W, h: H };
    let vb = { ...home };

    const svg = sv('svg', { id: 'graph', viewBox: `0 0 ${W} ${H}`, 'data-circuit': c.id });
    svg.style.height = `${Math.round(Math.min(1500, Math.max(360, 0.6 * H)))}px`;
    const setViewBox = () => svg.setAttribute('viewBox', `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);

    const back = sv('g', {});
    for (const r of rows) {
      back.appendChild(sv('line', { class: 'row-line', x1: LEFT - 10, x2: W - RIGHT, y1: py(r.y), y2: py(r.y) }));
      back.appendChild(sv('text', { class: 'row-label', x: 8, y: py(r.y) + 4, text: r.label }));
    }
    // q/k/v channels of one head sit together (x from the layout); a faint box names the head.
    const heads = new Map();
    for (const n of nodes) {
      if (n.head === null || n.head === undefined) continue;
      const key = `${num(n.y)}|${n.location}|${n.head}`;
      const h = heads.get(key) || { y: num(n.y), head: n.head, lo: Infinity, hi: -Infinity };
      h.lo = Math.min(h.lo, px(n.x)); h.hi = Math.max(h.hi, px(n.x));
      heads.set(key, h);
    }
    const headSpans = new Map();
    for (const h of heads.values()) {
      const key = `${h.y}|${h.head}`;
      const s = headSpans.get(key) || { y: h.y, head: h.head, lo: Infinity, hi: -Infinity };
      s.lo = Math.min(s.lo, h.lo); s.hi = Math.max(s.hi, h.hi);
      headSpans.set(key, s);
    }
    for (const s of headSpans.values()) {
      back.appendChild(sv('rect', { class: 'head-box', x: s.lo - 9, y: py(s.y) - 12, width: s.hi - s.lo + 18, height: 24, rx: 5 }));
      back.appendChild(sv('text', { class: 'head-label', x: s.lo - 8, y: py(s.y) - 15, text: `head ${s.head}` }));
    }

    // Node size shrinks where a row is crowded so neighbours stay distinguishable.
    const radius = new Map();
    const byRow = new Map();
    for (const n of nodes) { const k = num(n.y); (byRow.get(k) || byRow.set(k, []).get(k)).push(px(n.x)); }
    for (const [k, xs] of byRow) {
      xs.sort((a, b) => a - b);
      let gap = Infinity;
      for (let i = 1; i < xs.length; i++) if (xs[i] - xs[i - 1] > 0.01) gap = Math.min(gap, xs[i] - xs[i - 1]);
      radius.set(k, Math.max(2.5, Math.min(7, gap * 0.42)));
    }

    const pos = new Map(nodes.map(n => [n.id, { x: px(n.x), y: py(n.y) }]));
    const maxW = num(c.max_abs_weight) > 0 ? num(c.max_abs_weight) : maxAbs((c.edges || []).map(e => e.weight)) || 1;
    const edgeLayer = sv('g', { class: 'edges' });
    const edgesOf = new Map(nodes.map(n => [n.id, []]));
    const edgeEls = [];
    for (const e of c.edges || []) {
      const a = pos.get(e.source), b = pos.get(e.target);
      if (!a || !b) continue;
      const w = num(e.weight);
      const d = a.y === b.y
        ? `M${a.x},${a.y} Q${(a.x + b.x) / 2},${a.y - 35} ${b.x},${b.y}`
        : `M${a.x},${a.y} C${a.x},${(a.y + b.y) / 2} ${b.x},${(a.y + b.y) / 2} ${b.x},${b.y}`;
      const path = sv('path', {
        class: 'edge ' + (w >= 0 ? 'pos' : 'neg'), d, 'data-source': e.source, 'data-target': e.target, 'data-weight': w,
        'stroke-width': (0.4 + 3.6 * Math.min(1, Math.abs(w) / maxW)).toFixed(2),
      }, sv('title', { text: `${e.source} → ${e.target} (${e.kind}): ${fmt(w)}` }));
      edgeLayer.appendChild(path);
      edgeEls.push({ el: path, abs: Math.abs(w) });
      edgesOf.get(e.source).push(path);
      if (e.target !== e.source) edgesOf.get(e.target).push(path);
    }

    const nodeLayer = sv('g', { class: 'nodes' });
    const nodeEls = new Map();
    let dragged = false;
    for (const n of nodes) {
      const p = pos.get(n.id), r = radius.get(num(n.y)) || 5, colour = locationColour(n.location || '');
      const isAttn = /attn\.(q|k|v)/.test(n.location || '');
      const shape = isAttn
        ? sv('rect', { class: 'shape', x: p.x - r, y: p.y - r, width: 2 * r, height: 2 * r, rx: 1.5, fill: colour })
        : sv('circle', { class: 'shape', cx: p.x, cy: p.y, r, fill: colour });
      const g = sv('g', { class: 'node', 'data-node': n.id, 'data-location': n.location, tabindex: 0 },
        shape, sv('title', { text: `${n.id}  mean ${fmt(n.mean)}  score ${fmt(n.score)}` }));
      g.addEventListener('click', () => { if (!dragged) location.hash = circuitHref(c.id, n.id); });
      g.addEventListener('keydown', ev => { if (ev.key === 'Enter') location.hash = circuitHref(c.id, n.id); });
      g.addEventListener('mouseenter', () => {
        svg.classList.add('hovering');
        for (const e of edgesOf.get(n.id)) e.classList.add('lit');
      });
      g.addEventListener('mouseleave', () => {
        svg.classList.remove('hovering');
        for (const e of edgesOf.get(n.id)) e.classList.remove('lit');
      });
      nodeLayer.appendChild(g);
      nodeEls.set(n.id, g);
    }
    if (nodes.length === 0) back.appendChild(sv('text', { x: W / 2, y: TOP + 10, 'text-anchor': 'middle', class: 'muted', text: 'This circuit has no nodes.' }));
    svg.append(back, edgeLayer, nodeLayer);

    // Threshold: hide edges whose |weight| is below it.
    const count = el('span', { id: 'edge-count' }, String(edgeEls.length));
    const thresholdValue = el('span', { id: 'edge-threshold-value', class: 'mono' }, '0');
    const slider = el('input', { id: 'edge-threshold', type: 'range', min: 0, max: maxW, step: maxW / 200, value: 0, disabled: edgeEls.length === 0 });
    slider.addEventListener('input', () => {
      const t = Number(slider.value);
      let shown = 0;
      for (const e of edgeEls) { const hide = e.abs < t; e.el.classList.toggle('hidden', hide); if (!hide) shown++; }
      count.textContent = String(shown);
      thresholdValue.textContent = fmt(t);
    });

    // Zoom (wheel, around the pointer) and pan (drag) move the viewBox.
    function toViewBox(clientX, clientY) {
      const ctm = svg.getScreenCTM();
      if (!ctm) return { x: vb.x + vb.w / 2, y: vb.y + vb.h / 2 };
      const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
      return { x: p.x, y: p.y };
    }
    svg.addEventListener('wheel', ev => {
      ev.preventDefault();
      const f = Math.pow(1.15, Math.sign(ev.deltaY));
      const nw = vb.w * f;
      if (nw < home.w / 40 || nw > home.w * 10) return;
      const p = toViewBox(ev.clientX, ev.clientY);
      vb = { x: p.x - (p.x - vb.x) * f, y: p.y - (p.y - vb.y) * f, w: nw, h: vb.h * f };
      setViewBox();
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', ev => {
      if (ev.button !== 0) return;
      const ctm = svg.getScreenCTM();
      drag = { x: ev.clientX, y: ev.clientY, vb: { ...vb }, scale: ctm && ctm.a ? 1 / ctm.a : 1 };
      dragged = false;
    });
    window.addEventListener('pointermove', ev => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!dragged && Math.hypot(dx, dy) < 4) return;
      dragged = true;
      svg.classList.add('panning');
      vb = { ...drag.vb, x: drag.vb.x - dx * drag.scale, y: drag.vb.y - dy * drag.scale };
      setViewBox();
    });
    window.addEventListener('pointerup', () => {
      if (!drag) return;
      drag = null;
      svg.classList.remove('panning');
      // The click that ends a pan must not select a node; clear the flag after that click ran.
      setTimeout(() => { dragged = false; }, 0);
    });
    const reset = el('button', { id: 'graph-reset', type: 'button', title: 'Reset zoom and pan' }, 'Reset view');
    reset.addEventListener('click', () => { vb = { ...home }; setViewBox(); });

    const toolbar = el('div', { class: 'toolbar' },
      el('label', { for: 'edge-threshold' }, '|weight| ≥ '), slider, thresholdValue,
      el('span', {}, count, ` of ${edgeEls.length} edges shown`), reset,
      el('span', { class: 'muted small' }, 'wheel: zoom · drag: pan · click a node'));
    const locations = [...new Set(nodes.map(n => n.location))].sort();
    const legend = el('div', { class: 'legend' },
      locations.map(l => el('span', {}, el('span', { class: 'swatch', style: `background:${locationColour(l || '')}` }), l)),
      el('span', {}, el('span', { class: 'swatch line', style: 'background:var(--pos)' }), 'positive weight'),
      el('span', {}, el('span', { class: 'swatch line', style: 'background:var(--neg)' }), 'negative weight'));

    function select(id) {
      for (const [k, g] of nodeEls) g.classList.toggle('selected', k === id);
    }
    return { svg, toolbar, legend, select };
  }

  // ---------- node panel ----------

  function nodePanel(panel, c, n) {
    // The circuit's own loss on the prompts the single-node ablations were measured on.
    const circuitLoss = num(c.ablation_reference_loss) ?? num((c.validation || {}).sufficiency_loss);
    panel.appendChild(el('h2', { id: 'node-title' }, n.id));
    const kc = [{ label: '' }, { label: '', num: true }];
    panel.appendChild(table({ id: 'node-facts' }, kc, [
      row({}, kc, ['layer', fmtInt(n.layer)]),
      row({}, kc, ['location', n.location]),
      row({}, kc, ['head', n.head === null || n.head === undefined ? '—' : fmtInt(n.head)]),
      row({}, kc, ['index', fmtInt(n.index)]),
      row({}, kc, ['mean (ablation value)', fmt(n.mean)]),
      row({}, kc, ['score', fmt(n.score)]),
      row({}, kc, ['loss with this node ablated', num(n.ablated_loss) === null ? '—'
        : `${fmt(n.ablated_loss)} (${signed(num(n.ablated_loss) - circuitLoss)} vs circuit)`]),
    ]));

    const edges = c.edges || [];
    const ec = [{ label: 'node' }, { label: 'kind' }, { label: 'weight', num: true }];
    const edgeTable = (id, list, other) => table({ id }, ec, list
      .slice().sort((a, b) => Math.abs(num(b.weight)) - Math.abs(num(a.weight)))
      .map(e => {
        const target = e[other];
        const tr = row({ 'data-node': target, class: 'clickable', title: 'Go to ' + target }, ec, [target, e.kind, fmt(e.weight)]);
        tr.addEventListener('click', () => { location.hash = circuitHref(c.id, target); });
        return tr;
      }));
    const incoming = edges.filter(e => e.target === n.id), outgoing = edges.filter(e => e.source === n.id);
    panel.appendChild(el('h3', {}, `Incoming edges (${incoming.length})`));
    panel.appendChild(edgeTable('node-in-edges', incoming, 'source'));
    panel.appendChild(el('h3', {}, `Outgoing edges (${outgoing.length})`));
    panel.appendChild(edgeTable('node-out-edges', outgoing, 'target'));

    taskActivations(panel, c, n);
    if (n.attention) attention(panel, n.attention);
    pretraining(panel, profiles[n.id]);
  }

  function taskActivations(panel, c, n) {
    const ta = n.task_activations;
    const names = c.class_names || [];
    const name = i => names[i] || `class ${i}`;
    const box = el('section', { id: 'node-task' }, el('h3', {}, 'On task prompts'));
    panel.appendChild(box);
    if (!ta) { box.appendChild(el('p', { class: 'empty' }, 'No task activations.')); return; }
    const mc = [{ label: 'mean at last position' }, { label: '', num: true }];
    box.appendChild(table({ id: 'node-task-means' }, mc, [
      row({}, mc, [name(0), fmt(ta.mean_last_class0)]),
      row({}, mc, [name(1), fmt(ta.mean_last_class1)]),
      row({}, mc, [`difference (${name(0)} − ${name(1)})`, signed(ta.mean_last_difference)]),
    ]));
    const pairs = ta.pairs || [];
    const scale = maxAbs(pairs.flatMap(p => [...((p.class0 || {}).activations || []), ...((p.class1 || {}).activations || [])]));
    const diffScale = maxAbs(pairs.flatMap(p => p.difference || []));
    pairs.forEach((p, i) => {
      const c0 = p.class0 || {}, c1 = p.class1 || {};
      box.appendChild(el('div', { class: 'pair', 'data-pair': i },
        el('div', {}, el('span', { class: 'cls' }, name(0)), tokenLine(c0.tokens, c0.activations, scale, -1)),
        el('div', {}, el('span', { class: 'cls' }, name(1)), tokenLine(c1.tokens, c1.activations, scale, -1)),
        p.difference ? el('div', { class: 'diff' }, el('span', { class: 'cls' }, 'difference'), tokenLine(c0.tokens, p.difference, diffScale, -1)) : null));
    });
    if (pairs.length === 0) box.appendChild(el('p', { class: 'empty' }, 'No contrast pairs recorded.'));
  }

  function heatmap(tokens, matrix, caption, id) {
    const n = tokens.length;
    const cell = Math.max(7, Math.min(18, Math.floor(200 / Math.max(1, n))));
    const labelW = 70, labelH = 60;
    const W = labelW + n * cell + 4, H = labelH + n * cell + 4;
    const svg = sv('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'heatmap', id });
    tokens.forEach((t, i) => {
      svg.appendChild(sv('text', { x: labelW - 4, y: labelH + i * cell + cell * 0.75, 'text-anchor': 'end', 'font-size': 9, text: shortLabel(t, 10) }));
      const cx = labelW + i * cell + cell * 0.7, cy = labelH - 4;
      svg.appendChild(sv('text', { x: cx, y: cy, 'font-size': 9, transform: `rotate(-60 ${cx} ${cy})`, text: shortLabel(t, 10) }));
    });
    (matrix || []).forEach((r, q) => (r || []).forEach((v, k) => {
      if (k > q) return;
      const val = num(v);
      svg.appendChild(sv('rect', { x: labelW + k * cell, y: labelH + q * cell, width: cell - 1, height: cell - 1,
        fill: `rgba(9,105,218,${Number.isFinite(val) ? Math.max(0, Math.min(1, val)).toFixed(3) : 0})`, stroke: '#eaeef2', 'stroke-width': 0.5 },
        sv('title', { text: `${shortLabel(tokens[q], 20)} → ${shortLabel(tokens[k], 20)}: ${fmt(val)}` })));
    }));
    return el('figure', {}, svg, el('figcaption', {}, caption));
  }

  function attention(panel, a) {
    const tokens = a.tokens || [];
    panel.appendChild(el('h3', {}, 'Attention pattern of the head (rows: query, columns: key)'));
    panel.appendChild(el('div', { class: 'heatmaps', id: 'node-attention' },
      heatmap(tokens, a.kept, `kept q/k channels (${(a.kept_channels || []).length}: ${(a.kept_channels || []).join(', ')})`, 'attention-kept'),
      heatmap(tokens, a.full, 'all channels', 'attention-full')));
  }

  function pretraining(panel, p) {
    panel.appendChild(el('h3', {}, 'On pretraining text'));
    const box = el('section', { id: 'node-snippets' });
    if (!p) {
      box.appendChild(el('p', { class: 'empty' }, 'No pretraining profile for this node.'));
      panel.appendChild(box);
      return;
    }
    panel.appendChild(el('p', { class: 'small muted' },
      `${fmtInt(p.tokens_seen)} tokens · min ${fmt(p.min)} · mean ${fmt(p.mean_activation)} · max ${fmt(p.max)}`));
    const qc = [{ label: 'quantile', num: true }, { label: 'activation', num: true }];
    panel.appendChild(el('details', {}, el('summary', {}, 'Quantiles'),
      table({ id: 'node-quantiles' }, qc, (p.quantiles || []).map(q => row({}, qc, [fmtPct(q.quantile), fmt(q.value)])))));
    const scale = Math.max(Math.abs(num(p.min)) || 0, Math.abs(num(p.max)) || 0);
    for (const g of p.snippets || []) {
      const group = el('div', { class: 'snippet-group', 'data-group': g.label },
        el('h3', {}, `${g.label} `, el('span', { class: 'muted small' }, `(${g.top ? '≥' : '≤'} ${fmt(g.threshold)})`)));
      for (const s of g.snippets || []) group.appendChild(tokenLine(s.tokens, s.activations, scale, num(s.focus)));
      if (!(g.snippets || []).length) group.appendChild(el('p', { class: 'empty' }, 'none'));
      box.appendChild(group);
    }
    panel.appendChild(box);
  }

  // ---------- embeddings ----------

  function embeddingsView() {
    document.title = `Embeddings · ${DATA.title || 'Report'}`;
    const e = DATA.embeddings || { channels: [] };
    const channels = e.channels || [];
    app.appendChild(el('h1', {}, 'Embeddings'));
    app.appendChild(el('p', { class: 'muted' },
      `Per residual channel: the ${fmtInt(e.tokens_per_side)} tokens whose embedding (wte) writes it most and least, and the tokens its unembedding (lm_head) promotes and suppresses most.`));
    const only = el('input', { type: 'checkbox', id: 'only-used' });
    app.appendChild(el('p', {}, el('label', {}, only, ' only channels used by circuits')));
    const chips = list => el('div', { class: 'chips' }, (list || []).map(t => el('span', { class: 'chip', title: fmt(t.weight) }, tokenText(t.token))));
    const ec = [{ label: 'channel', num: true }, { label: 'wte top' }, { label: 'wte bottom' }, { label: 'lm_head top' }, { label: 'lm_head bottom' }, { label: 'used by' }];
    const rows = channels.map(ch => row({ 'data-channel': ch.channel, 'data-used': (ch.used_by || []).length > 0 ? 'yes' : 'no' }, ec, [
      fmtInt(ch.channel), chips(ch.wte_top), chips(ch.wte_bottom), chips(ch.lm_head_top), chips(ch.lm_head_bottom),
      el('span', {}, (ch.used_by || []).map(id => el('div', {}, circuitsById.has(id) ? el('a', { href: circuitHref(id) }, circuitsById.get(id).task) : id))),
    ]));
    if (channels.length === 0) app.appendChild(el('p', { class: 'empty' }, 'No embedding channels in this report.'));
    app.appendChild(table({ id: 'embedding-table' }, ec, rows));
    only.addEventListener('change', () => {
      for (const r of rows) r.hidden = only.checked && r.getAttribute('data-used') !== 'yes';
    });
  }

  // ---------- frontier ----------

  // The figures are our own ScottPlot output; still drop anything that could run or fetch.
  function safeSvg(markup) {
    const doc = new DOMParser().parseFromString(String(markup || ''), 'image/svg+xml');
    const root = doc.documentElement;
    if (!root || root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
    for (const bad of root.querySelectorAll('script, foreignObject, iframe, object, embed')) bad.remove();
    for (const node of [root, ...root.querySelectorAll('*')]) {
      for (const a of [...node.attributes]) {
        const name = a.name.toLowerCase();
        const external = (name === 'href' || name.endsWith(':href') || name === 'src') && !/^\s*(#|data:image\/)/i.test(a.value);
        const fetches = name === 'style' && /url\(\s*['"]?\s*(?!#)/i.test(a.value);
        if (name.startsWith('on') || external || fetches) node.removeAttribute(a.name);
      }
    }
    for (const style of root.querySelectorAll('style')) {
      style.textContent = style.textContent.replace(/@\s*import[^;]*;?/gi, '').replace(/url\(\s*['"]?\s*(?!#|data:)[^)]*\)/gi, 'none');
    }
    return document.importNode(root, true);
  }

  function frontierView() {
    const f = DATA.frontier;
    document.title = `Frontier · ${DATA.title || 'Report'}`;
    app.appendChild(el('h1', {}, 'Sparsity frontier'));
    app.appendChild(el('p', { id: 'frontier-summary', style: 'white-space: pre-wrap' }, f.summary || ''));
    for (const fig of f.figures || []) {
      const svg = safeSvg(fig.svg);
      app.appendChild(el('figure', { class: 'figure' }, el('h3', {}, fig.title),
        svg || el('p', { class: 'empty' }, 'This figure could not be read.'),
        el('figcaption', { class: 'muted small' }, fig.caption)));
    }
    const cols = (f.columns || []).map(label => ({ label }));
    const looksNumeric = s => /^\s*[-+]?(\d|\.\d)[\d.,eE+%-]*\s*$/.test(String(s));
    app.appendChild(table({ id: 'frontier-table' }, cols, (f.rows || []).map(r =>
      el('tr', {}, r.map(cell => el('td', { class: looksNumeric(cell) ? 'num' : null }, String(cell)))))));
  }

  // ---------- bridges ----------

  function bridgesView() {
    const b = DATA.bridges;
    document.title = `Bridges · ${DATA.title || 'Report'}`;
    app.appendChild(el('h1', {}, 'Bridges to the dense model'));
    app.appendChild(el('p', { id: 'bridges-summary', style: 'white-space: pre-wrap' }, b.summary || ''));
    const cols = (b.columns || []).map(label => ({ label }));
    app.appendChild(table({ id: 'bridges-table' }, cols, (b.rows || []).map(r =>
      el('tr', {}, r.map((cell, i) => el('td', { class: i > 0 ? 'num' : null }, String(cell)))))));
    for (const fig of b.figures || []) {
      const svg = safeSvg(fig.svg);
      app.appendChild(el('figure', { class: 'figure' }, el('h3', {}, fig.title),
        svg || el('p', { class: 'empty' }, 'This figure could not be read.'),
        el('figcaption', { class: 'muted small' }, fig.caption)));
    }
  }

  window.addEventListener('hashchange', route);
  route();
})();
