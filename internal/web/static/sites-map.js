/* sites-map.js — the map of the site registry (点位) on Leaflet. The
 * sites come in the page as JSON (data-sites of the map); each is a circle coloured
 * by its latest inspection (green: no failure, red: failures, grey: never
 * inspected). The city's own grid cells, fetched from this program, are
 * the base layer: nothing loads from the internet. */
(function () {
  'use strict';
  // asText is s as a text node's element: a tooltip given a string puts
  // it in as HTML, and a site's name is whatever an import said.
  function asText(s) {
    var e = document.createElement('span');
    e.textContent = s;
    return e;
  }
  function start() {
    var el = document.getElementById('sites-map');
    if (!el || !window.L) return;
    var sites = JSON.parse(el.getAttribute('data-sites') || '[]');
    var map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: false, maxZoom: 19 });
    if (!sites.length) { map.setView([30, 120], 11); return; }
    var bounds = L.latLngBounds(sites.map(function (s) { return [s.lat, s.lon]; }));
    // (one site: bounds of no size, which no zoom fits)
    if (sites.length === 1) map.setView([sites[0].lat, sites[0].lon], 16); else map.fitBounds(bounds.pad(0.1));
    var b = bounds.pad(0.1);
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(',');
    fetch('/api/v1/grid/cells?bbox=' + bbox, { credentials: 'same-origin' }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (gj) {
      if (gj) L.geoJSON(gj, { style: { color: '#b8c2cc', weight: 1, fillColor: '#eef2f5', fillOpacity: 0.6 }, interactive: false }).addTo(map).bringToBack();
    }).catch(function () {});
    sites.forEach(function (s) {
      var colour = !s.seen ? '#8a8f98' : s.fail > 0 ? '#c5221f' : '#188038';
      L.circleMarker([s.lat, s.lon], { radius: 6, color: '#fff', weight: 1, fillColor: colour, fillOpacity: 0.9 })
        .bindTooltip(asText(s.code + ' ' + s.name + '(' + s.type + ')'))
        .addTo(map);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
