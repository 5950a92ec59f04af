/* leader.js — the leader's one screen (领导驾驶舱).
 *
 * The page carries the screen's JSON (data-view) for the first paint and
 * reads /api/v1/leader again every data-interval seconds. Charts are
 * ECharts (echarts.min.js, pinned in package.json, served by this
 * program); the map is Leaflet over the city's own grid cells, fetched
 * once from /api/v1/grid/export and shaded by open and overdue cases.
 * Every figure is a link to the case list behind it.
 */
(function () {
  'use strict';

  var OPEN = 'state=reported&state=accepted&state=dispatched&state=in_progress&state=postponed&state=verifying';
  var RED = '#d92d20', ORANGE = '#f2994a', BLUE = '#2f6fb5', GREY = '#eef2f5';

  function $(id) { return document.getElementById(id); }
  function go(href) { window.location.href = href; }
  function pct(r) { return r == null ? '—' : (r * 100).toFixed(1) + '%'; }
  // text for Leaflet's tooltips, which are HTML: a cell's name comes from
  // the grid's import file
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  var root, labels, charts = {}, map, cellLayer, cellLoads = {};

  function chart(id) {
    if (!charts[id] && window.echarts) {
      charts[id] = window.echarts.init($(id), null, { renderer: 'canvas' });
    }
    return charts[id];
  }

  function renderCounts(v) {
    var nodes = root.querySelectorAll('[data-count]');
    for (var i = 0; i < nodes.length; i++) {
      var k = nodes[i].getAttribute('data-count');
      nodes[i].textContent = v.counts[k] == null ? '—' : v.counts[k];
    }
    var rate = $('round-rate'), name = $('round-name'), tile = $('tile-round');
    if (v.round) {
      rate.textContent = pct(v.round.rate);
      name.textContent = labels.round + ' ' + v.round.name;
      tile.href = '/assess/rounds/' + encodeURIComponent(v.round.code);
    } else {
      rate.textContent = '—';
      name.textContent = labels.no_round;
    }
    var at = new Date(v.at);
    $('leader-at').textContent = labels.updated + ' ' + at.toLocaleTimeString('zh-CN', { hour12: false });
    $('index-quarter').textContent = v.quarter || '';
  }

  function renderWeeks(v) {
    var c = chart('chart-weeks');
    if (!c) return;
    c.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: [labels.reported, labels.closed], top: 0 },
      grid: { left: 44, right: 16, top: 30, bottom: 28 },
      xAxis: { type: 'category', data: v.weeks.map(function (w) { return w.from.slice(5); }) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: labels.reported, type: 'line', data: v.weeks.map(function (w) { return w.reported; }), itemStyle: { color: RED }, symbolSize: 7 },
        { name: labels.closed, type: 'line', data: v.weeks.map(function (w) { return w.closed; }), itemStyle: { color: BLUE }, symbolSize: 7 }
      ]
    });
    c.off('click');
    c.on('click', function (e) {
      var w = v.weeks[e.dataIndex];
      if (!w) return;
      if (e.seriesIndex === 0) go('/cases?from=' + w.from + '&to=' + w.to);
      else go('/cases?state=closed&closed_from=' + w.from + '&closed_to=' + w.to);
    });
  }

  function renderDistricts(v) {
    var c = chart('chart-districts');
    if (!c) return;
    var ds = v.districts.filter(function (d) { return d.index != null; }).slice().reverse();
    c.setOption({
      animation: false,
      title: ds.length ? { show: false } : { show: true, text: labels.no_index, left: 'center', top: 'middle', textStyle: { fontSize: 13, color: '#6e7781', fontWeight: 'normal' } },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', min: 0, max: 100, show: false },
      yAxis: { type: 'category', data: ds.map(function (d) { return d.rank + '. ' + d.name; }), axisLabel: { width: 110, overflow: 'truncate' } },
      series: [{ name: labels.index, type: 'bar', data: ds.map(function (d) { return d.index; }), itemStyle: { color: RED },
        label: { show: true, position: 'right', formatter: function (p) { return Number(p.value).toFixed(2); } } }]
    }, true);
    c.off('click');
    c.on('click', function (e) {
      var d = ds[e.dataIndex];
      if (d && d.region_id) go('/cases?region_id=' + d.region_id + '&' + OPEN);
    });
  }

  function renderUnits(v) {
    var c = chart('chart-units');
    if (!c) return;
    var us = v.units.slice(0, 10).reverse();
    c.setOption({
      animation: false,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { data: [labels.overdue, labels.to_handle], top: 0 },
      grid: { left: 8, right: 36, top: 28, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: us.map(function (u) { return u.name; }), axisLabel: { width: 120, overflow: 'truncate' } },
      series: [
        { name: labels.overdue, type: 'bar', data: us.map(function (u) { return u.overdue; }), itemStyle: { color: RED } },
        { name: labels.to_handle, type: 'bar', data: us.map(function (u) { return u.to_handle; }), itemStyle: { color: ORANGE } }
      ]
    }, true);
    c.off('click');
    c.on('click', function (e) {
      var u = us[e.dataIndex];
      if (u) go('/cases?unit_id=' + u.id + '&queue=' + (e.seriesIndex === 0 ? 'overdue' : 'to_handle'));
    });
  }

  function cellStyle(code) {
    var l = cellLoads[code];
    if (l && l.overdue > 0) return { color: '#8c1d18', weight: 1, fillColor: RED, fillOpacity: Math.min(0.9, 0.35 + l.overdue / 10) };
    if (l && l.open > 0) return { color: '#a15c1c', weight: 1, fillColor: ORANGE, fillOpacity: Math.min(0.8, 0.25 + l.open / 20) };
    return { color: '#b8c2cc', weight: 1, fillColor: GREY, fillOpacity: 0.6 };
  }

  function renderMap(v) {
    cellLoads = {};
    v.cells.forEach(function (c) { cellLoads[c.code] = c; });
    if (!window.L) return;
    if (!map) {
      map = L.map($('leader-map'), { preferCanvas: true, attributionControl: false });
      map.setView([30, 120], 11);
      fetch('/api/v1/grid/export', { credentials: 'same-origin' }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (gj) {
        if (!gj || !gj.features || !gj.features.length) return;
        cellLayer = L.geoJSON(gj, {
          style: function (f) { return cellStyle(f.properties.grid_code); },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(function () {
              var l = cellLoads[p.grid_code] || { open: 0, overdue: 0 };
              return esc((p.name || p.grid_code) + ' · ' + labels.open + ' ' + l.open + ' · ' + labels.overdue + ' ' + l.overdue);
            });
            layer.on('click', function () {
              var l = cellLoads[p.grid_code];
              if (l) go('/cases?cell_id=' + l.id + '&' + OPEN);
            });
          }
        }).addTo(map);
        map.fitBounds(cellLayer.getBounds());
      }).catch(function () {});
    } else if (cellLayer) {
      cellLayer.setStyle(function (f) { return cellStyle(f.properties.grid_code); });
    }
  }

  function renderListed(v) {
    var ul = $('leader-listed');
    ul.textContent = '';
    if (!v.listed.length) {
      var none = document.createElement('li');
      none.className = 'hint';
      none.textContent = labels.none;
      ul.appendChild(none);
    }
    v.listed.forEach(function (c) {
      var li = document.createElement('li');
      if (c.warning) li.className = 'w' + c.warning;
      var a = document.createElement('a');
      a.href = '/cases/' + c.id;
      a.textContent = c.no;
      var what = document.createElement('span');
      what.textContent = ' ' + c.category + ' · ' + c.region;
      var who = document.createElement('span');
      who.className = 'hint';
      who.textContent = (c.unit || '') + (c.deadline ? ' · ' + labels.deadline + ' ' + c.deadline : '');
      li.appendChild(a);
      li.appendChild(what);
      li.appendChild(document.createElement('br'));
      li.appendChild(who);
      ul.appendChild(li);
    });
  }

  function render(v) {
    renderCounts(v);
    renderListed(v);
    renderWeeks(v);
    renderDistricts(v);
    renderUnits(v);
    renderMap(v);
  }

  function refresh() {
    fetch('/api/v1/leader', { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(render).catch(function () {
      $('leader-at').textContent = labels.refresh_failed;
    });
  }

  function start() {
    root = $('leader');
    if (!root) return;
    labels = JSON.parse(root.getAttribute('data-labels') || '{}');
    render(JSON.parse(root.getAttribute('data-view')));
    var every = parseInt(root.getAttribute('data-interval'), 10) || 60;
    setInterval(refresh, every * 1000);
    window.addEventListener('resize', function () {
      for (var k in charts) charts[k].resize();
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
