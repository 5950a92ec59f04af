/* staff-locate.js — the console's report form (/cases/new) on a grid
 * worker's or inspector's phone: the position from the phone's GPS, from
 * the photo's EXIF, or from a pin on the map, all written into the form's
 * WGS-84 latitude and longitude. The map's base layer is the city's own
 * grid cells, fetched from this program. A position pasted from another
 * map app keeps its datum chooser; one taken here sets it to WGS-84. */
(function () {
  'use strict';
  function start() {
    var form = document.getElementById('new-case');
    if (!form) return;
    var lat = form.elements.namedItem('lat'), lon = form.elements.namedItem('lon'), coord = form.elements.namedItem('coord');
    var status = document.getElementById('locate-status'), box = document.getElementById('locate');
    var say = function (key) { if (status) status.textContent = box.getAttribute('data-' + key) || ''; };
    var map = null, marker = null, cellsAt = '';
    box.hidden = false;
    function cells() {
      var b = map.getBounds(), key = b.toBBoxString();
      if (map.getZoom() < 14 || key === cellsAt) return;
      cellsAt = key;
      fetch('/api/v1/grid/cells?bbox=' + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(','), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (gj) { if (gj) L.geoJSON(gj, { interactive: false, style: { color: '#b8c2cc', weight: 1, fillColor: '#eef2f5', fillOpacity: 0.5 } }).addTo(map).bringToBack(); })
        .catch(function () {});
    }
    function show(la, lo) {
      if (!window.L) return;
      var el = document.getElementById('new-case-map');
      if (!map) {
        el.hidden = false;
        map = L.map(el, { zoomControl: true, attributionControl: false }).setView([la, lo], 17);
        if (window.CWBasemap) window.CWBasemap.add(map, [lo - 0.03, la - 0.03, lo + 0.03, la + 0.03]);
        map.on('click', function (e) { set(e.latlng.lat, e.latlng.lng, 'pin'); });
        map.on('moveend', cells);
        cells();
      }
      if (!marker) {
        marker = L.marker([la, lo], { draggable: true, keyboard: true, icon: L.divIcon({ className: 'pin', html: '<span></span>', iconSize: [22, 22], iconAnchor: [11, 22] }) }).addTo(map);
        marker.on('dragend', function () { var p = marker.getLatLng(); set(p.lat, p.lng, 'pin'); });
      } else {
        marker.setLatLng([la, lo]);
      }
      map.panTo([la, lo]);
    }
    function set(la, lo, how) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      if (coord) coord.value = 'wgs84';
      say(how);
      show(la, lo);
    }
    document.getElementById('use-gps').addEventListener('click', function () {
      if (!navigator.geolocation) { say('nogps'); return; }
      say('locating');
      navigator.geolocation.getCurrentPosition(function (p) { set(p.coords.latitude, p.coords.longitude, 'gps'); },
        function () { say('nogps'); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
    document.getElementById('use-map').addEventListener('click', function () {
      var la = parseFloat(lat.value), lo = parseFloat(lon.value);
      var c = box.getAttribute('data-center').split(',');
      show(isFinite(la) ? la : parseFloat(c[0]), isFinite(lo) ? lo : parseFloat(c[1]));
      say('tap');
    });
    var photo = form.elements.namedItem('photo');
    if (photo && window.CWExifGPS) {
      photo.addEventListener('change', function () {
        var f = photo.files && photo.files[0];
        if (!f || lat.value || !/jpe?g$/i.test(f.type.replace('image/', ''))) return;
        f.slice(0, 256 * 1024).arrayBuffer().then(function (buf) {
          var g = window.CWExifGPS(buf);
          if (g) set(g.lat, g.lon, 'exif');
        }).catch(function () {});
      });
    }
    [lat, lon].forEach(function (el) {
      el.addEventListener('change', function () {
        var la = parseFloat(lat.value), lo = parseFloat(lon.value);
        if (map && isFinite(la) && isFinite(lo)) show(la, lo);
      });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
