/* map.js — the map of the public reporting page, on Leaflet (leaflet.js,
 * pinned in package.json and copied into static/ by `make assets`).
 *
 * Nothing comes from the internet: the base layer is the city's own grid
 * cells (万米单元网格), fetched from our binary as GeoJSON per square of the
 * view and drawn as SVG paths, over district outlines from the page's
 * configuration. XYZ raster tiles go underneath only when the operator
 * configures a tile service (--tile-url).
 *
 * Coordinates: everything the page exchanges is WGS-84. When the tiles
 * are in GCJ-02 (the datum of AutoNavi and Tencent), every WGS-84 point
 * is shifted to GCJ-02 before Leaflet draws it (toMap) and every point
 * Leaflet gives back — a tap, the end of a pin drag, the view's corners —
 * is shifted back (fromMap), so the vector layers line up with the tiles
 * and the server still gets WGS-84.
 *
 * Leaflet brings panning and pinching by touch and mouse, the arrow and
 * +/- keys, wheel zoom and the zoom buttons; this file adds Enter/Space to
 * put the pin at the centre (with a crosshair while the map has keyboard
 * focus). No image markers: the pin is inline SVG, cases are circles, so
 * Leaflet's marker images are not shipped.
 *
 * Exposes window.CWMap (and module.exports under node, for tests of the
 * pure functions).
 */
(function (root) {
  'use strict';

  var PI = Math.PI;
  var EARTH_CIRC = 2 * PI * 6378137; // metres at the equator (Web Mercator sphere)
  var TILE = 256;
  var MIN_ZOOM = 3;
  var MAX_ZOOM = 20;
  var CELLS_MIN_ZOOM = 13; // below this the cells are a grey blur
  var GRID_SPAN_M = 4500; // load grid cells only when the view is smaller than this
  var GRID_STEP = 0.04; // degrees; grid cells are fetched and cached per such square
  var CASES_MIN_ZOOM = 14; // below this the city is a carpet of dots
  var CASE_HIT_PX = 16;
  var MAX_FEATURES = 40000;
  var NEAR_CELL_M = 200; // as the server's --grid-fallback-m default

  function clamp(v, lo, hi) { return v < lo ? lo : v > hi ? hi : v; }
  function metersPerPixel(lat, zoom) {
    return EARTH_CIRC * Math.cos(lat * PI / 180) / (TILE * Math.pow(2, zoom));
  }

  // ---- WGS-84 ⇄ GCJ-02 -----------------------------------------------------
  // GCJ-02 is WGS-84 plus a published, deterministic offset (a Krasovsky
  // ellipsoid and two trigonometric series); outside mainland China it is
  // the identity. The inverse has no closed form and is found by fixed-point
  // iteration, which converges to well below a centimetre in a few steps.
  var GCJ_A = 6378245.0;
  var GCJ_EE = 0.00669342162296594323;
  function outOfChina(lat, lon) {
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function gcjDLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    return r;
  }
  function gcjDLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    return r;
  }
  function wgs2gcj(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var dLat = gcjDLat(lon - 105, lat - 35);
    var dLon = gcjDLon(lon - 105, lat - 35);
    var rad = lat / 180 * PI;
    var magic = Math.sin(rad);
    magic = 1 - GCJ_EE * magic * magic;
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sq) * PI);
    dLon = (dLon * 180) / (GCJ_A / sq * Math.cos(rad) * PI);
    return [lat + dLat, lon + dLon];
  }
  function gcj2wgs(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var wLat = lat, wLon = lon;
    for (var i = 0; i < 12; i++) {
      var g = wgs2gcj(wLat, wLon);
      var dLat = lat - g[0], dLon = lon - g[1];
      wLat += dLat;
      wLon += dLon;
      if (Math.abs(dLat) < 1e-10 && Math.abs(dLon) < 1e-10) break;
    }
    return [wLat, wLon];
  }

  // ---- geometry --------------------------------------------------------------
  // pointInRing: even-odd ray casting over a GeoJSON ring [[lon,lat],...].
  function pointInRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function pointInPolygon(lon, lat, rings) {
    if (!rings || !rings.length || !pointInRing(lon, lat, rings[0])) return false;
    for (var h = 1; h < rings.length; h++) if (pointInRing(lon, lat, rings[h])) return false;
    return true;
  }
  // pointInGeometry handles GeoJSON Polygon and MultiPolygon.
  function pointInGeometry(lon, lat, g) {
    if (!g || !g.coordinates) return false;
    if (g.type === 'Polygon') return pointInPolygon(lon, lat, g.coordinates);
    if (g.type === 'MultiPolygon') {
      for (var i = 0; i < g.coordinates.length; i++) if (pointInPolygon(lon, lat, g.coordinates[i])) return true;
    }
    return false;
  }
  // distanceToGeometry: metres from a point to the nearest edge of a
  // polygon's rings (local equirectangular approximation; fine for metres).
  function distanceToGeometry(lat, lon, g) {
    var kx = 111320 * Math.cos(lat * PI / 180), ky = 110540;
    var best = Infinity, polys = polygonsOf(g);
    for (var p = 0; p < polys.length; p++) {
      for (var r = 0; r < polys[p].length; r++) {
        var ring = polys[p][r];
        for (var i = 1; i < ring.length; i++) {
          var ax = (ring[i - 1][0] - lon) * kx, ay = (ring[i - 1][1] - lat) * ky;
          var bx = (ring[i][0] - lon) * kx, by = (ring[i][1] - lat) * ky;
          var dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
          var t = l2 > 0 ? clamp(-(ax * dx + ay * dy) / l2, 0, 1) : 0;
          var d = Math.hypot(ax + t * dx, ay + t * dy);
          if (d < best) best = d;
        }
      }
    }
    return best;
  }
  function polygonsOf(g) {
    if (!g) return [];
    if (g.type === 'Polygon') return [g.coordinates];
    if (g.type === 'MultiPolygon') return g.coordinates;
    return [];
  }
  function inBounds(b, lat, lon) {
    return !!b && b.length === 4 && lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
  }
  // validBox: a [minLon, minLat, maxLon, maxLat] that encloses something
  // (a city without grid cells sends zeros).
  function validBox(b) {
    return !!b && b.length === 4 && b[2] > b[0] && b[3] > b[1];
  }
  // districtAt finds the configured district whose bounding box holds the
  // point (the smallest one when boxes overlap): a coarse fallback before
  // grid cells are loaded.
  function districtAt(cfg, lat, lon) {
    var best = null, area = Infinity;
    var ds = (cfg && cfg.districts) || [];
    for (var i = 0; i < ds.length; i++) {
      var b = ds[i].bounds;
      if (inBounds(b, lat, lon)) {
        var a = (b[2] - b[0]) * (b[3] - b[1]);
        if (a < area) { area = a; best = ds[i]; }
      }
    }
    return best;
  }

  // gridKeys lists the cache squares covering a WGS-84 bbox.
  function gridKeys(minLon, minLat, maxLon, maxLat) {
    var keys = [];
    var x0 = Math.floor(minLon / GRID_STEP), x1 = Math.floor(maxLon / GRID_STEP);
    var y0 = Math.floor(minLat / GRID_STEP), y1 = Math.floor(maxLat / GRID_STEP);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 64) return keys; // never flood the server
    for (var y = y0; y <= y1; y++) for (var x = x0; x <= x1; x++) keys.push(x + ':' + y);
    return keys;
  }
  // keyBBox returns the bbox of a cache square; sub-squares (after a
  // truncated answer) are written "x:y/q/q…" with q in 0..3.
  function keyBBox(key) {
    var parts = key.split('/');
    var xy = parts[0].split(':');
    var minLon = +xy[0] * GRID_STEP, minLat = +xy[1] * GRID_STEP, size = GRID_STEP;
    for (var i = 1; i < parts.length; i++) {
      size /= 2;
      var q = +parts[i];
      if (q & 1) minLon += size;
      if (q & 2) minLat += size;
    }
    return [round7(minLon), round7(minLat), round7(minLon + size), round7(minLat + size)];
  }
  function round7(v) { return Math.round(v * 1e7) / 1e7; }

  function withQuery(url, q) { return url + (url.indexOf('?') >= 0 ? '&' : '?') + q; }

  // fillTemplate fills an XYZ URL template the way operators write them
  // ({s} {z} {x} {y}, and {-y} for TMS); other braces are left alone, so a
  // key such as tk=… or an unknown placeholder never breaks the map.
  function fillTemplate(url, sd, z, x, y) {
    return String(url).replace('{s}', sd).replace('{z}', z).replace('{x}', x)
      .replace('{-y}', Math.pow(2, z) - 1 - y).replace('{y}', y);
  }

  // The pin: a teardrop with its tip at the point, and a shadow under the tip.
  var PIN_SVG = '<svg class="map-pin-svg" width="30" height="46" viewBox="0 0 30 46" aria-hidden="true">' +
    '<ellipse class="map-pin-shadow" cx="15" cy="42" rx="7" ry="3"/>' +
    '<path class="map-pin-body" d="M15 42C11 34 2 25 2 15a13 13 0 0 1 26 0c0 10-9 19-13 27z"/>' +
    '<circle class="map-pin-dot" cx="15" cy="15" r="5"/></svg>';

  // ---- the map -----------------------------------------------------------
  function CWMap(el, opts) {
    var L = root.L;
    if (!L) throw new Error('leaflet.js is not loaded');
    opts = opts || {};
    this.L = L;
    this.el = el;
    this.cfg = opts.config || {};
    this.msg = opts.msg || function (k) { return k; };
    this.onPin = opts.onPin || function () {};
    this.onCell = opts.onCell || function () {};
    this.onCase = opts.onCase || function () {};
    this.tiles = this.cfg.tiles && this.cfg.tiles.url ? this.cfg.tiles : null;
    this.gcj = !!(this.tiles && String(this.tiles.datum).toLowerCase() === 'gcj02');
    this.features = new Map(); // code -> feature (with its layer once drawn)
    this.grid = new Map(); // cache key -> {state:'loading'|'done'|'error', at}
    this.gridQueue = [];
    this.gridActive = 0;
    this.cases = [];
    this.casesBox = null; this.casesAt = 0; this.casesReq = 0;
    this.pin = null;
    this.cell = undefined;
    this.fetchTimer = 0;
    this.build();
    var b = this.cfg.bounds, c = this.cfg.center;
    if (validBox(b)) this.fitBounds(b);
    else if (c && (c.lat || c.lon)) this.map.setView(this.toMap(c.lat, c.lon), 12);
    else this.map.setView([35, 105], 4);
  }

  // toMap turns a WGS-84 point into the LatLng Leaflet draws (GCJ-shifted
  // when the tiles want it); fromMap is the inverse.
  CWMap.prototype.toMap = function (lat, lon) {
    if (this.gcj) { var g = wgs2gcj(lat, lon); return this.L.latLng(g[0], g[1]); }
    return this.L.latLng(lat, lon);
  };
  CWMap.prototype.fromMap = function (ll) {
    if (this.gcj) { var w = gcj2wgs(ll.lat, ll.lng); return { lat: w[0], lon: w[1] }; }
    return { lat: ll.lat, lon: ll.lng };
  };

  CWMap.prototype.build = function () {
    var self = this, el = this.el, L = this.L;
    while (el.firstChild) el.removeChild(el.firstChild);
    var maxZoom = MAX_ZOOM;
    if (this.tiles && this.tiles.max_zoom) maxZoom = clamp(+this.tiles.max_zoom + 2, MIN_ZOOM, MAX_ZOOM);
    var map = L.map(el, {
      minZoom: MIN_ZOOM,
      maxZoom: maxZoom,
      zoomSnap: 0.25,
      zoomDelta: 1,
      wheelPxPerZoomLevel: 120,
      keyboardPanDelta: 80,
      bounceAtZoomLimits: false,
      zoomControl: false,
      attributionControl: false,
      renderer: L.svg({ padding: 0.5 })
    });
    this.map = map;
    el.setAttribute('role', 'application');
    el.setAttribute('aria-label', this.msg('public.map.aria'));

    // panes, bottom to top: tiles, districts and cells, labels, cases, pin
    var pane = function (name, z) { map.createPane(name).style.zIndex = z; };
    pane('grid', 410);
    pane('labels', 415);
    pane('cases', 420);
    this.gridRenderer = L.svg({ pane: 'grid', padding: 0.5 });
    this.casesRenderer = L.svg({ pane: 'cases', padding: 0.5 });

    L.control.zoom({ position: 'topright', zoomInText: '+', zoomOutText: '\u2212',
      zoomInTitle: this.msg('public.map.zoom_in'), zoomOutTitle: this.msg('public.map.zoom_out') }).addTo(map);

    if (this.tiles) {
      var t = this.tiles;
      var Tiles = L.TileLayer.extend({
        getTileUrl: function (c) {
          var subs = this.options.subdomains, z = this._getZoomForUrl();
          var sd = subs.length ? subs[Math.abs(c.x + c.y) % subs.length] : '';
          return fillTemplate(this._url, sd, z, c.x, c.y);
        }
      });
      var to = { maxNativeZoom: t.max_zoom != null ? +t.max_zoom : 18, maxZoom: maxZoom, keepBuffer: 2 };
      if (t.subdomains) to.subdomains = t.subdomains;
      new Tiles(t.url, to).addTo(map);
      if (t.attribution) {
        // plain text, as configured; no link out of an intranet page
        var attr = L.control.attribution({ prefix: false, position: 'bottomright' }).addTo(map);
        var tmp = document.createElement('span');
        tmp.textContent = t.attribution;
        attr.addAttribution(tmp.innerHTML);
      }
    }

    // no tiles: the city's own base layer (roads, water, parks), if any
    if (!this.tiles && this.cfg.basemap_url && root.CWBasemap && validBox(this.cfg.bounds)) {
      var bb = this.cfg.bounds;
      root.CWBasemap.add(map, [bb[0] - 0.01, bb[1] - 0.01, bb[2] + 0.01, bb[3] + 0.01]);
    }

    this.districtLayer = L.layerGroup().addTo(map);
    this.cellLayer = L.layerGroup();
    this.caseLayer = L.layerGroup();
    this.labelLayer = L.layerGroup().addTo(map);
    this.drawDistricts();

    this.note = document.createElement('div');
    this.note.className = 'map-note';
    this.note.setAttribute('aria-live', 'polite');
    this.note.hidden = true;
    el.appendChild(this.note);

    map.on('click', function (e) { self.tap(e.containerPoint, e.latlng); });
    map.on('movestart', function () { self.hideInfo(); });
    map.on('moveend', function () { self.viewChanged(); });
    // Keys on top of Leaflet's arrows: + and - zoom one level (Leaflet zooms
    // three when Shift is down, and + needs Shift on most keyboards), and
    // Enter or Space puts the pin at the centre (the crosshair, public.css).
    el.addEventListener('keydown', function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      var k = e.key;
      if (k === '+' || k === '=' || k === '-' || k === '_') {
        self.keyZoom(k === '+' || k === '=' ? 1 : -1);
      } else if ((k === 'Enter' || k === ' ') && e.target === el) {
        var size = map.getSize();
        var p = L.point(size.x / 2, size.y / 2);
        self.tap(p, map.containerPointToLatLng(p));
      } else {
        return;
      }
      e.preventDefault();
      e.stopImmediatePropagation();
    }, true);
    // Leaflet drops a zoom asked for while one is animating; key presses
    // (and key repeat) add up instead and run when it ends.
    var stuck = 0;
    map.on('zoomanim', function (e) {
      self.zoomTo = e.zoom;
      clearTimeout(stuck);
      stuck = setTimeout(function () { self.zoomTo = null; }, 1000); // never wait for a zoomend that did not come
    });
    map.on('zoomend', function () {
      self.zoomTo = null;
      if (self.zoomPending != null) { var z = self.zoomPending; self.zoomPending = null; map.setZoom(z); }
    });
    el.addEventListener('contextmenu', function (e) { e.preventDefault(); });

    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(function () { self.resize(); }).observe(el);
    }
    window.addEventListener('online', function () { self.scheduleFetch(0); });
  };

  CWMap.prototype.keyZoom = function (d) {
    var map = this.map;
    var from = this.zoomPending != null ? this.zoomPending : this.zoomTo != null ? this.zoomTo : map.getZoom();
    var z = clamp(Math.round(from) + d, map.getMinZoom(), map.getMaxZoom());
    if (this.zoomTo != null) this.zoomPending = z; else map.setZoom(z);
  };

  CWMap.prototype.resize = function () {
    var w = this.el.clientWidth, h = this.el.clientHeight;
    if (!w || !h || (w === this.w && h === this.h)) return;
    this.w = w; this.h = h;
    this.map.invalidateSize({ pan: false });
    this.scheduleFetch(100);
  };

  // ---- view ----------------------------------------------------------------
  // viewBBox is the visible area in WGS-84 [minLon, minLat, maxLon, maxLat].
  CWMap.prototype.viewBBox = function (pad) {
    pad = pad || 0;
    var size = this.map.getSize();
    var sw = this.fromMap(this.map.containerPointToLatLng([-pad, size.y + pad]));
    var ne = this.fromMap(this.map.containerPointToLatLng([size.x + pad, -pad]));
    return [sw.lon, sw.lat, ne.lon, ne.lat];
  };
  CWMap.prototype.spanMeters = function () {
    var size = this.map.getSize();
    return Math.max(size.x, size.y) * metersPerPixel(this.map.getCenter().lat, this.map.getZoom());
  };
  CWMap.prototype.fitBounds = function (b) {
    this.map.fitBounds(this.L.latLngBounds(this.toMap(b[1], b[0]), this.toMap(b[3], b[2])), { animate: false });
  };
  CWMap.prototype.setView = function (lat, lon, zoom) {
    this.map.setView(this.toMap(lat, lon), zoom == null ? this.map.getZoom() : zoom);
  };
  CWMap.prototype.viewChanged = function () {
    var z = this.map.getZoom();
    var showCells = z >= CELLS_MIN_ZOOM;
    if (showCells !== this.map.hasLayer(this.cellLayer)) {
      if (showCells) this.cellLayer.addTo(this.map); else this.cellLayer.remove();
    }
    if (showCells) this.syncCells();
    var showCases = z >= CASES_MIN_ZOOM;
    if (showCases !== this.map.hasLayer(this.caseLayer)) {
      if (showCases) this.caseLayer.addTo(this.map); else this.caseLayer.remove();
    }
    var r = z >= 16 ? 7 : 5;
    if (showCases && r !== this.caseRadius) {
      this.caseRadius = r;
      this.caseLayer.eachLayer(function (m) { m.setRadius(r); });
    }
    this.styleDistricts();
    this.drawLabels();
    this.scheduleFetch(100); // moveend comes once the view has settled
  };

  // ---- input ---------------------------------------------------------------
  // tap places (or moves) the pin and reports a case marker under the finger.
  CWMap.prototype.tap = function (p, latlng) {
    var hit = this.hitCase(p);
    this.placePin(this.fromMap(latlng), 0);
    this.emitPin();
    if (hit) this.showInfo(hit);
  };
  CWMap.prototype.emitPin = function () {
    if (!this.pin) return;
    this.onPin({ lat: this.pin.lat, lon: this.pin.lon }, 'pin');
    this.updateCell(true);
  };
  CWMap.prototype.hitCase = function (p) {
    if (this.map.getZoom() < CASES_MIN_ZOOM) return null;
    var best = null, bd = CASE_HIT_PX;
    for (var i = 0; i < this.cases.length; i++) {
      var d = this.map.latLngToContainerPoint(this.cases[i]._ll).distanceTo(p);
      if (d < bd) { bd = d; best = this.cases[i]; }
    }
    return best;
  };
  CWMap.prototype.showInfo = function (c) {
    if (!this.info) {
      this.info = document.createElement('div');
      this.info.className = 'map-note';
      this.info.setAttribute('role', 'status');
      this.el.appendChild(this.info);
    }
    this.info.textContent = [c.category, c.state_text, c.no].filter(Boolean).join(' · ');
    this.info.hidden = false;
    this.note.hidden = true;
    this.onCase(c);
  };
  CWMap.prototype.hideInfo = function () {
    if (this.info && !this.info.hidden) { this.info.hidden = true; this.updateNote(); }
  };

  // ---- the pin ---------------------------------------------------------------
  // placePin draws the pin (and the accuracy circle) at a WGS-84 point.
  CWMap.prototype.placePin = function (pt, acc) {
    var L = this.L, self = this, ll = this.toMap(pt.lat, pt.lon);
    this.pin = { lat: pt.lat, lon: pt.lon, acc: acc || 0 };
    if (!this.pinMarker) {
      this.pinMarker = L.marker(ll, {
        icon: L.divIcon({ className: 'map-pin', html: PIN_SVG, iconSize: [30, 46], iconAnchor: [15, 42] }),
        draggable: true, autoPan: true, keyboard: false, zIndexOffset: 1000
      });
      this.pinMarker.on('dragend', function () {
        var p = self.fromMap(self.pinMarker.getLatLng());
        self.pin = { lat: p.lat, lon: p.lon, acc: 0 };
        if (self.accCircle) self.accCircle.remove();
        self.emitPin();
      });
      this.pinMarker.on('dragstart', function () { self.hideInfo(); });
    }
    this.pinMarker.setLatLng(ll).addTo(this.map);
    if (this.pin.acc > 0) {
      if (!this.accCircle) {
        this.accCircle = L.circle(ll, { radius: this.pin.acc, renderer: this.casesRenderer, interactive: false,
          color: '#0b57d0', opacity: 0.6, weight: 1.5, fillColor: '#0b57d0', fillOpacity: 0.12 });
      }
      this.accCircle.setLatLng(ll).setRadius(this.pin.acc).addTo(this.map);
    } else if (this.accCircle) {
      this.accCircle.remove();
    }
  };
  // setPin places the pin at a WGS-84 point; opts.accuracy (metres) draws
  // the accuracy circle, opts.zoom centres the map on it at that zoom.
  CWMap.prototype.setPin = function (lat, lon, opts) {
    opts = opts || {};
    this.placePin({ lat: lat, lon: lon }, opts.accuracy);
    if (opts.zoom) {
      var z = opts.zoom, size = this.map.getSize();
      if (this.pin.acc > 0 && size.x) {
        // keep the whole accuracy circle in view
        var fit = Math.log(Math.min(size.x, size.y) * 0.4 * EARTH_CIRC * Math.cos(lat * PI / 180) / (TILE * this.pin.acc)) / Math.LN2;
        z = Math.min(z, Math.floor(fit));
      }
      this.setView(lat, lon, clamp(z, MIN_ZOOM, this.map.getMaxZoom()));
    }
    this.updateCell(true);
  };
  CWMap.prototype.getPin = function () { return this.pin ? { lat: this.pin.lat, lon: this.pin.lon } : null; };
  CWMap.prototype.clearPin = function () {
    this.pin = null;
    this.cell = undefined;
    if (this.pinMarker) this.pinMarker.remove();
    if (this.accCircle) this.accCircle.remove();
    this.drawSelection();
  };

  // cellAt returns the loaded grid cell feature holding a WGS-84 point.
  CWMap.prototype.cellAt = function (lat, lon) {
    var found = null;
    this.features.forEach(function (f) {
      if (found) return;
      var b = f.wbb;
      if (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]) return;
      if (pointInGeometry(lon, lat, f.geometry)) found = f;
    });
    return found;
  };
  // nearCell returns the loaded cell nearest to a point within maxM metres:
  // grid cells leave gaps (roads, water), and the server, too, gives a point
  // in a gap the locality of the nearest cell.
  CWMap.prototype.nearCell = function (lat, lon, maxM) {
    var best = null, bd = maxM;
    var dLat = maxM / 111320, dLon = maxM / (111320 * Math.max(Math.cos(lat * PI / 180), 0.01));
    this.features.forEach(function (f) {
      var b = f.wbb;
      if (lon < b[0] - dLon || lon > b[2] + dLon || lat < b[1] - dLat || lat > b[3] + dLat) return;
      var d = distanceToGeometry(lat, lon, f.geometry);
      if (d < bd) { bd = d; best = f; }
    });
    return best;
  };
  CWMap.prototype.updateCell = function (force) {
    if (!this.pin) return;
    var f = this.cellAt(this.pin.lat, this.pin.lon) || this.nearCell(this.pin.lat, this.pin.lon, NEAR_CELL_M);
    var code = f ? f.code : null;
    if (!force && code === this.cell) return;
    if (!force && !f && this.cell === null) return;
    this.cell = code;
    this.onCell(f ? f.props : null, { lat: this.pin.lat, lon: this.pin.lon });
    this.drawSelection();
  };

  // ---- drawing -------------------------------------------------------------
  // latLngsOf converts a feature's GeoJSON rings into Leaflet's nesting
  // (polygons of rings of LatLngs) in the map's datum.
  CWMap.prototype.latLngsOf = function (g) {
    var self = this;
    return polygonsOf(g).map(function (rings) {
      return rings.map(function (ring) {
        return ring.map(function (c) { return self.toMap(+c[1], +c[0]); });
      });
    });
  };
  CWMap.prototype.cellStyle = function () {
    var w = this.map.getZoom() >= 16 ? 1.25 : 0.75;
    if (this.tiles) return { color: '#1e468c', opacity: 0.75, weight: w, fill: false };
    return { color: '#3c5a82', opacity: 0.8, weight: w, fill: true, fillColor: '#fff', fillOpacity: 0.35, fillRule: 'evenodd' };
  };
  // syncCells keeps in the cell layer exactly the loaded cells near the
  // view: a long session that pans across the city keeps a few hundred
  // SVG paths, not every cell it has seen.
  CWMap.prototype.syncCells = function () {
    // drawn when within half a view of it, dropped beyond one and a half
    // (so panning to and fro does not redraw the same cells)
    var bounds = this.map.getBounds(), view = bounds.pad(0.5), keep = bounds.pad(1.5);
    var style = this.cellStyle(), layer = this.cellLayer;
    var restyle = style.weight !== this.cellWeight;
    this.cellWeight = style.weight;
    var inView = [], near = [];
    this.features.forEach(function (f) {
      if (f.layer) {
        if (!keep.intersects(f.mbb)) {
          layer.removeLayer(f.layer);
          f.layer = null;
        } else if (restyle) {
          f.layer.setStyle(style);
        }
      } else if (view.intersects(f.mbb)) {
        (bounds.intersects(f.mbb) ? inView : near).push(f);
      }
    });
    this.cellTodo = inView.concat(near);
    this.cellNext = 0;
    if (this.cellTodo.length) this.pumpCells();
  };
  // pumpCells makes the cells' SVG paths a few milliseconds' worth per
  // frame, those in view first: a grid square arriving with a thousand
  // cells then never freezes a pan or a pinch.
  CWMap.prototype.pumpCells = function () {
    if (this.cellFrame) return;
    var self = this, L = this.L;
    var raf = window.requestAnimationFrame || function (f) { return setTimeout(f, 16); };
    var step = function () {
      self.cellFrame = 0;
      var q = self.cellTodo || [], t0 = Date.now(), style = self.cellStyle();
      while (self.cellNext < q.length && Date.now() - t0 < 8) {
        var f = q[self.cellNext++];
        if (f.layer || self.features.get(f.code) !== f) continue;
        var o = { renderer: self.gridRenderer, interactive: false, className: 'cw-cell' };
        for (var k in style) o[k] = style[k];
        f.layer = L.polygon(self.latLngsOf(f.geometry), o);
        self.cellLayer.addLayer(f.layer);
      }
      if (self.cellNext < q.length) {
        self.cellFrame = raf(step);
        return;
      }
      self.cellTodo = null;
      if (self.selLayer) self.selLayer.bringToFront();
      self.drawLabels();
    };
    this.cellFrame = raf(step);
  };
  CWMap.prototype.drawSelection = function () {
    if (this.selLayer) { this.selLayer.remove(); this.selLayer = null; }
    var f = this.cell != null ? this.features.get(this.cell) : null;
    if (!f) return;
    this.selLayer = this.L.polygon(this.latLngsOf(f.geometry), { renderer: this.gridRenderer, interactive: false,
      className: 'cw-cell-selected', color: '#b4232a', opacity: 0.95, weight: 2.5, fillColor: '#b4232a', fillOpacity: 0.14, fillRule: 'evenodd' });
    this.selLayer.addTo(this.map);
  };
  CWMap.prototype.drawDistricts = function () {
    var L = this.L, self = this, g = this.districtLayer;
    this.districts = [];
    var box = function (b) { return L.latLngBounds(self.toMap(b[1], b[0]), self.toMap(b[3], b[2])); };
    if (validBox(this.cfg.bounds)) {
      L.rectangle(box(this.cfg.bounds), { renderer: this.gridRenderer, interactive: false, className: 'cw-city',
        color: '#b4232a', opacity: 0.7, weight: 2.5, fill: false }).addTo(g);
    }
    (this.cfg.districts || []).forEach(function (d) {
      var r = validBox(d.bounds) ? L.rectangle(box(d.bounds), { renderer: self.gridRenderer, interactive: false,
        className: 'cw-district', color: '#3c465a', opacity: 0.75, weight: 1.5, dashArray: '6 4', fill: false }).addTo(g) : null;
      var c = d.center && (d.center.lat || d.center.lon) ? self.toMap(d.center.lat, d.center.lon) : r ? r.getBounds().getCenter() : null;
      self.districts.push({ name: d.name, rect: r, c: c });
    });
  };
  // styleDistricts: the district outlines are strong when zoomed out (the
  // labels show then), faint under the cells.
  CWMap.prototype.styleDistricts = function () {
    var out = this.spanMeters() > GRID_SPAN_M;
    if (out === this.districtsOut) return;
    this.districtsOut = out;
    this.districts.forEach(function (d) { if (d.rect) d.rect.setStyle({ opacity: out ? 0.75 : 0.35 }); });
  };

  // drawLabels: district names when zoomed out; zoomed in, the cell names
  // when cells are big on screen, else one label per community at the
  // middle of its visible cells. A label that would overlap one already
  // placed is left out.
  CWMap.prototype.drawLabels = function () {
    var L = this.L, map = this.map, self = this;
    var size = map.getSize(), placed = [], want = new Map();
    var add = function (text, ll, cls, px) {
      var p = map.latLngToContainerPoint(ll);
      var w = self.textWidth(text, px), h = 16;
      var r = [p.x - w / 2 - 2, p.y - h / 2, p.x + w / 2 + 2, p.y + h / 2];
      if (r[2] < 0 || r[0] > size.x || r[3] < 0 || r[1] > size.y) return;
      for (var i = 0; i < placed.length; i++) {
        var o = placed[i];
        if (r[0] < o[2] && r[2] > o[0] && r[1] < o[3] && r[3] > o[1]) return;
      }
      placed.push(r);
      want.set(cls + '|' + text + '|' + ll.lat.toFixed(6) + ',' + ll.lng.toFixed(6), { text: text, ll: ll, cls: cls });
    };
    if (this.spanMeters() > GRID_SPAN_M) {
      this.districts.forEach(function (d) { if (d.c && d.name) add(String(d.name), d.c, 'map-label-district', 16); });
    } else if (map.getZoom() >= CELLS_MIN_ZOOM) {
      var view = map.getBounds(), groups = new Map(), cellLabels = false;
      this.features.forEach(function (f) {
        if (!f.layer || !view.intersects(f.mbb)) return;
        var w = map.latLngToContainerPoint(f.mbb.getNorthEast()).x - map.latLngToContainerPoint(f.mbb.getSouthWest()).x;
        if (w > 90 && f.props.name) {
          cellLabels = true;
          add(String(f.props.name), f.mbb.getCenter(), 'map-label-cell', 12);
        } else if (f.props.community) {
          var g = groups.get(f.props.community);
          if (!g) { g = { lat: 0, lng: 0, n: 0 }; groups.set(f.props.community, g); }
          var c = f.mbb.getCenter();
          g.lat += c.lat; g.lng += c.lng; g.n++;
        }
      });
      if (!cellLabels && map.getZoom() >= CASES_MIN_ZOOM) {
        groups.forEach(function (g, name) { add(String(name), L.latLng(g.lat / g.n, g.lng / g.n), 'map-label-community', 14); });
      }
    }
    // keep the labels that stay (a pan moves most of them along), so a
    // view change touches only the DOM of labels that come or go
    var have = this.labels || (this.labels = new Map());
    have.forEach(function (m, key) { if (!want.has(key)) { self.labelLayer.removeLayer(m); have.delete(key); } });
    want.forEach(function (l, key) {
      if (have.has(key)) return;
      var span = document.createElement('span');
      span.textContent = l.text;
      var m = L.marker(l.ll, { icon: L.divIcon({ className: 'map-label ' + l.cls, html: span, iconSize: null }),
        interactive: false, keyboard: false, pane: 'labels' });
      self.labelLayer.addLayer(m);
      have.set(key, m);
    });
  };
  // textWidth estimates a label's width in pixels from its characters
  // (CJK a full em, others about half): good enough to keep labels apart,
  // and no canvas text shaping, which costs tens of milliseconds on a slow
  // phone the first time a font meets new characters.
  CWMap.prototype.textWidth = function (text, px) {
    var w = 0;
    for (var i = 0; i < text.length; i++) w += text.charCodeAt(i) >= 0x2e80 ? px : px * 0.6;
    return w;
  };

  CWMap.prototype.drawCases = function () {
    var L = this.L, layer = this.caseLayer, r = this.map.getZoom() >= 16 ? 7 : 5;
    this.caseRadius = r;
    layer.clearLayers();
    for (var i = 0; i < this.cases.length; i++) {
      L.circleMarker(this.cases[i]._ll, { renderer: this.casesRenderer, interactive: false, className: 'cw-case', radius: r,
        color: '#fff', opacity: 1, weight: 2, fillColor: '#e8710a', fillOpacity: 1 }).addTo(layer);
    }
  };

  // ---- data loading ------------------------------------------------------------
  CWMap.prototype.scheduleFetch = function (delay) {
    var self = this;
    clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(function () { self.fetchVisible(); }, delay);
  };
  CWMap.prototype.fetchVisible = function () {
    var size = this.map.getSize();
    if (!size.x || !size.y) return;
    this.fetchGrid();
    this.fetchCases();
    this.updateNote();
  };
  CWMap.prototype.fetchGrid = function () {
    var url = this.cfg.grid_url;
    if (!url || this.spanMeters() > GRID_SPAN_M) return;
    var b = this.viewBBox(64);
    var keys = gridKeys(b[0], b[1], b[2], b[3]);
    var now = Date.now(), self = this;
    // nearest squares first; forget the queued ones that left the view
    this.gridQueue = [];
    var want = function (k) {
      var st = self.grid.get(k);
      if (!st || (st.state === 'error' && now - st.at > 15000)) { self.gridQueue.push(k); return; }
      if (st.state === 'done' && st.truncated) for (var q = 0; q < 4; q++) want(k + '/' + q);
    };
    keys.forEach(want);
    this.pumpGrid();
  };
  CWMap.prototype.pumpGrid = function () {
    while (this.gridActive < 2 && this.gridQueue.length) {
      var k = this.gridQueue.shift();
      var st = this.grid.get(k);
      if (st && st.state === 'loading') continue;
      this.loadGridKey(k);
    }
    this.updateNote();
  };
  CWMap.prototype.loadGridKey = function (key) {
    var self = this;
    var depth = key.split('/').length - 1;
    var bb = keyBBox(key);
    this.grid.set(key, { state: 'loading', at: Date.now() });
    this.gridActive++;
    getJSON(withQuery(this.cfg.grid_url, 'bbox=' + bb.join(',')), 20000).then(function (fc) {
      self.gridActive--;
      var truncated = !!(fc && fc.truncated && depth < 3);
      self.grid.set(key, { state: 'done', at: Date.now(), truncated: truncated });
      self.addFeatures(fc && fc.features);
      if (truncated) {
        // too many cells in one answer: ask again in quarters
        for (var q = 0; q < 4; q++) {
          var sub = key + '/' + q;
          if (!self.grid.has(sub)) self.gridQueue.unshift(sub);
        }
      }
      self.pumpGrid();
      if (self.map.getZoom() >= CELLS_MIN_ZOOM) self.syncCells(); // labels follow the cells
      self.updateCell(false);
    }, function () {
      self.gridActive--;
      self.grid.set(key, { state: 'error', at: Date.now() });
      self.pumpGrid();
    });
  };
  CWMap.prototype.addFeatures = function (list) {
    if (!list || !list.length) return;
    var L = this.L;
    if (this.features.size + list.length > MAX_FEATURES) {
      // memory guard for a long session: start over with what is in view
      this.features.clear();
      this.grid.clear();
      this.cellLayer.clearLayers();
    }
    for (var i = 0; i < list.length; i++) {
      var f = list[i];
      if (!f || !f.geometry) continue;
      var props = f.properties || {};
      var code = props.code != null ? String(props.code) : (f.id != null ? String(f.id) : null);
      if (code == null) code = 'f' + this.features.size + ':' + i;
      if (this.features.has(code)) continue;
      var polys = polygonsOf(f.geometry);
      if (!polys.length) continue;
      var wbb = [Infinity, Infinity, -Infinity, -Infinity];
      for (var p = 0; p < polys.length; p++) {
        for (var r = 0; r < polys[p].length; r++) {
          var ring = polys[p][r];
          for (var k = 0; k < ring.length; k++) {
            var lon = +ring[k][0], lat = +ring[k][1];
            if (lon < wbb[0]) wbb[0] = lon;
            if (lat < wbb[1]) wbb[1] = lat;
            if (lon > wbb[2]) wbb[2] = lon;
            if (lat > wbb[3]) wbb[3] = lat;
          }
        }
      }
      if (!(wbb[2] >= wbb[0])) continue;
      this.features.set(code, { code: code, props: props, geometry: f.geometry, wbb: wbb,
        mbb: L.latLngBounds(this.toMap(wbb[1], wbb[0]), this.toMap(wbb[3], wbb[2])), layer: null });
    }
  };
  CWMap.prototype.fetchCases = function () {
    var url = this.cfg.cases_url;
    if (!url || this.map.getZoom() < CASES_MIN_ZOOM) return;
    var v = this.viewBBox(0);
    var box = this.casesBox;
    if (box && v[0] >= box[0] && v[1] >= box[1] && v[2] <= box[2] && v[3] <= box[3] && Date.now() - this.casesAt < 120000) return;
    // fetch a box half a view larger on every side so small pans need nothing
    var dx = (v[2] - v[0]) / 2, dy = (v[3] - v[1]) / 2;
    var want = [v[0] - dx, v[1] - dy, v[2] + dx, v[3] + dy].map(round7);
    var self = this, id = ++this.casesReq;
    getJSON(withQuery(url, 'bbox=' + want.join(',')), 20000).then(function (res) {
      if (id !== self.casesReq) return;
      var list = (res && res.cases) || [];
      for (var i = 0; i < list.length; i++) list[i]._ll = self.toMap(+list[i].lat, +list[i].lon);
      self.cases = list;
      self.casesBox = want;
      self.casesAt = Date.now();
      self.drawCases();
    }, function () { /* markers are a nicety; the next pan tries again */ });
  };
  CWMap.prototype.updateNote = function () {
    var text = '';
    if (this.info && !this.info.hidden) { this.note.hidden = true; return; }
    if (this.cfg.grid_url && this.spanMeters() > GRID_SPAN_M) text = this.msg('public.map.zoom_for_grid');
    else if (this.gridActive > 0) text = this.msg('public.map.loading');
    else {
      var err = false;
      this.grid.forEach(function (st) { if (st.state === 'error') err = true; });
      if (err && this.features.size === 0) text = this.msg('public.map.load_failed');
    }
    this.note.textContent = text;
    this.note.hidden = !text;
  };

  // getJSON fetches same-origin JSON with a timeout.
  function getJSON(url, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open('GET', url, true);
      x.timeout = timeoutMs || 20000;
      x.setRequestHeader('Accept', 'application/json');
      // state texts in the answers follow the page's language, not the browser's
      if (document.documentElement.lang) x.setRequestHeader('Accept-Language', document.documentElement.lang);
      x.onload = function () {
        if (x.status < 200 || x.status >= 300) { reject(new Error('HTTP ' + x.status)); return; }
        try { resolve(JSON.parse(x.responseText)); } catch (e) { reject(e); }
      };
      x.onerror = x.ontimeout = x.onabort = function () { reject(new Error('network')); };
      x.send();
    });
  }

  var api = {
    create: function (el, opts) { return new CWMap(el, opts); },
    Map: CWMap,
    wgs2gcj: wgs2gcj,
    gcj2wgs: gcj2wgs,
    metersPerPixel: metersPerPixel,
    pointInRing: pointInRing,
    pointInGeometry: pointInGeometry,
    distanceToGeometry: distanceToGeometry,
    districtAt: districtAt,
    gridKeys: gridKeys,
    keyBBox: keyBBox,
    fillTemplate: fillTemplate
  };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.CWMap = api;
})(typeof window !== 'undefined' ? window : this);
