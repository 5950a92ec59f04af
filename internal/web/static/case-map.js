/* case-map.js — maps of the console's daily work, on Leaflet:
 *  - #case-map on the case page: the case's place, its grid cell outlined
 *    among the cells around it (fetched from this program: nothing loads
 *    from the internet);
 *  - #cases-map, a case list as a map: the list's placed cases (from
 *    data-points-url) as dots coloured by warning, gathered into counted
 *    clusters where they crowd, each dot opening its case.
 * Coordinates are WGS-84 throughout: no tiles are drawn under these maps. */
(function () {
  'use strict';
  var COLOURS = { 0: '#1a73e8', 1: '#f29900', 2: '#d93025' };
  function cellsAround(map, b, selected) {
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(',');
    return fetch('/api/v1/grid/cells?bbox=' + bbox, { credentials: 'same-origin' }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (gj) {
      if (!gj) return;
      L.geoJSON(gj, {
        interactive: false,
        style: function (f) {
          var mine = selected && f.properties && (f.properties.grid_code === selected || f.properties.code === selected);
          return mine ? { color: '#d93025', weight: 2, fillColor: '#fce8e6', fillOpacity: 0.5 } : { color: '#b8c2cc', weight: 1, fillColor: '#eef2f5', fillOpacity: 0.6 };
        }
      }).addTo(map).bringToBack();
    }).catch(function () { /* the point alone still shows */ });
  }
  function caseMap(el) {
    var lat = parseFloat(el.getAttribute('data-lat')), lon = parseFloat(el.getAttribute('data-lon'));
    if (!isFinite(lat) || !isFinite(lon)) return;
    var map = L.map(el, { zoomControl: true, attributionControl: false }).setView([lat, lon], 17);
    if (window.CWBasemap) window.CWBasemap.add(map, [lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02]);
    L.circleMarker([lat, lon], { radius: 8, color: '#fff', weight: 2, fillColor: '#d93025', fillOpacity: 1 }).addTo(map);
    cellsAround(map, map.getBounds().pad(0.5), el.getAttribute('data-cell'));
  }
  // Points in the same square of the screen (cluster px wide) are drawn as
  // one counted circle, coloured by the worst warning among them.
  function drawPoints(map, layer, pts, px) {
    layer.clearLayers();
    var groups = {};
    pts.forEach(function (p) {
      var q = map.latLngToLayerPoint([p.lat, p.lon]);
      var k = Math.floor(q.x / px) + ':' + Math.floor(q.y / px);
      (groups[k] = groups[k] || []).push(p);
    });
    Object.keys(groups).forEach(function (k) {
      var g = groups[k], worst = 0, lat = 0, lon = 0;
      g.forEach(function (p) { worst = Math.max(worst, p.warning); lat += p.lat; lon += p.lon; });
      lat /= g.length; lon /= g.length;
      if (g.length === 1) {
        var p = g[0];
        L.circleMarker([p.lat, p.lon], { radius: 6, color: '#fff', weight: 1, fillColor: COLOURS[worst] || COLOURS[0], fillOpacity: 0.95 })
          .bindTooltip(p.no).on('click', function () { location.href = '/cases/' + p.id; }).addTo(layer);
        return;
      }
      var size = 26 + Math.min(22, Math.round(Math.log(g.length) * 5));
      L.marker([lat, lon], {
        icon: L.divIcon({ className: 'cluster w' + worst, html: '<span>' + g.length + '</span>', iconSize: [size, size] }),
        keyboard: true, title: String(g.length)
      }).on('click', function () {
        map.fitBounds(L.latLngBounds(g.map(function (p) { return [p.lat, p.lon]; })).pad(0.2));
      }).addTo(layer);
    });
  }
  function casesMap(el) {
    var map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: false });
    var layer = L.layerGroup().addTo(map), pts = [];
    fetch(el.getAttribute('data-points-url'), { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (d) {
      pts = d.points || [];
      var note = document.getElementById('cases-map-note');
      if (note) note.hidden = !d.more;
      var count = document.getElementById('cases-map-count');
      if (count) count.textContent = String(pts.length);
      if (!pts.length) { map.setView([30, 110], 4); return; }
      var b = L.latLngBounds(pts.map(function (p) { return [p.lat, p.lon]; }));
      map.fitBounds(b.pad(0.05));
      var bb = b.pad(0.2);
      if (window.CWBasemap) window.CWBasemap.add(map, [bb.getWest(), bb.getSouth(), bb.getEast(), bb.getNorth()]);
      // the cells only when the cases gather in a district's corner: a
      // whole city's cells are more than the map needs
      if (map.distance(b.getSouthWest(), b.getNorthEast()) < 6000) cellsAround(map, b.pad(0.05), '');
      drawPoints(map, layer, pts, 44);
      map.on('zoomend', function () { drawPoints(map, layer, pts, 44); });
    }).catch(function () { el.classList.add('failed'); });
  }
  function start() {
    if (!window.L) return;
    var a = document.getElementById('case-map');
    if (a) caseMap(a);
    var b = document.getElementById('cases-map');
    if (b) casesMap(b);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
