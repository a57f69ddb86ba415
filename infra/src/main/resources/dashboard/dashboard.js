// diffustream dashboard: polls api/state and renders it. No dependencies, no network beyond
// this server (the page's Content-Security-Policy allows nothing else).
(function () {
  'use strict';

  var POLL_MS = 1500;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed'];
  var OUTCOME_COLORS = {
    PASSED: '#059669', PARTIAL: '#65a30d', FAILED: '#dc2626', FORMAT_ERROR: '#d97706',
    SYNTAX_ERROR: '#ea580c', TIMEOUT: '#7c3aed', MEMORY_LIMIT: '#9333ea',
    RUNTIME_ERROR: '#be123c', SANDBOX_ERROR: '#111827', UNKNOWN: '#9ca3af'
  };

  function $(id) { return document.getElementById(id); }

  // Jackson writes non-finite doubles as the strings "NaN", "Infinity", "-Infinity".
  function num(x) {
    if (x === null || x === undefined) { return null; }
    return typeof x === 'string' ? Number(x) : x;
  }

  function fmt(x) {
    x = num(x);
    if (x === null) { return '—'; }
    if (Number.isNaN(x)) { return 'NaN'; }
    if (!Number.isFinite(x)) { return x > 0 ? '∞' : '-∞'; }
    if (Number.isInteger(x) && Math.abs(x) < 1e15) { return String(x); }
    var a = Math.abs(x);
    if (a !== 0 && (a < 1e-4 || a >= 1e6)) { return x.toExponential(3); }
    return String(Number(x.toPrecision(4)));
  }

  function setText(id, text) {
    var e = $(id);
    if (e && e.textContent !== text) { e.textContent = text; }
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function svgEl(name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function td(text, cls, id) {
    var c = document.createElement('td');
    c.textContent = text;
    if (cls) { c.className = cls; }
    if (id) { c.id = id; }
    return c;
  }

  function time(ms) {
    if (ms === null || ms === undefined) { return '—'; }
    var d = new Date(ms);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }

  // A line chart of one or more series [{label, color, pts: [[x, y]], band: [[x, lo, hi]]}].
  function plot(id, series, empty) {
    var svg = $(id);
    var W = 400, H = 112, L = 44, R = 8, T = 6, B = 16;
    clear(svg);
    svg.setAttribute('data-points', String(series.length ? series[0].pts.length : 0));
    var legend = $('legend-' + id.substring(5));
    if (legend) { clear(legend); }
    var ys = [], xs = [];
    series.forEach(function (s) {
      s.pts.forEach(function (p) {
        var y = num(p[1]);
        if (Number.isFinite(y)) { xs.push(p[0]); ys.push(y); }
      });
      (s.band || []).forEach(function (b) {
        var lo = num(b[1]), hi = num(b[2]);
        if (Number.isFinite(lo) && Number.isFinite(hi)) { ys.push(lo, hi); }
      });
    });
    if (!ys.length) {
      svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'class': 'empty' }, empty));
      return;
    }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    if (y0 === y1) { var d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    var pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    function X(x) { return L + (x - x0) / (x1 - x0) * (W - L - R); }
    function Y(y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); }
    svg.appendChild(svgEl('line', { x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis' }));
    svg.appendChild(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis' }));
    svg.appendChild(svgEl('text', { x: L - 3, y: T + 8, 'text-anchor': 'end' }, fmt(y1)));
    svg.appendChild(svgEl('text', { x: L - 3, y: H - B, 'text-anchor': 'end' }, fmt(y0)));
    svg.appendChild(svgEl('text', { x: L, y: H - 4 }, 'step ' + fmt(Math.ceil(x0))));
    svg.appendChild(svgEl('text', { x: W - R, y: H - 4, 'text-anchor': 'end' }, fmt(Math.floor(x1))));
    series.forEach(function (s) {
      if (s.band && s.band.length > 1) {
        var up = [], down = [];
        s.band.forEach(function (b) {
          var lo = num(b[1]), hi = num(b[2]);
          if (Number.isFinite(lo) && Number.isFinite(hi)) {
            up.push(X(b[0]).toFixed(1) + ',' + Y(hi).toFixed(1));
            down.unshift(X(b[0]).toFixed(1) + ',' + Y(lo).toFixed(1));
          }
        });
        var band = svgEl('polygon', { points: up.concat(down).join(' '), 'class': 'band' });
        band.style.fill = s.color;
        svg.appendChild(band);
      }
      var pts = s.pts.filter(function (p) { return Number.isFinite(num(p[1])); });
      if (pts.length === 1) {
        var c = svgEl('circle', { cx: X(pts[0][0]), cy: Y(num(pts[0][1])), r: 2.5 });
        c.style.fill = s.color;
        svg.appendChild(c);
      } else if (pts.length > 1) {
        var line = svgEl('polyline', {
          points: pts.map(function (p) { return X(p[0]).toFixed(1) + ',' + Y(num(p[1])).toFixed(1); }).join(' ')
        });
        line.style.stroke = s.color;
        svg.appendChild(line);
      }
      if (legend) {
        var sw = document.createElement('i');
        sw.style.background = s.color;
        legend.appendChild(sw);
        var last = s.pts.length ? s.pts[s.pts.length - 1][1] : null;
        legend.appendChild(document.createTextNode(s.label + ' ' + fmt(last)));
      }
    });
  }

  function stepSeries(steps, field) {
    return steps.map(function (p) { return [p.step, p[field]]; });
  }

  function renderCards(s) {
    setText('run-id', s.runId);
    setText('topic-prefix', s.prefix === '' ? '(none)' : s.prefix);
    setText('updated-at', time(s.generatedAt));
    var p = s.policy;
    setText('policy-version', fmt(p.version));
    setText('checkpoint-step', fmt(p.step));
    setText('checkpoint-kind', p.kind || '—');
    setText('checkpoint-count', fmt(p.checkpoints));
    setText('checkpoint-sha', p.sha256 ? p.sha256.substring(0, 12) : '—');
    var l = s.learner;
    setText('learner-step', fmt(l.step));
    setText('learner-batch', fmt(l.batch));
    setText('learner-version-before', fmt(l.policyVersionBefore));
    setText('step-duration', fmt(l.durationMs));
    setText('learning-rate', fmt(l.learningRate));
    setText('reward-mean', fmt(s.reward.mean));
    setText('reward-std', fmt(s.reward.std));
    setText('reward-step', fmt(s.reward.step));
    setText('pass-at-1', fmt(s.eval.latest));
    setText('pass-at-1-step', fmt(s.eval.step));
    setText('pass-at-1-version', fmt(s.eval.policyVersion));
    var g = s.groups;
    var droppedGroups = Object.keys(g.dropped).reduce(function (a, k) { return a + g.dropped[k]; }, 0);
    setText('groups-total', fmt(g.total));
    setText('groups-trainable', fmt(g.trainable));
    setText('groups-dropped', fmt(droppedGroups));
    setText('groups-deadline', fmt(g.closeReasons.DEADLINE || 0));
    setText('dead-letters', fmt(s.deadLetters.total));
    var dl = s.deadLetters.latest;
    setText('dead-letter-latest', dl
      ? 'newest: ' + dl.service + ' ← ' + dl.sourceTopic + '@' + dl.sourcePartition + ':' + dl.sourceOffset + ' — ' + dl.error
      : 'none');
  }

  function renderPlots(s) {
    var st = s.steps;
    plot('plot-loss', [
      { label: 'total', color: COLORS[0], pts: stepSeries(st, 'loss') },
      { label: 'policy', color: COLORS[1], pts: stepSeries(st, 'policyLoss') }
    ], 'waiting for the first train step');
    plot('plot-kl', [{ label: 'kl', color: COLORS[4], pts: stepSeries(st, 'kl') }],
      'waiting for the first train step');
    plot('plot-clip', [
      { label: 'low', color: COLORS[0], pts: stepSeries(st, 'clipLow') },
      { label: 'high', color: COLORS[3], pts: stepSeries(st, 'clipHigh') }
    ], 'waiting for the first train step');
    plot('plot-grad-norm', [{ label: 'norm', color: COLORS[1], pts: stepSeries(st, 'gradNorm') }],
      'waiting for the first train step');
    plot('plot-reward', [{
      label: 'mean', color: COLORS[2], pts: stepSeries(st, 'rewardMean'),
      band: st.map(function (p) {
        var m = num(p.rewardMean), d = num(p.rewardStd);
        return [p.step, m - d, m + d];
      })
    }], 'waiting for the first train step');
    plot('plot-pass-at-1', [{
      label: 'pass@1', color: COLORS[0],
      pts: s.eval.series.map(function (p) { return [p.step, p.value]; })
    }], 'no ' + s.eval.metric + ' yet');
  }

  function renderStaleness(s) {
    var z = s.staleness;
    setText('staleness-members', fmt(z.trainedMembers));
    setText('staleness-mean', fmt(z.mean));
    setText('staleness-max', fmt(z.max));
    setText('staleness-dropped', fmt(z.droppedStale));
    setText('staleness-step-mean', fmt(z.lastStepMean));
    setText('staleness-step-max', fmt(z.lastStepMax));
    setText('staleness-source', z.source);
    setText('staleness-join', z.resolvedGroups + ' step groups joined' +
      (z.pendingGroups ? ', ' + z.pendingGroups + ' waiting for their advantages record' : '') +
      (z.unresolvedGroups ? ', ' + z.unresolvedGroups + ' given up' : ''));
    var svg = $('staleness-histogram');
    clear(svg);
    var W = 400, H = 112, T = 13, B = 15;
    var counts = {};
    z.buckets.forEach(function (b) { counts[b.staleness] = b.members; });
    var keys = z.buckets.map(function (b) { return b.staleness; });
    if (keys.length && keys[keys.length - 1] <= 40) {
      keys = [];
      for (var k = 0; k <= z.buckets[z.buckets.length - 1].staleness; k++) { keys.push(k); }
    }
    svg.setAttribute('data-buckets', String(z.buckets.length));
    if (!keys.length) {
      svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'class': 'empty' },
        'no trained members yet'));
      return;
    }
    var max = Math.max.apply(null, keys.map(function (k2) { return counts[k2] || 0; }));
    var slot = (W - 10) / keys.length, bw = Math.max(2, slot * 0.7);
    svg.appendChild(svgEl('line', { x1: 5, y1: H - B, x2: W - 5, y2: H - B, 'class': 'axis' }));
    keys.forEach(function (k3, i) {
      var n = counts[k3] || 0;
      var h = max ? (H - T - B) * n / max : 0;
      var x = 5 + i * slot + (slot - bw) / 2;
      svg.appendChild(svgEl('rect', {
        x: x.toFixed(1), y: (H - B - h).toFixed(1), width: bw.toFixed(1), height: h.toFixed(1),
        'class': 'bar', 'data-staleness': k3, 'data-members': n
      }));
      svg.appendChild(svgEl('text', {
        x: (x + bw / 2).toFixed(1), y: (H - B - h - 3).toFixed(1), 'text-anchor': 'middle',
        id: 'staleness-bucket-' + k3
      }, String(n)));
      svg.appendChild(svgEl('text', { x: (x + bw / 2).toFixed(1), y: H - 5, 'text-anchor': 'middle' }, String(k3)));
    });
  }

  function barRow(cells, fraction, color, cls) {
    var tr = document.createElement('tr');
    if (cls) { tr.className = cls; }
    tr.appendChild(cells[0]);
    var bc = document.createElement('td');
    bc.className = 'barcell';
    var fill = document.createElement('div');
    fill.className = 'barfill';
    fill.style.width = (100 * fraction).toFixed(1) + '%';
    if (color) { fill.style.background = color; }
    bc.appendChild(fill);
    tr.appendChild(bc);
    for (var i = 1; i < cells.length; i++) { tr.appendChild(cells[i]); }
    return tr;
  }

  function renderOutcomes(s) {
    var o = s.outcomes;
    setText('outcomes-total', fmt(o.total));
    var body = $('outcomes').tBodies[0];
    clear(body);
    Object.keys(o.counts).forEach(function (name) {
      var n = o.counts[name];
      if (name === 'UNKNOWN' && n === 0) { return; }
      var frac = o.total ? n / o.total : 0;
      body.appendChild(barRow([
        td(name),
        td(String(n), 'num', 'outcome-' + name),
        td(o.total ? (100 * frac).toFixed(1) + '%' : '—', 'num')
      ], frac, OUTCOME_COLORS[name], n === 0 ? 'zero' : ''));
    });
  }

  function renderThroughput(s) {
    var body = $('throughput').tBodies[0];
    clear(body);
    var max = Math.max.apply(null, s.throughput.map(function (t) { return num(t.perSecond); }).concat([0]));
    s.throughput.forEach(function (t) {
      body.appendChild(barRow([
        td(t.topic),
        td(fmt(t.perSecond), 'num', 'throughput-' + t.topic),
        td(String(t.lastMinute), 'num', 'throughput-count-' + t.topic),
        td(String(t.total), 'num', 'total-' + t.topic)
      ], max ? num(t.perSecond) / max : 0, null, t.lastMinute === 0 ? 'zero' : ''));
    });
  }

  function renderLag(s) {
    var lag = s.lag;
    setText('lag-updated', time(lag.updatedAt));
    setText('lag-error', lag.error ? 'lag probe failed: ' + lag.error : '');
    var body = $('lag').tBodies[0];
    clear(body);
    lag.rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.id = 'lag-row-' + r.label + '-' + r.topic;
      if (r.lag > 0) { tr.className = 'lagging'; }
      tr.appendChild(td(r.label));
      tr.appendChild(td(r.topic));
      tr.appendChild(td(String(r.lag), 'num lag', 'lag-' + r.label + '-' + r.topic));
      tr.appendChild(td(String(r.committed), 'num', 'lag-committed-' + r.label + '-' + r.topic));
      tr.appendChild(td(String(r.end), 'num', 'lag-end-' + r.label + '-' + r.topic));
      tr.appendChild(td(r.members < 0 ? '?' : String(r.members), 'num'));
      tr.appendChild(td((r.groupState || '?') + ' · ' + r.state, 'wrap'));
      tr.appendChild(td(r.groupId, 'wrap group'));
      body.appendChild(tr);
    });
    if (!lag.rows.length) {
      var tr = document.createElement('tr');
      var c = td(lag.updatedAt ? 'no groups watched' : 'waiting for the first lag probe');
      c.colSpan = 8;
      tr.appendChild(c);
      body.appendChild(tr);
    }
  }

  function renderMetrics(s) {
    setText('metrics-count', String(s.metrics.length));
    var body = $('metrics').tBodies[0];
    clear(body);
    s.metrics.forEach(function (m) {
      var tr = document.createElement('tr');
      tr.appendChild(td(m.name));
      tr.appendChild(td(m.source));
      tr.appendChild(td(fmt(m.value), 'num'));
      tr.appendChild(td(fmt(m.step), 'num'));
      body.appendChild(tr);
    });
  }

  function renderFooter(s) {
    function sum(m) { return Object.keys(m).reduce(function (a, k) { return a + m[k]; }, 0); }
    setText('records-read', String(sum(s.consumer.records)));
    setText('records-undecodable', String(sum(s.consumer.undecodable)));
    setText('records-other-runs', String(sum(s.consumer.otherRuns)));
  }

  function status(cls, text) {
    var e = $('status');
    e.className = 'status ' + cls;
    e.textContent = text;
  }

  function render(s) {
    renderCards(s);
    renderPlots(s);
    renderStaleness(s);
    renderOutcomes(s);
    renderThroughput(s);
    renderLag(s);
    renderMetrics(s);
    renderFooter(s);
    var c = s.consumer;
    var read = Object.keys(c.records).reduce(function (a, k) { return a + c.records[k]; }, 0);
    if (c.error) {
      status('bad', 'Kafka: ' + c.error);
    } else if (c.missingTopics.length && read === 0) {
      status('wait', 'waiting for the run\'s topics');
    } else if (!c.caughtUp) {
      status('wait', 'catching up…');
    } else {
      status('ok', c.missingTopics.length ? 'live (missing: ' + c.missingTopics.join(', ') + ')' : 'live');
    }
    document.body.setAttribute('data-rendered', String(s.generatedAt));
  }

  function tick() {
    fetch('api/state', { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (e) { status('bad', 'dashboard unreachable (' + e.message + ')'); })
      .then(function () { setTimeout(tick, POLL_MS); });
  }

  tick();
}());
