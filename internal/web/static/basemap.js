/* basemap.js — the city's own base layer under the grid, when no tile
 * service is configured: water and parks as areas, roads as lines with
 * their names (shown from zoom 15), all from this program's
 * /api/v1/public/basemap as GeoJSON (WGS-84). window.CWBasemap.add(map,
 * bbox[, toMap]) fetches once for the box and draws into its own pane
 * below the grid. */
(function (root) {
  'use strict';
  var STYLE = {
    water: { stroke: false, fillColor: '#aad3df', fillOpacity: 1 },
    park: { stroke: false, fillColor: '#c8e6c1', fillOpacity: 1 },
    road: { color: '#ffffff', weight: 7, opacity: 1, lineCap: 'round' }
  };
  function add(map, bbox, toMap) {
    var L = root.L;
    if (!L || !map) return;
    if (!map.getPane('base')) map.createPane('base').style.zIndex = 405;
    var renderer = L.svg({ pane: 'base', padding: 0.5 });
    var url = '/api/v1/public/basemap?bbox=' + bbox.map(function (v) { return (+v).toFixed(5); }).join(',');
    var labels = [], roads = [];
    fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (gj) {
      if (!gj || !gj.features) return;
      L.geoJSON(gj, {
        pane: 'base', renderer: renderer, interactive: false,
        coordsToLatLng: function (c) { return toMap ? toMap(c[1], c[0]) : L.latLng(c[1], c[0]); },
        style: function (f) { return STYLE[f.properties.kind] || STYLE.road; },
        onEachFeature: function (f, layer) {
          if (f.properties.kind === 'road') roads.push(layer);
          if (f.properties.kind === 'road' && f.properties.name) {
            var label = document.createElement('span'); // text, not HTML: the name is the base layer's data
            label.textContent = f.properties.name;
            labels.push(layer.bindTooltip(label, { permanent: true, direction: 'center', className: 'road-label', interactive: false }));
          }
        }
      }).addTo(map);
      // roads as wide as a street at the zoom shown: thin over the whole
      // city, broad in a neighbourhood
      var sync = function () {
        var z = map.getZoom();
        map.getContainer().classList.toggle('cw-roads', z >= 15);
        roads.forEach(function (l) { l.setStyle({ weight: z >= 17 ? 10 : z >= 15 ? 6 : z >= 13 ? 4 : 2 }); });
      };
      map.on('zoomend', sync);
      sync();
    }).catch(function () { /* the grid alone still shows */ });
  }
  root.CWBasemap = { add: add };
})(this);
