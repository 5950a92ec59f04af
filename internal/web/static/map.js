/* map.js — a small self-contained map for the public reporting page.
 *
 * Why not a library or a tile service: government intranets have no
 * internet and the page must load over a flaky 4G link, so the base layer
 * is the city's own grid cells (万米单元网格) served by our binary as
 * GeoJSON, drawn on a canvas in Web Mercator. XYZ raster tiles are drawn
 * underneath only when the operator configures a tile service.
 *
 * Coordinates: everything the page exchanges is WGS-84. When the tiles
 * are in GCJ-02 (the datum Chinese map services use), every WGS-84 point
 * is shifted to GCJ-02 for drawing and screen taps are shifted back, so
 * the vector layers line up with the tiles.
 *
 * Exposes window.CWMap (and module.exports under node, for tests of the
 * pure functions).
 */
(function (root) {
  'use strict';

  var TILE = 256;
  var PI = Math.PI;
  var EARTH_CIRC = 2 * PI * 6378137; // metres at the equator (Web Mercator sphere)
  var MIN_ZOOM = 3;
  var MAX_ZOOM = 20;
  var GRID_SPAN_M = 4500; // load grid cells only when the view is smaller than this
  var GRID_STEP = 0.04; // degrees; grid cells are fetched and cached per such square
  var CASES_MIN_ZOOM = 14; // below this the city is a carpet of dots
  var TAP_SLOP_MOUSE = 5;
  var TAP_SLOP_TOUCH = 12;
  var MAX_FEATURES = 40000;
  var NEAR_CELL_M = 200; // as the server's --grid-fallback-m default

  function clamp(v, lo, hi) { return v < lo ? lo : v > hi ? hi : v; }

  // ---- Web Mercator, normalised so the world is the unit square ----------
  function lon2x(lon) { return (lon + 180) / 360; }
  function lat2y(lat) {
    var s = Math.sin(clamp(lat, -85.05112878, 85.05112878) * PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI);
  }
  function x2lon(x) { return x * 360 - 180; }
  function y2lat(y) { return 360 / PI * Math.atan(Math.exp((0.5 - y) * 2 * PI)) - 90; }
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

  // ---- the map -----------------------------------------------------------
  function CWMap(el, opts) {
    opts = opts || {};
    this.el = el;
    this.cfg = opts.config || {};
    this.msg = opts.msg || function (k) { return k; };
    this.onPin = opts.onPin || function () {};
    this.onCell = opts.onCell || function () {};
    this.onCase = opts.onCase || function () {};
    this.tiles = this.cfg.tiles && this.cfg.tiles.url ? this.cfg.tiles : null;
    this.gcj = !!(this.tiles && String(this.tiles.datum).toLowerCase() === 'gcj02');
    this.maxZoom = MAX_ZOOM;
    this.zoom = 12;
    this.cx = 0.5; this.cy = 0.5;
    this.w = 0; this.h = 0; this.dpr = 1;
    this.features = new Map(); // code -> feature
    this.grid = new Map(); // cache key -> {state:'loading'|'done'|'error', at}
    this.gridQueue = [];
    this.gridActive = 0;
    this.cases = [];
    this.casesBox = null; this.casesAt = 0; this.casesReq = 0;
    this.tileImgs = new Map();
    this.pin = null;
    this.cell = undefined;
    this.focused = false;
    this.pointers = new Map();
    this.gesture = null;
    this.dirty = false;
    this.fetchTimer = 0;
    this.districts = this.prepDistricts();
    this.build();
    var c = this.cfg.center;
    if (this.cfg.bounds && this.cfg.bounds.length === 4) this.fitBounds(this.cfg.bounds);
    else if (c) this.setView(c.lat, c.lon, 12);
  }

  CWMap.prototype.build = function () {
    var self = this, el = this.el;
    while (el.firstChild) el.removeChild(el.firstChild);
    var cv = document.createElement('canvas');
    cv.tabIndex = 0;
    cv.setAttribute('role', 'application');
    cv.setAttribute('aria-label', this.msg('public.map.aria'));
    el.appendChild(cv);
    this.canvas = cv;
    this.ctx = cv.getContext('2d');

    var zb = document.createElement('div');
    zb.className = 'map-zoom';
    zb.appendChild(this.button('+', 'public.map.zoom_in', function () { self.zoomBy(1); }));
    zb.appendChild(this.button('\u2212', 'public.map.zoom_out', function () { self.zoomBy(-1); }));
    el.appendChild(zb);

    this.note = document.createElement('div');
    this.note.className = 'map-note';
    this.note.setAttribute('aria-live', 'polite');
    this.note.hidden = true;
    el.appendChild(this.note);

    if (this.tiles && this.tiles.attribution) {
      var at = document.createElement('div');
      at.className = 'map-attr';
      at.textContent = this.tiles.attribution;
      el.appendChild(at);
    }
    if (this.tiles && this.tiles.max_zoom) this.maxZoom = clamp(+this.tiles.max_zoom + 2, MIN_ZOOM, MAX_ZOOM);

    cv.addEventListener('pointerdown', function (e) { self.down(e); });
    cv.addEventListener('pointermove', function (e) { self.move(e); });
    cv.addEventListener('pointerup', function (e) { self.up(e, false); });
    cv.addEventListener('pointercancel', function (e) { self.up(e, true); });
    cv.addEventListener('wheel', function (e) { self.wheel(e); }, { passive: false });
    cv.addEventListener('dblclick', function (e) {
      e.preventDefault();
      var p = self.pos(e);
      self.zoomAround(p.x, p.y, self.zoom + 1);
    });
    cv.addEventListener('keydown', function (e) { self.key(e); });
    cv.addEventListener('focus', function () { self.focused = true; self.redraw(); });
    cv.addEventListener('blur', function () { self.focused = false; self.redraw(); });
    cv.addEventListener('contextmenu', function (e) { e.preventDefault(); });

    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(function () { self.resize(); }).observe(el);
    } else {
      window.addEventListener('resize', function () { self.resize(); });
    }
    window.addEventListener('online', function () { self.scheduleFetch(0); });
    this.resize();
  };

  CWMap.prototype.button = function (text, key, fn) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-label', this.msg(key));
    b.title = this.msg(key);
    b.addEventListener('click', fn);
    return b;
  };

  CWMap.prototype.resize = function () {
    var w = this.el.clientWidth, h = this.el.clientHeight;
    if (!w || !h) return;
    var dpr = Math.min(window.devicePixelRatio || 1, 2);
    if (w === this.w && h === this.h && dpr === this.dpr) return;
    this.w = w; this.h = h; this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.redraw();
    this.scheduleFetch(100);
  };

  // ---- coordinate plumbing --------------------------------------------------
  // project maps WGS-84 to normalised display coordinates (GCJ-shifted when
  // the tiles want it).
  CWMap.prototype.project = function (lat, lon) {
    if (this.gcj) { var g = wgs2gcj(lat, lon); lat = g[0]; lon = g[1]; }
    return [lon2x(lon), lat2y(lat)];
  };
  CWMap.prototype.unproject = function (x, y) {
    var lat = y2lat(y), lon = x2lon(x);
    if (this.gcj) { var w = gcj2wgs(lat, lon); lat = w[0]; lon = w[1]; }
    return { lat: lat, lon: lon };
  };
  CWMap.prototype.worldSize = function () { return TILE * Math.pow(2, this.zoom); };
  CWMap.prototype.toScreen = function (x, y) {
    var W = this.worldSize();
    return [(x - this.cx) * W + this.w / 2, (y - this.cy) * W + this.h / 2];
  };
  CWMap.prototype.toWorld = function (sx, sy) {
    var W = this.worldSize();
    return [this.cx + (sx - this.w / 2) / W, this.cy + (sy - this.h / 2) / W];
  };
  CWMap.prototype.pos = function (e) {
    var r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  // viewBBox is the visible area in WGS-84 [minLon, minLat, maxLon, maxLat].
  CWMap.prototype.viewBBox = function (pad) {
    pad = pad || 0;
    var a = this.toWorld(-pad, this.h + pad), b = this.toWorld(this.w + pad, -pad);
    var sw = this.unproject(a[0], a[1]), ne = this.unproject(b[0], b[1]);
    return [sw.lon, sw.lat, ne.lon, ne.lat];
  };
  CWMap.prototype.spanMeters = function () {
    var c = this.center();
    return Math.max(this.w, this.h) * metersPerPixel(c.lat, this.zoom);
  };
  CWMap.prototype.center = function () { return this.unproject(this.cx, this.cy); };

  // ---- view ----------------------------------------------------------------
  CWMap.prototype.setView = function (lat, lon, zoom) {
    var p = this.project(lat, lon);
    this.cx = p[0]; this.cy = p[1];
    if (zoom != null) this.zoom = clamp(zoom, MIN_ZOOM, this.maxZoom);
    this.changed();
  };
  CWMap.prototype.fitBounds = function (b) {
    var p0 = this.project(b[1], b[0]), p1 = this.project(b[3], b[2]);
    this.cx = (p0[0] + p1[0]) / 2; this.cy = (p0[1] + p1[1]) / 2;
    var dx = Math.abs(p1[0] - p0[0]) || 1e-6, dy = Math.abs(p1[1] - p0[1]) || 1e-6;
    var w = this.w || 340, h = this.h || 240;
    var z = Math.log(Math.min(w / (dx * TILE), h / (dy * TILE))) / Math.LN2;
    this.zoom = clamp(Math.floor(z * 4) / 4, MIN_ZOOM, this.maxZoom);
    this.changed();
  };
  CWMap.prototype.zoomBy = function (d) { this.zoomAround(this.w / 2, this.h / 2, Math.round(this.zoom) + d); };
  CWMap.prototype.zoomAround = function (sx, sy, z) {
    z = clamp(z, MIN_ZOOM, this.maxZoom);
    var p = this.toWorld(sx, sy);
    this.zoom = z;
    var W = this.worldSize();
    this.cx = p[0] - (sx - this.w / 2) / W;
    this.cy = p[1] - (sy - this.h / 2) / W;
    this.changed();
  };
  CWMap.prototype.panBy = function (dx, dy) {
    var W = this.worldSize();
    this.cx -= dx / W; this.cy -= dy / W;
    this.changed();
  };
  CWMap.prototype.changed = function () {
    this.cx = clamp(this.cx, 0, 1); this.cy = clamp(this.cy, 0, 1);
    this.hideInfo();
    this.redraw();
    this.scheduleFetch(350);
  };

  // ---- input ---------------------------------------------------------------
  CWMap.prototype.down = function (e) {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    try { this.canvas.setPointerCapture(e.pointerId); } catch (_) { /* synthetic events */ }
    var p = this.pos(e);
    this.pointers.set(e.pointerId, p);
    if (this.pointers.size === 1) {
      var onPin = this.hitPin(p);
      this.gesture = { x0: p.x, y0: p.y, last: p, t0: Date.now(), moved: false, multi: false, pinDrag: onPin,
        slop: e.pointerType === 'mouse' ? TAP_SLOP_MOUSE : TAP_SLOP_TOUCH };
      if (onPin) {
        var s = this.toScreen(this.pin.x, this.pin.y);
        this.gesture.off = { x: s[0] - p.x, y: s[1] - p.y };
      }
    } else if (this.pointers.size === 2 && this.gesture) {
      this.gesture.multi = true;
      this.gesture.moved = true;
      this.gesture.pinDrag = false;
      this.startPinch();
    }
    e.preventDefault();
  };
  CWMap.prototype.startPinch = function () {
    var pts = Array.from(this.pointers.values());
    var mid = { x: (pts[0].x + pts[1].x) / 2, y: (pts[0].y + pts[1].y) / 2 };
    this.gesture.pinch = { d0: Math.max(dist(pts[0], pts[1]), 1), z0: this.zoom, anchor: this.toWorld(mid.x, mid.y) };
  };
  CWMap.prototype.move = function (e) {
    var p = this.pos(e);
    if (!this.pointers.has(e.pointerId)) {
      if (e.pointerType === 'mouse') this.canvas.style.cursor = this.hitPin(p) ? 'grab' : '';
      return;
    }
    this.pointers.set(e.pointerId, p);
    var g = this.gesture;
    if (!g) return;
    if (this.pointers.size >= 2 && g.pinch) {
      var pts = Array.from(this.pointers.values());
      var mid = { x: (pts[0].x + pts[1].x) / 2, y: (pts[0].y + pts[1].y) / 2 };
      this.zoom = clamp(g.pinch.z0 + Math.log(dist(pts[0], pts[1]) / g.pinch.d0) / Math.LN2, MIN_ZOOM, this.maxZoom);
      var W = this.worldSize();
      this.cx = g.pinch.anchor[0] - (mid.x - this.w / 2) / W;
      this.cy = g.pinch.anchor[1] - (mid.y - this.h / 2) / W;
      this.changed();
      return;
    }
    if (!g.moved && dist(p, { x: g.x0, y: g.y0 }) > g.slop) g.moved = true;
    if (!g.moved) return;
    if (g.pinDrag) {
      this.movePin(p.x + g.off.x, p.y + g.off.y);
    } else {
      this.panBy(p.x - g.last.x, p.y - g.last.y);
    }
    g.last = p;
    e.preventDefault();
  };
  CWMap.prototype.up = function (e, cancelled) {
    if (!this.pointers.has(e.pointerId)) return;
    var p = this.pos(e);
    this.pointers.delete(e.pointerId);
    var g = this.gesture;
    if (!g) return;
    if (this.pointers.size === 1 && g.multi) {
      // one finger left after a pinch: carry on panning from it
      g.pinch = null;
      g.last = Array.from(this.pointers.values())[0];
      return;
    }
    if (this.pointers.size > 0) return;
    this.gesture = null;
    if (cancelled) return;
    if (g.pinDrag && g.moved) {
      this.emitPin();
    } else if (!g.moved && !g.multi && Date.now() - g.t0 < 800) {
      this.tap(p.x, p.y);
    }
  };
  CWMap.prototype.wheel = function (e) {
    e.preventDefault();
    var d = e.deltaY;
    if (e.deltaMode === 1) d *= 33;
    else if (e.deltaMode === 2) d *= 400;
    var p = this.pos(e);
    this.zoomAround(p.x, p.y, this.zoom - clamp(d / 250, -1, 1));
  };
  CWMap.prototype.key = function (e) {
    var step = 80;
    switch (e.key) {
      case 'ArrowLeft': this.panBy(step, 0); break;
      case 'ArrowRight': this.panBy(-step, 0); break;
      case 'ArrowUp': this.panBy(0, step); break;
      case 'ArrowDown': this.panBy(0, -step); break;
      case '+': case '=': this.zoomBy(1); break;
      case '-': case '_': this.zoomBy(-1); break;
      case 'Enter': case ' ': this.tap(this.w / 2, this.h / 2); break;
      default: return;
    }
    e.preventDefault();
  };

  // tap places (or moves) the pin and reports a case marker under the finger.
  CWMap.prototype.tap = function (sx, sy) {
    var hit = this.hitCase(sx, sy);
    this.movePin(sx, sy);
    this.emitPin();
    if (hit) this.showInfo(hit);
  };
  CWMap.prototype.movePin = function (sx, sy) {
    var w = this.toWorld(sx, sy);
    var ll = this.unproject(w[0], w[1]);
    this.pin = { lat: ll.lat, lon: ll.lon, x: w[0], y: w[1], acc: 0 };
    this.redraw();
  };
  CWMap.prototype.emitPin = function () {
    if (!this.pin) return;
    this.onPin({ lat: this.pin.lat, lon: this.pin.lon }, 'pin');
    this.updateCell(true);
  };
  CWMap.prototype.hitPin = function (p) {
    if (!this.pin) return false;
    var s = this.toScreen(this.pin.x, this.pin.y);
    return p.x > s[0] - 20 && p.x < s[0] + 20 && p.y > s[1] - 46 && p.y < s[1] + 8;
  };
  CWMap.prototype.hitCase = function (sx, sy) {
    if (this.zoom < CASES_MIN_ZOOM) return null;
    var best = null, bd = 16;
    for (var i = 0; i < this.cases.length; i++) {
      var c = this.cases[i];
      var s = this.toScreen(c._x, c._y);
      var d = Math.hypot(s[0] - sx, s[1] - sy);
      if (d < bd) { bd = d; best = c; }
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

  // ---- pin API used by the page ----------------------------------------------
  // setPin places the pin at a WGS-84 point; opts.accuracy (metres) draws
  // the accuracy circle, opts.zoom centres the map on it at that zoom.
  CWMap.prototype.setPin = function (lat, lon, opts) {
    opts = opts || {};
    var p = this.project(lat, lon);
    this.pin = { lat: lat, lon: lon, x: p[0], y: p[1], acc: opts.accuracy || 0 };
    if (opts.zoom) {
      var z = opts.zoom;
      if (this.pin.acc > 0 && this.w) {
        // keep the whole accuracy circle in view
        var fit = Math.log(Math.min(this.w, this.h) * 0.4 * EARTH_CIRC * Math.cos(lat * PI / 180) / (TILE * this.pin.acc)) / Math.LN2;
        z = Math.min(z, Math.floor(fit));
      }
      this.setView(lat, lon, z);
    } else {
      this.redraw();
    }
    this.updateCell(true);
  };
  CWMap.prototype.getPin = function () { return this.pin ? { lat: this.pin.lat, lon: this.pin.lon } : null; };
  CWMap.prototype.clearPin = function () { this.pin = null; this.cell = undefined; this.redraw(); };

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
    this.redraw();
  };

  // ---- data loading ------------------------------------------------------------
  CWMap.prototype.scheduleFetch = function (delay) {
    var self = this;
    clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(function () { self.fetchVisible(); }, delay);
  };
  CWMap.prototype.fetchVisible = function () {
    if (!this.w || !this.h) return;
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
    var self = this;
    while (this.gridActive < 2 && this.gridQueue.length) {
      var k = this.gridQueue.shift();
      var st = this.grid.get(k);
      if (st && st.state === 'loading') continue;
      this.loadGridKey(k);
    }
    self.updateNote();
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
      self.updateCell(false);
      self.redraw();
    }, function () {
      self.gridActive--;
      self.grid.set(key, { state: 'error', at: Date.now() });
      self.pumpGrid();
    });
  };
  CWMap.prototype.addFeatures = function (list) {
    if (!list || !list.length) return;
    if (this.features.size + list.length > MAX_FEATURES) {
      // memory guard for a long session: start over with what is in view
      this.features.clear();
      this.grid.clear();
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
      var rings = [];
      for (var p = 0; p < polys.length; p++) {
        for (var r = 0; r < polys[p].length; r++) {
          var ring = polys[p][r];
          var xy = new Float64Array(ring.length * 2);
          for (var k = 0; k < ring.length; k++) {
            var lon = +ring[k][0], lat = +ring[k][1];
            if (lon < wbb[0]) wbb[0] = lon;
            if (lat < wbb[1]) wbb[1] = lat;
            if (lon > wbb[2]) wbb[2] = lon;
            if (lat > wbb[3]) wbb[3] = lat;
            var q = this.project(lat, lon);
            xy[2 * k] = q[0]; xy[2 * k + 1] = q[1];
          }
          rings.push(xy);
        }
      }
      var a = this.project(wbb[1], wbb[0]), b = this.project(wbb[3], wbb[2]);
      this.features.set(code, { code: code, props: props, geometry: f.geometry, rings: rings, wbb: wbb,
        bb: [a[0], b[1], b[0], a[1]] });
    }
  };
  CWMap.prototype.fetchCases = function () {
    var url = this.cfg.cases_url;
    if (!url || this.zoom < CASES_MIN_ZOOM) return;
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
      for (var i = 0; i < list.length; i++) {
        var p = self.project(+list[i].lat, +list[i].lon);
        list[i]._x = p[0]; list[i]._y = p[1];
      }
      self.cases = list;
      self.casesBox = want;
      self.casesAt = Date.now();
      self.redraw();
    }, function () { /* markers are a nicety; the next pan tries again */ });
  };
  CWMap.prototype.updateNote = function () {
    var text = '';
    if (this.info && !this.info.hidden) { this.note.hidden = true; return; }
    if (this.cfg.grid_url && this.spanMeters() > GRID_SPAN_M) text = this.msg('public.map.zoom_for_grid');
    else if (this.gridActive > 0) text = this.msg('public.map.loading');
    else {
      var self = this, err = false;
      this.grid.forEach(function (st) { if (st.state === 'error') err = true; });
      if (err && self.features.size === 0) text = this.msg('public.map.load_failed');
    }
    this.note.textContent = text;
    this.note.hidden = !text;
  };

  // ---- drawing -------------------------------------------------------------
  CWMap.prototype.redraw = function () {
    if (this.dirty) return;
    this.dirty = true;
    var self = this;
    var raf = window.requestAnimationFrame || function (f) { return setTimeout(f, 16); };
    raf(function () { self.dirty = false; self.draw(); });
  };
  CWMap.prototype.draw = function () {
    var ctx = this.ctx;
    if (!ctx || !this.w) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#eef0e8';
    ctx.fillRect(0, 0, this.w, this.h);
    if (this.tiles) this.drawTiles();
    var zoomedIn = this.spanMeters() <= GRID_SPAN_M;
    this.drawDistricts(!zoomedIn);
    if (this.zoom >= 13) this.drawCells();
    this.drawCases();
    this.drawPin();
    if (this.focused) this.drawCross();
  };

  CWMap.prototype.drawTiles = function () {
    var t = this.tiles, ctx = this.ctx;
    var maxZ = t.max_zoom != null ? +t.max_zoom : 18;
    var tz = clamp(Math.round(this.zoom), 0, maxZ);
    var n = Math.pow(2, tz);
    var size = TILE * Math.pow(2, this.zoom - tz);
    var a = this.toWorld(0, 0), b = this.toWorld(this.w, this.h);
    var x0 = Math.floor(a[0] * n), x1 = Math.floor(b[0] * n), y0 = Math.max(0, Math.floor(a[1] * n)), y1 = Math.min(n - 1, Math.floor(b[1] * n));
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 150) return;
    for (var y = y0; y <= y1; y++) {
      for (var x = x0; x <= x1; x++) {
        var wx = ((x % n) + n) % n;
        var s = this.toScreen(x / n, y / n);
        var img = this.tile(tz, wx, y);
        if (img && img.complete && img.naturalWidth) {
          ctx.drawImage(img, s[0], s[1], size + 0.5, size + 0.5);
        } else {
          this.drawParentTile(tz, wx, y, s, size);
        }
      }
    }
  };
  // drawParentTile fills a missing tile with a scaled part of a loaded
  // ancestor, so zooming shows blurry map rather than holes.
  CWMap.prototype.drawParentTile = function (z, x, y, s, size) {
    for (var up = 1; up <= 4 && z - up >= 0; up++) {
      var f = Math.pow(2, up);
      var px = Math.floor(x / f), py = Math.floor(y / f);
      var img = this.tileImgs.get((z - up) + '/' + px + '/' + py);
      if (img && img.complete && img.naturalWidth) {
        var sub = TILE / f;
        this.ctx.drawImage(img, (x - px * f) * sub, (y - py * f) * sub, sub, sub, s[0], s[1], size + 0.5, size + 0.5);
        return;
      }
    }
  };
  CWMap.prototype.tile = function (z, x, y) {
    var key = z + '/' + x + '/' + y;
    var img = this.tileImgs.get(key);
    if (img) {
      // refresh its place in the LRU order
      this.tileImgs.delete(key);
      this.tileImgs.set(key, img);
      return img;
    }
    var t = this.tiles, subs = t.subdomains || '';
    if (typeof subs === 'string') subs = subs.split('');
    var sd = subs.length ? subs[(x + y) % subs.length] : '';
    var url = String(t.url).replace('{s}', sd).replace('{z}', z).replace('{x}', x).replace('{y}', y);
    img = new Image();
    var self = this;
    img.onload = function () { self.redraw(); };
    img.onerror = function () { self.tileImgs.delete(key); };
    img.src = url;
    this.tileImgs.set(key, img);
    if (this.tileImgs.size > 400) this.tileImgs.delete(this.tileImgs.keys().next().value);
    return img;
  };

  CWMap.prototype.prepDistricts = function () {
    var out = [], self = this;
    (this.cfg.districts || []).forEach(function (d) {
      var b = d.bounds, c = d.center;
      var r = null, cen = null;
      if (b && b.length === 4) {
        var p0 = self.project(b[1], b[0]), p1 = self.project(b[3], b[2]);
        r = [p0[0], p1[1], p1[0], p0[1]];
      }
      if (c) cen = self.project(c.lat, c.lon);
      else if (r) cen = [(r[0] + r[2]) / 2, (r[1] + r[3]) / 2];
      out.push({ name: d.name, rect: r, c: cen });
    });
    if (this.cfg.bounds && this.cfg.bounds.length === 4) {
      var b = this.cfg.bounds;
      var p0 = this.project(b[1], b[0]), p1 = this.project(b[3], b[2]);
      this.cityRect = [p0[0], p1[1], p1[0], p0[1]];
    }
    return out;
  };
  CWMap.prototype.drawDistricts = function (labels) {
    var ctx = this.ctx, self = this;
    ctx.save();
    if (this.cityRect) {
      var a = this.toScreen(this.cityRect[0], this.cityRect[1]), b = this.toScreen(this.cityRect[2], this.cityRect[3]);
      ctx.strokeStyle = 'rgba(180,35,42,.7)';
      ctx.lineWidth = 2.5;
      ctx.strokeRect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
    }
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = labels ? 'rgba(60,70,90,.75)' : 'rgba(60,70,90,.35)';
    ctx.lineWidth = 1.5;
    this.districts.forEach(function (d) {
      if (!d.rect) return;
      var a = self.toScreen(d.rect[0], d.rect[1]), b = self.toScreen(d.rect[2], d.rect[3]);
      ctx.strokeRect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
    });
    ctx.setLineDash([]);
    if (labels) {
      var placed = [];
      this.districts.forEach(function (d) {
        if (!d.c || !d.name) return;
        var s = self.toScreen(d.c[0], d.c[1]);
        self.label(d.name, s[0], s[1], 'bold 15px sans-serif', '#1d2a3a', placed);
      });
    }
    ctx.restore();
  };
  CWMap.prototype.drawCells = function () {
    var ctx = this.ctx, self = this;
    var a = this.toWorld(0, 0), b = this.toWorld(this.w, this.h);
    var W = this.worldSize();
    var visible = [];
    this.features.forEach(function (f) {
      var bb = f.bb;
      if (bb[2] < a[0] || bb[0] > b[0] || bb[3] < a[1] || bb[1] > b[1]) return;
      visible.push(f);
    });
    if (!visible.length) return;
    ctx.save();
    ctx.lineJoin = 'round';
    var cx = this.cx, cy = this.cy, hw = this.w / 2, hh = this.h / 2;
    var path = function (f) {
      ctx.beginPath();
      for (var r = 0; r < f.rings.length; r++) {
        var xy = f.rings[r];
        for (var k = 0; k < xy.length; k += 2) {
          var sx = (xy[k] - cx) * W + hw, sy = (xy[k + 1] - cy) * W + hh;
          if (k === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
        }
        ctx.closePath();
      }
    };
    ctx.strokeStyle = this.tiles ? 'rgba(30,70,140,.75)' : 'rgba(60,90,130,.8)';
    ctx.lineWidth = this.zoom >= 16 ? 1.25 : 0.75;
    ctx.fillStyle = 'rgba(255,255,255,.35)';
    for (var i = 0; i < visible.length; i++) {
      path(visible[i]);
      if (!this.tiles) ctx.fill('evenodd');
      ctx.stroke();
    }
    var sel = this.cell != null ? this.features.get(this.cell) : null;
    if (sel) {
      path(sel);
      ctx.fillStyle = 'rgba(180,35,42,.14)';
      ctx.fill('evenodd');
      ctx.strokeStyle = 'rgba(180,35,42,.95)';
      ctx.lineWidth = 2.5;
      ctx.stroke();
    }
    // labels: the cell name when cells are big on screen, else one label
    // per community at the middle of its visible cells
    var placed = [];
    var groups = new Map();
    var cellLabels = false;
    for (var j = 0; j < visible.length; j++) {
      var f = visible[j];
      var w = (f.bb[2] - f.bb[0]) * W;
      if (w > 90 && f.props.name) {
        cellLabels = true;
        var s = self.toScreen((f.bb[0] + f.bb[2]) / 2, (f.bb[1] + f.bb[3]) / 2);
        self.label(String(f.props.name), s[0], s[1], '12px sans-serif', '#1d2a3a', placed);
      } else if (f.props.community) {
        var g = groups.get(f.props.community);
        if (!g) { g = { x: 0, y: 0, n: 0 }; groups.set(f.props.community, g); }
        g.x += (f.bb[0] + f.bb[2]) / 2; g.y += (f.bb[1] + f.bb[3]) / 2; g.n++;
      }
    }
    if (!cellLabels && this.zoom >= 14) {
      groups.forEach(function (g, name) {
        var s = self.toScreen(g.x / g.n, g.y / g.n);
        self.label(String(name), s[0], s[1], 'bold 13px sans-serif', '#243b5a', placed);
      });
    }
    ctx.restore();
  };
  // label draws haloed text unless it would overlap one already placed.
  CWMap.prototype.label = function (text, x, y, font, color, placed) {
    var ctx = this.ctx;
    ctx.font = font;
    var w = ctx.measureText(text).width, h = 16;
    var r = [x - w / 2 - 2, y - h / 2, x + w / 2 + 2, y + h / 2];
    if (r[2] < 0 || r[0] > this.w || r[3] < 0 || r[1] > this.h) return;
    for (var i = 0; i < placed.length; i++) {
      var o = placed[i];
      if (r[0] < o[2] && r[2] > o[0] && r[1] < o[3] && r[3] > o[1]) return;
    }
    placed.push(r);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,.92)';
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  };
  CWMap.prototype.drawCases = function () {
    if (this.zoom < CASES_MIN_ZOOM || !this.cases.length) return;
    var ctx = this.ctx, r = this.zoom >= 16 ? 7 : 5;
    ctx.save();
    ctx.fillStyle = '#e8710a';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2;
    for (var i = 0; i < this.cases.length; i++) {
      var s = this.toScreen(this.cases[i]._x, this.cases[i]._y);
      if (s[0] < -10 || s[0] > this.w + 10 || s[1] < -10 || s[1] > this.h + 10) continue;
      ctx.beginPath();
      ctx.arc(s[0], s[1], r, 0, 2 * PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
  };
  CWMap.prototype.drawPin = function () {
    if (!this.pin) return;
    var ctx = this.ctx, s = this.toScreen(this.pin.x, this.pin.y), x = s[0], y = s[1];
    ctx.save();
    if (this.pin.acc > 0) {
      var rad = this.pin.acc / metersPerPixel(this.pin.lat, this.zoom);
      if (rad > 6) {
        ctx.beginPath();
        ctx.arc(x, y, rad, 0, 2 * PI);
        ctx.fillStyle = 'rgba(11,87,208,.12)';
        ctx.fill();
        ctx.strokeStyle = 'rgba(11,87,208,.6)';
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
    }
    ctx.beginPath();
    ctx.ellipse(x, y, 7, 3, 0, 0, 2 * PI);
    ctx.fillStyle = 'rgba(0,0,0,.3)';
    ctx.fill();
    // teardrop: tip at the point, head 28px above
    var hy = y - 28, r = 13;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.bezierCurveTo(x - 4, y - 8, x - r, hy + 8, x - r, hy);
    ctx.arc(x, hy, r, PI, 0);
    ctx.bezierCurveTo(x + r, hy + 8, x + 4, y - 8, x, y);
    ctx.closePath();
    ctx.fillStyle = '#b4232a';
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(x, hy, 5, 0, 2 * PI);
    ctx.fillStyle = '#fff';
    ctx.fill();
    ctx.restore();
  };
  CWMap.prototype.drawCross = function () {
    var ctx = this.ctx, x = this.w / 2, y = this.h / 2;
    ctx.save();
    ctx.strokeStyle = '#0b57d0';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - 12, y); ctx.lineTo(x + 12, y);
    ctx.moveTo(x, y - 12); ctx.lineTo(x, y + 12);
    ctx.stroke();
    ctx.restore();
  };

  function dist(a, b) { return Math.hypot(a.x - b.x, a.y - b.y); }

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
    lon2x: lon2x, lat2y: lat2y, x2lon: x2lon, y2lat: y2lat,
    metersPerPixel: metersPerPixel,
    pointInRing: pointInRing,
    pointInGeometry: pointInGeometry,
    distanceToGeometry: distanceToGeometry,
    districtAt: districtAt,
    gridKeys: gridKeys,
    keyBBox: keyBBox
  };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.CWMap = api;
})(typeof window !== 'undefined' ? window : this);
