/* report.js — enhances the public pages: the 随手拍 reporting form, the
 * case status page and the receipt lookup page.
 *
 * The pages are real forms that the server understands without this
 * script; the script adds what a resident on a flaky 4G link needs:
 * photo previews and checks, three ways to give the location (GPS, the
 * photo's EXIF position, a pin on the map), a duplicate check against
 * nearby cases, and an upload that shows progress and retries by itself
 * with the same Idempotency-Key, so a retry can never file a case twice.
 *
 * Every visible string comes from the message catalogue, rendered by the
 * server into <script id="msgs" type="application/json">.
 *
 * Pure helpers are exported through module.exports under node for tests.
 */
(function (root) {
  'use strict';

  // ---- pure helpers -----------------------------------------------------------

  // fmt fills {name} placeholders.
  function fmt(s, params) {
    if (!params) return s;
    return String(s).replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m;
    });
  }

  // countChars counts Unicode code points, as the server does (runes).
  function countChars(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      n++;
    }
    return n;
  }

  // uuid4 makes a random UUID. crypto.randomUUID exists only in secure
  // contexts, and intranet deployments are often plain HTTP, so build it
  // from getRandomValues (available everywhere).
  function uuid4() {
    var b = new Uint8Array(16);
    var c = typeof crypto !== 'undefined' ? crypto : null;
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var j = 0; j < 16; j++) {
      h += (b[j] < 16 ? '0' : '') + b[j].toString(16);
      if (j === 3 || j === 5 || j === 7 || j === 9) h += '-';
    }
    return h;
  }

  // parseRetryAfter turns a Retry-After header (seconds or an HTTP date)
  // into milliseconds, or null.
  function parseRetryAfter(v, now) {
    if (v == null || v === '') return null;
    v = String(v).trim();
    if (/^\d+$/.test(v)) return parseInt(v, 10) * 1000;
    var t = Date.parse(v);
    if (isNaN(t)) return null;
    return Math.max(0, t - (now == null ? Date.now() : now));
  }

  // retryDelay: 2 s, 4 s, 8 s, 16 s… after the nth failed try (n from 1),
  // never shorter than what the server asked for.
  function retryDelay(n, retryAfterMs) {
    var d = 2000 * Math.pow(2, Math.max(0, n - 1));
    if (d > 30000) d = 30000;
    if (retryAfterMs != null && retryAfterMs > d) d = retryAfterMs;
    return d;
  }

  // retryable tells whether an HTTP status is worth trying again with the
  // same Idempotency-Key: timeouts, rate limits and server trouble.
  function retryable(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  // ---- EXIF GPS -----------------------------------------------------------------
  // exifGPS reads the GPS position from a JPEG's APP1 Exif segment.
  // buf is an ArrayBuffer holding (at least the start of) the file. Every
  // read is bounds-checked; anything malformed yields null, never a throw.
  // Returns {lat, lon, acc?} in WGS-84 decimal degrees (GPS receivers record
  // WGS-84) or null.
  function exifGPS(buf) {
    try {
      return exifGPSUnsafe(buf);
    } catch (e) {
      return null;
    }
  }
  function exifGPSUnsafe(buf) {
    var dv = new DataView(buf);
    var n = dv.byteLength;
    if (n < 4 || dv.getUint16(0) !== 0xffd8) return null;
    var off = 2;
    while (off + 4 <= n) {
      if (dv.getUint8(off) !== 0xff) return null;
      var marker = dv.getUint8(off + 1);
      if (marker === 0xff) { off++; continue; } // fill byte
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { off += 2; continue; } // no length
      if (marker === 0xda || marker === 0xd9) return null; // image data: no metadata after this
      var len = dv.getUint16(off + 2);
      if (len < 2 || off + 2 + len > n) return null;
      if (marker === 0xe1 && len >= 16 &&
          dv.getUint32(off + 4) === 0x45786966 && dv.getUint16(off + 8) === 0) { // "Exif\0\0"
        var r = tiffGPS(dv, off + 10, len - 8);
        if (r) return r;
      }
      off += 2 + len;
    }
    return null;
  }
  function tiffGPS(dv, base, size) {
    if (size < 8 || base + size > dv.byteLength) return null;
    var bo = dv.getUint16(base), le;
    if (bo === 0x4949) le = true;
    else if (bo === 0x4d4d) le = false;
    else return null;
    var ok = function (o, l) { return o >= 0 && l >= 0 && o + l <= size; };
    var u16 = function (o) { return dv.getUint16(base + o, le); };
    var u32 = function (o) { return dv.getUint32(base + o, le); };
    var i32 = function (o) { return dv.getInt32(base + o, le); };
    if (u16(2) !== 42) return null;
    // entries reads an IFD into tag -> offset of its 12-byte entry
    var entries = function (ifd) {
      if (!ok(ifd, 2)) return null;
      var cnt = u16(ifd);
      if (cnt === 0 || cnt > 1000 || !ok(ifd + 2, cnt * 12)) return null;
      var m = {};
      for (var i = 0; i < cnt; i++) {
        var e = ifd + 2 + i * 12;
        m[u16(e)] = e;
      }
      return m;
    };
    var ifd0 = entries(u32(4));
    if (!ifd0 || ifd0[0x8825] == null) return null;
    var gps = entries(u32(ifd0[0x8825] + 8));
    if (!gps) return null;
    var TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };
    // valueAt locates an entry's data: inline when it fits in 4 bytes
    var valueAt = function (e) {
      var type = u16(e + 2), count = u32(e + 4), sz = TYPE_SIZE[type];
      if (!sz || count > 64) return null;
      var bytes = sz * count;
      var o = bytes <= 4 ? e + 8 : u32(e + 8);
      if (!ok(o, bytes)) return null;
      return { type: type, count: count, off: o };
    };
    var ref = function (tag) {
      if (gps[tag] == null) return '';
      var v = valueAt(gps[tag]);
      if (!v || v.type !== 2 || v.count < 1) return '';
      return String.fromCharCode(dv.getUint8(base + v.off)).toUpperCase();
    };
    var rationals = function (tag) {
      if (gps[tag] == null) return null;
      var v = valueAt(gps[tag]);
      if (!v || (v.type !== 5 && v.type !== 10) || v.count < 1 || v.count > 3) return null;
      var out = [];
      for (var i = 0; i < v.count; i++) {
        var o = v.off + i * 8;
        var num = v.type === 5 ? u32(o) : i32(o), den = v.type === 5 ? u32(o + 4) : i32(o + 4);
        if (den === 0) return null;
        out.push(num / den);
      }
      return out;
    };
    var latRef = ref(1), lonRef = ref(3);
    var lat = dmsToDecimal(rationals(2), latRef, 'S');
    var lon = dmsToDecimal(rationals(4), lonRef, 'W');
    if (lat == null || lon == null) return null;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    if (lat === 0 && lon === 0) return null; // "no fix" written as zeros
    var res = { lat: lat, lon: lon };
    var acc = rationals(0x1f); // GPSHPositioningError, metres
    if (acc && acc[0] > 0 && isFinite(acc[0])) res.acc = acc[0];
    return res;
  }
  // dmsToDecimal converts degrees/minutes/seconds to signed decimal degrees;
  // neg is the hemisphere reference letter that makes it negative.
  function dmsToDecimal(dms, refLetter, neg) {
    if (!dms || !dms.length) return null;
    var d = dms[0], m = dms[1] || 0, s = dms[2] || 0;
    if (!isFinite(d) || !isFinite(m) || !isFinite(s) || d < 0 || m < 0 || s < 0 || m >= 60 || s >= 60) return null;
    var v = d + m / 60 + s / 3600;
    return refLetter === neg ? -v : v;
  }

  var pure = {
    fmt: fmt, countChars: countChars, uuid4: uuid4, parseRetryAfter: parseRetryAfter,
    retryDelay: retryDelay, retryable: retryable, exifGPS: exifGPS, dmsToDecimal: dmsToDecimal
  };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = pure;
    return;
  }
  root.CWExifGPS = exifGPS; // for the console's report form (staff-locate.js)

  // ---- browser plumbing ----------------------------------------------------------
  var doc = root.document;
  var $ = function (id) { return doc.getElementById(id); };
  var LANG = doc.documentElement.lang || 'zh-CN';
  var MSGS = readJSON('msgs') || {};
  function t(key, params) {
    return fmt(Object.prototype.hasOwnProperty.call(MSGS, key) ? MSGS[key] : key, params);
  }
  function readJSON(id) {
    var el = $(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function storage(kind) {
    try {
      var s = root[kind];
      var k = '__cw_probe';
      s.setItem(k, '1');
      s.removeItem(k);
      return s;
    } catch (e) {
      var mem = {};
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(mem, k) ? mem[k] : null; },
        setItem: function (k, v) { mem[k] = String(v); },
        removeItem: function (k) { delete mem[k]; }
      };
    }
  }
  var local = storage('localStorage');
  var session = storage('sessionStorage');
  function loadList(key) {
    try { var v = JSON.parse(local.getItem(key) || '[]'); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function show(e, on) { if (e) e.hidden = !on; }
  function deviceID() {
    var id = local.getItem('cw.device_id');
    if (!id || !/^[0-9a-f-]{36}$/.test(id)) {
      id = uuid4();
      local.setItem('cw.device_id', id);
    }
    return id;
  }
  function fmtTime(v) {
    var d = new Date(v);
    if (isNaN(d.getTime())) return '';
    try {
      return d.toLocaleString(LANG, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    } catch (e) {
      return d.toISOString().slice(0, 16).replace('T', ' ');
    }
  }
  function fmtDistance(m) {
    m = +m;
    if (!isFinite(m)) return '';
    if (m >= 1000) return t('public.nearby.km', { km: (m / 1000).toFixed(1) });
    return t('public.nearby.m', { m: Math.round(m) });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function waitOnline() {
    if (typeof navigator === 'undefined' || navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (r) {
      var done = function () { root.removeEventListener('online', done); r(); };
      root.addEventListener('online', done);
      setTimeout(done, 60000); // onLine is not always truthful; try anyway
    });
  }

  // ---- receipts kept on this phone ("我的上报") ------------------------------------
  var RECEIPTS = 'cw.receipts';
  function remember(r) {
    var list = loadList(RECEIPTS).filter(function (x) { return x && x.receipt !== r.receipt; });
    list.unshift(r);
    local.setItem(RECEIPTS, JSON.stringify(list.slice(0, 50)));
  }
  function refreshRemembered(receipt, stateText) {
    var list = loadList(RECEIPTS), changed = false;
    list.forEach(function (x) { if (x && x.receipt === receipt && stateText && x.state_text !== stateText) { x.state_text = stateText; changed = true; } });
    if (changed) local.setItem(RECEIPTS, JSON.stringify(list));
  }
  function renderMine() {
    var box = $('mine'), ul = $('mine-list');
    if (!box || !ul) return;
    var list = loadList(RECEIPTS);
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    list.forEach(function (r) {
      if (!r || !r.receipt) return;
      var li = el('li'), a = el('a');
      a.href = r.status_url && /^\/track\//.test(r.status_url) ? r.status_url : '/track/' + encodeURIComponent(r.receipt);
      var r1 = el('span', 'r1');
      r1.appendChild(el('span', 'code', r.receipt));
      if (r.state_text) r1.appendChild(el('span', '', r.state_text));
      a.appendChild(r1);
      a.appendChild(el('span', 'r2', [r.category, r.follow ? t('public.mine.followed') : '', r.at ? fmtTime(r.at) : ''].filter(Boolean).join(' · ')));
      li.appendChild(a);
      ul.appendChild(li);
    });
    show(box, ul.children.length > 0);
  }

  // copyText copies to the clipboard; the async API needs a secure
  // context, so fall back to selecting the text and execCommand.
  function copyText(text, node) {
    var fallback = function () {
      try {
        var r = doc.createRange();
        r.selectNodeContents(node);
        var s = root.getSelection();
        s.removeAllRanges();
        s.addRange(r);
        return Promise.resolve(doc.execCommand('copy'));
      } catch (e) { return Promise.resolve(false); }
    };
    if (navigator.clipboard && root.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, fallback);
    }
    return fallback();
  }
  function wireCopy(btn, node) {
    if (!btn || !node) return;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      copyText(node.textContent.trim(), node).then(function (ok) {
        var old = btn.getAttribute('data-label') || btn.textContent;
        btn.setAttribute('data-label', old);
        btn.textContent = ok ? t('public.success.copied') : t('public.success.copy_failed');
        setTimeout(function () { btn.textContent = old; }, 2000);
      });
    });
  }

  // ---- HTTP with retries ------------------------------------------------------------
  var IDLE_MS = 30000; // no byte moved for this long: the link is dead, try again
  var MAX_TRIES = 5;
  var MAX_WAIT_MS = 60000; // a Retry-After longer than this is shown, not waited for

  // xhrOnce sends one request. It resolves with {status, text, retryAfter}
  // for every HTTP answer and status 0 for a network error or a stall.
  function xhrOnce(o) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      var timer = 0, stalled = false;
      var poke = function () {
        clearTimeout(timer);
        timer = setTimeout(function () { stalled = true; x.abort(); }, IDLE_MS);
      };
      x.open(o.method || 'POST', o.url, true);
      x.setRequestHeader('Accept', 'application/json');
      // error messages and state texts follow the page's language
      x.setRequestHeader('Accept-Language', LANG);
      Object.keys(o.headers || {}).forEach(function (h) { x.setRequestHeader(h, o.headers[h]); });
      if (x.upload) {
        x.upload.onprogress = function (e) { poke(); if (o.onProgress && e.lengthComputable) o.onProgress(e.loaded, e.total); };
        x.upload.onload = function () { poke(); if (o.onUploaded) o.onUploaded(); };
      }
      x.onprogress = poke;
      x.onload = function () {
        clearTimeout(timer);
        resolve({ status: x.status, text: x.responseText, retryAfter: x.getResponseHeader('Retry-After') });
      };
      x.onerror = function () { clearTimeout(timer); resolve({ status: 0, stalled: false }); };
      x.onabort = function () { clearTimeout(timer); resolve({ status: 0, stalled: stalled }); };
      poke();
      x.send(o.body);
    });
  }

  // send retries xhrOnce with backoff while the failure is retryable.
  // The body and the Idempotency-Key stay the same across tries, so the
  // server answers a replay with the first result. Resolves with
  // {ok, status, json}; it never rejects.
  function send(o) {
    var attempt = 0;
    var once = function () {
      attempt++;
      return xhrOnce(o).then(function (r) {
        var json = null;
        try { json = r.text ? JSON.parse(r.text) : null; } catch (e) { json = null; }
        if (r.status >= 200 && r.status < 300 && json) return { ok: true, status: r.status, json: json };
        var wait = parseRetryAfter(r.retryAfter);
        // a 2xx whose body got lost is retried too: the key makes it a replay
        var again = retryable(r.status) || (r.status >= 200 && r.status < 300);
        if (!again || attempt >= MAX_TRIES || (wait != null && wait > MAX_WAIT_MS)) {
          return { ok: false, status: r.status, json: json };
        }
        var d = retryDelay(attempt, wait);
        if (o.onRetry) o.onRetry(attempt, d, r.status);
        return sleep(d).then(offline).then(once);
      });
    };
    var offline = function () {
      if (typeof navigator !== 'undefined' && navigator.onLine === false && o.onOffline) o.onOffline();
      return waitOnline();
    };
    return offline().then(once);
  }
  function errorText(res) {
    if (res.json && res.json.error && res.json.error.message) return res.json.error.message;
    if (res.status === 0) return t('public.err.network');
    if (res.status === 413) return t('public.err.too_large');
    if (res.status === 429) return t('public.err.rate_limited');
    if (res.status >= 500) return t('public.err.server');
    return t('public.err.generic', { status: res.status });
  }
  function getJSON(url) {
    return xhrOnce({ method: 'GET', url: url }).then(function (r) {
      if (r.status !== 200) throw new Error('HTTP ' + r.status);
      return JSON.parse(r.text);
    });
  }

  // ---- the reporting page ------------------------------------------------------------
  function initReport() {
    var form = $('report-form');
    if (!form) return;
    renderMine();
    var cfg = readJSON('config');
    if (cfg && cfg.categories) { new Report(form, cfg); return; }
    // the config is normally embedded; fetch it if it is not
    getJSON('/api/v1/public/config').then(function (c) { new Report(form, c); }, function () {
      var e = $('error');
      if (e) { e.textContent = t('public.err.config'); e.hidden = false; }
    });
  }

  var ACCEPT = ['image/jpeg', 'image/png', 'image/webp'];
  var EXT_TYPE = { jpg: 'image/jpeg', jpeg: 'image/jpeg', jfif: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

  function Report(form, cfg) {
    var self = this;
    this.form = form;
    // the script checks the form itself, with messages from the catalogue;
    // the native checks would stop at the coordinates folded away below the map
    form.noValidate = true;
    this.cfg = cfg;
    this.maxPhotos = +cfg.max_photos || 9;
    this.maxBytes = (+cfg.max_photo_mb || 20) * 1024 * 1024;
    this.maxDesc = +cfg.max_description || 500;
    this.photos = []; // {file, url, gps}
    this.loc = null; // {lat, lon, source, acc}
    this.key = null; // Idempotency-Key of the pending submission
    this.sending = false;
    this.gpsWatch = null;
    this.nearbyKey = '';
    this.nearbyTimer = 0;
    this.cats = {};

    if (cfg.city && $('city-name')) $('city-name').textContent = cfg.city;
    this.fillCategories();
    this.wireDescription();
    this.wirePhotos();
    this.wireLocation();
    this.restoreDraft();
    wireCopy($('copy'), $('receipt'));
    $('again').addEventListener('click', function () { self.again(); });
    form.addEventListener('submit', function (e) { e.preventDefault(); self.submit(); });
    // Back to this page after a report went in: the receipt, never the
    // form refilled for a second, duplicate report.
    var sent = null;
    try { sent = JSON.parse(session.getItem('cw.sent') || 'null'); } catch (e) { sent = null; }
    var nav = root.performance && performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    if (sent && sent.r && nav && nav.type === 'back_forward') this.success(sent.r, sent.followed, sent.category);
    form.addEventListener('input', function (e) { self.edited(e); });
    form.addEventListener('change', function (e) { self.edited(e); });
    $('nearby').addEventListener('click', function (e) {
      var b = e.target.closest ? e.target.closest('button[data-case]') : null;
      if (b) self.follow(b);
    });
    root.addEventListener('beforeunload', function (e) {
      if (self.sending) { e.preventDefault(); e.returnValue = ''; }
    });
  }

  Report.prototype.edited = function (e) {
    // any change to what would be sent makes it a new submission
    if (!this.sending) this.key = null;
    if (e && e.target && /^(category|description|name|phone)$/.test(e.target.id)) this.saveDraft();
  };

  Report.prototype.fillCategories = function () {
    var sel = $('category'), self = this;
    var groups = [], byGroup = {};
    (this.cfg.categories || []).forEach(function (c) {
      self.cats[String(c.id)] = c;
      var g = c.group || '';
      if (!byGroup[g]) { byGroup[g] = []; groups.push(g); }
      byGroup[g].push(c);
    });
    var keep = sel.value;
    Array.prototype.slice.call(sel.querySelectorAll('optgroup, option[value]:not([value=""])')).forEach(function (o) { o.remove(); });
    groups.forEach(function (g) {
      var parent = sel;
      if (g) { parent = doc.createElement('optgroup'); parent.label = g; sel.appendChild(parent); }
      byGroup[g].forEach(function (c) {
        var o = doc.createElement('option');
        o.value = String(c.id);
        o.textContent = c.name;
        parent.appendChild(o);
      });
    });
    if (keep && this.cats[keep]) sel.value = keep;
    sel.addEventListener('change', function () { self.showHint(); self.checkNearby(); });
    this.showHint();
  };
  Report.prototype.showHint = function () {
    var c = this.cats[$('category').value], h = $('category-hint');
    h.textContent = c && c.hint ? c.hint : '';
    show(h, !!(c && c.hint));
  };

  Report.prototype.wireDescription = function () {
    var ta = $('description'), cnt = $('desc-count'), max = this.maxDesc;
    ta.maxLength = max;
    var upd = function () {
      var n = countChars(ta.value);
      cnt.textContent = t('public.desc.count', { n: n, max: max });
      cnt.classList.toggle('over', n > max);
    };
    ta.addEventListener('input', upd);
    upd();
  };

  // ---- photos ----
  Report.prototype.wirePhotos = function () {
    var self = this;
    ['photos', 'camera'].forEach(function (id) {
      var inp = $(id);
      if (!inp) return;
      inp.required = false; // the script keeps the list; it checks the count itself
      inp.addEventListener('change', function () {
        self.addFiles(Array.prototype.slice.call(inp.files || []));
        // clear so that choosing the same file again fires change
        try { inp.value = ''; } catch (e) { /* old browsers */ }
      });
    });
    $('use-exif').addEventListener('click', function () {
      var g = self.photos.length && self.photos[0].gps;
      if (g) self.setLocation(g.lat, g.lon, 'exif', g.acc, true);
    });
    $('photo-count').textContent = t('public.photos.count', { n: 0, max: this.maxPhotos });
  };
  Report.prototype.addFiles = function (files) {
    var self = this, problems = [];
    files.forEach(function (f) {
      var type = f.type || EXT_TYPE[(f.name.split('.').pop() || '').toLowerCase()] || '';
      if (ACCEPT.indexOf(type) < 0) { problems.push(t('public.photos.bad_type', { name: f.name })); return; }
      // a photo the browser can shrink may start larger than the limit:
      // what goes up is its shrunk copy (checked again before sending)
      var shrinkable = root.createImageBitmap && /^image\/(jpeg|png|webp)$/.test(type);
      if (f.size > (shrinkable ? Math.max(self.maxBytes, 40 * 1024 * 1024) : self.maxBytes)) { problems.push(t('public.photos.too_big', { name: f.name, mb: self.cfg.max_photo_mb || 20 })); return; }
      if (f.size === 0) { problems.push(t('public.photos.empty', { name: f.name })); return; }
      if (self.photos.length >= self.maxPhotos) { problems.push(t('public.photos.too_many', { max: self.maxPhotos })); return; }
      var p = { file: f, url: URL.createObjectURL(f), gps: null };
      self.photos.push(p);
      if (type === 'image/jpeg') {
        readHead(f, 256 * 1024).then(function (buf) {
          p.gps = buf ? exifGPS(buf) : null;
          self.renderPhotos();
        });
      }
    });
    var msg = $('photos-msg');
    msg.textContent = problems.filter(function (v, i, a) { return a.indexOf(v) === i; }).join(' ');
    show(msg, problems.length > 0);
    this.key = null;
    this.renderPhotos();
  };
  Report.prototype.removePhoto = function (i) {
    var p = this.photos.splice(i, 1)[0];
    if (p) URL.revokeObjectURL(p.url);
    this.key = null;
    show($('photos-msg'), false);
    this.renderPhotos();
    var rm = $('thumbs').querySelectorAll('.rm');
    if (rm.length) rm[Math.min(i, rm.length - 1)].focus();
    else $('photos').focus();
  };
  Report.prototype.renderPhotos = function () {
    var ul = $('thumbs'), self = this;
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    this.photos.forEach(function (p, i) {
      var li = el('li');
      var img = el('img');
      img.src = p.url;
      img.alt = t('public.photos.alt', { n: i + 1 });
      li.appendChild(img);
      if (p.gps) li.appendChild(el('span', 'gps-badge', t('public.photos.has_gps')));
      var b = el('button', 'rm', '\u00d7');
      b.type = 'button';
      b.setAttribute('aria-label', t('public.photos.remove', { n: i + 1 }));
      b.addEventListener('click', function () { self.removePhoto(i); });
      li.appendChild(b);
      ul.appendChild(li);
    });
    $('photo-count').textContent = t('public.photos.count', { n: this.photos.length, max: this.maxPhotos });
    var full = this.photos.length >= this.maxPhotos;
    ['photos', 'camera'].forEach(function (id) { if ($(id)) $(id).disabled = full; });
    var first = this.photos[0];
    show($('use-exif'), !!(first && first.gps));
  };

  // ---- location ----
  Report.prototype.wireLocation = function () {
    var self = this;
    var gpsBtn = $('use-gps');
    show(gpsBtn, !!navigator.geolocation);
    gpsBtn.addEventListener('click', function () { self.useGPS(); });
    var coords = $('coords');
    if (coords) coords.open = false;
    ['lat', 'lon'].forEach(function (id) {
      $(id).addEventListener('change', function () {
        var lat = parseFloat($('lat').value), lon = parseFloat($('lon').value);
        if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) self.setLocation(lat, lon, 'pin', 0, true);
      });
    });
    // The map's scripts (leaflet.js, map.js) come after this one, so the
    // form works while they are still being parsed on a slow phone; the
    // map is made once they have run (DOMContentLoaded waits for them).
    var makeMap = function () {
      if (!root.CWMap || !$('map') || self.map) return;
      try {
        self.map = root.CWMap.create($('map'), {
          config: self.cfg,
          msg: t,
          onPin: function (pt) { self.setLocation(pt.lat, pt.lon, 'pin', 0, false); },
          onCell: function (props, pt) { self.showPlace(props, pt); }
        });
        if (self.loc) self.map.setPin(self.loc.lat, self.loc.lon, { accuracy: self.loc.source === 'gps' ? self.loc.acc : 0, zoom: 17 });
      } catch (e) {
        self.map = null;
      }
      show($('map-help'), !!self.map);
    };
    if (root.CWMap || document.readyState === 'complete') makeMap();
    else document.addEventListener('DOMContentLoaded', makeMap);
  };
  // setLocation records the chosen WGS-84 point. moveMap: also move the pin
  // (false when the pin itself was moved).
  Report.prototype.setLocation = function (lat, lon, source, acc, moveMap) {
    if (source !== 'gps') this.stopGPS();
    this.loc = { lat: lat, lon: lon, source: source, acc: acc || 0 };
    $('lat').value = lat.toFixed(7);
    $('lon').value = lon.toFixed(7);
    $('location_source').value = source;
    $('accuracy_m').value = source !== 'pin' && acc ? String(Math.round(acc)) : '';
    this.key = null;
    if (this.map && moveMap) this.map.setPin(lat, lon, { accuracy: source === 'gps' ? acc : 0, zoom: 17 });
    else if (!this.map) this.showPlace(null, { lat: lat, lon: lon });
    var st = $('loc-status');
    var words = { gps: t('public.loc.from_gps'), exif: t('public.loc.from_exif'), pin: t('public.loc.from_pin') }[source];
    var text = words;
    if (acc && source !== 'pin') text += ' · ' + t('public.loc.accuracy', { m: Math.round(acc) });
    var b = this.cfg.bounds;
    var outside = b && b.length === 4 && (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]);
    if (outside) text += ' · ' + t('public.loc.outside', { city: this.cfg.city || '' });
    st.textContent = text;
    st.classList.toggle('error', !!outside);
    show(st, true);
    this.checkNearby();
  };
  Report.prototype.showPlace = function (props, pt) {
    var text = '';
    if (props) {
      text = [props.district, props.street, props.community].filter(Boolean).join(' · ');
      if (!text) text = props.name || '';
    } else if (pt && root.CWMap) {
      var d = root.CWMap.districtAt(this.cfg, pt.lat, pt.lon);
      if (d) text = d.name;
    }
    $('place').textContent = text;
  };
  Report.prototype.useGPS = function () {
    var self = this, btn = $('use-gps'), st = $('loc-status');
    if (!navigator.geolocation) return;
    this.stopGPS();
    btn.disabled = true;
    st.classList.remove('error');
    st.textContent = t('public.loc.locating');
    show(st, true);
    var best = null;
    var done = function () { self.stopGPS(); };
    this.gpsWatch = navigator.geolocation.watchPosition(function (pos) {
      var c = pos.coords;
      if (!best || c.accuracy < best.accuracy) {
        best = c;
        self.setLocation(c.latitude, c.longitude, 'gps', c.accuracy, true);
      }
      if (c.accuracy <= 20) done(); // good enough; save the battery
    }, function (err) {
      done();
      if (best) return;
      var key = err.code === 1 ? (root.isSecureContext === false ? 'public.loc.insecure' : 'public.loc.denied')
        : err.code === 3 ? 'public.loc.timeout' : 'public.loc.unavailable';
      st.textContent = t(key);
      st.classList.add('error');
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
    // the first fix is often coarse (Wi-Fi, cell); keep listening a little
    this.gpsTimer = setTimeout(done, 25000);
  };
  Report.prototype.stopGPS = function () {
    if (this.gpsWatch != null) { navigator.geolocation.clearWatch(this.gpsWatch); this.gpsWatch = null; }
    clearTimeout(this.gpsTimer);
    $('use-gps').disabled = false;
  };

  // ---- duplicate check ----
  Report.prototype.checkNearby = function () {
    var self = this, cat = $('category').value;
    clearTimeout(this.nearbyTimer);
    if (!cat || !this.loc) { this.renderNearby([]); this.nearbyKey = ''; return; }
    var key = cat + '@' + this.loc.lat.toFixed(5) + ',' + this.loc.lon.toFixed(5);
    if (key === this.nearbyKey) return;
    this.nearbyTimer = setTimeout(function () {
      var url = (self.cfg.nearby_url || '/api/v1/public/nearby') + '?category_id=' + encodeURIComponent(cat) +
        '&lat=' + self.loc.lat.toFixed(7) + '&lon=' + self.loc.lon.toFixed(7) + '&coord=wgs84';
      getJSON(url).then(function (res) {
        if ($('category').value !== cat) return;
        self.nearbyKey = key;
        self.renderNearby((res && res.cases) || []);
      }, function () { /* the check is advisory; the next change tries again */ });
    }, 500);
  };
  Report.prototype.renderNearby = function (cases) {
    var box = $('nearby'), ul = $('nearby-list');
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    cases = cases.slice(0, 5); // the nearest few are enough to recognise the problem
    cases.forEach(function (c) {
      var li = el('li');
      if (c.thumb && /^\//.test(c.thumb)) {
        var img = el('img', 'ph');
        img.src = c.thumb;
        img.alt = '';
        img.loading = 'lazy';
        li.appendChild(img);
      } else {
        li.appendChild(el('span', 'no-ph'));
      }
      var d = el('div');
      d.appendChild(el('div', 't', c.category || ''));
      if (c.description) d.appendChild(el('div', 'd', c.description));
      d.appendChild(el('div', 'm', [c.state_text, fmtDistance(c.distance_m), fmtTime(c.reported_at)].filter(Boolean).join(' · ')));
      var b = el('button', 'follow', t('public.nearby.follow'));
      b.type = 'button';
      b.setAttribute('data-case', c.no);
      b.setAttribute('aria-label', t('public.nearby.follow_case', { no: c.no }));
      d.appendChild(b);
      li.appendChild(d);
      ul.appendChild(li);
    });
    show(box, cases.length > 0);
  };
  Report.prototype.follow = function (btn) {
    var self = this, no = btn.getAttribute('data-case');
    if (this.sending || !no) return;
    // one key per case followed, reused if the resident taps again after a failure
    var key = btn.getAttribute('data-key') || uuid4();
    btn.setAttribute('data-key', key);
    this.busy(true, btn);
    var cat = this.cats[$('category').value];
    send({
      url: this.cfg.follow_url || '/api/v1/public/follow',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify({ case_no: no, device_id: deviceID() }),
      onOffline: function () { self.status(t('public.send.offline')); },
      onRetry: function (n) { self.status(t('public.send.retrying', { n: n + 1, max: MAX_TRIES })); }
    }).then(function (res) {
      self.busy(false, btn);
      if (res.ok) { self.success(res.json, true, cat ? cat.name : ''); return; }
      if (!retryable(res.status)) btn.removeAttribute('data-key');
      self.fail(errorText(res));
    });
  };

  // ---- drafts: text survives a reload on a flaky network (photos cannot) ----
  Report.prototype.saveDraft = function () {
    var d = {};
    ['category', 'description', 'name', 'phone'].forEach(function (id) { d[id] = $(id).value; });
    session.setItem('cw.draft', JSON.stringify(d));
  };
  Report.prototype.restoreDraft = function () {
    var d;
    try { d = JSON.parse(session.getItem('cw.draft') || 'null'); } catch (e) { d = null; }
    if (!d) return;
    ['category', 'description', 'name', 'phone'].forEach(function (id) {
      if (d[id] && !$(id).value) $(id).value = d[id];
    });
    if ($('category').value !== d.category) $('category').value = '';
    this.showHint();
    $('description').dispatchEvent(new Event('input'));
  };

  // ---- submit ----
  Report.prototype.validate = function () {
    var cat = $('category').value, desc = $('description').value.trim();
    if (!cat) return ['category', t('public.v.category')];
    if (!desc) return ['description', t('public.v.description')];
    if (countChars(desc) > this.maxDesc) return ['description', t('public.v.description_long', { max: this.maxDesc })];
    if (!this.photos.length) return ['photos', t('public.v.photos')];
    if (!this.loc) return [this.map ? 'map' : 'lat', t('public.v.location')];
    return null;
  };
  Report.prototype.submit = function () {
    if (this.sending) return;
    var bad = this.validate();
    if (bad) {
      this.fail(bad[1]);
      var f = $(bad[0]);
      if (bad[0] === 'map') f = $('use-gps').hidden ? $('map') : $('use-gps');
      if (f) {
        f.focus();
        if (f.scrollIntoView) f.scrollIntoView({ block: 'center' });
      }
      return;
    }
    if (!this.key) this.key = uuid4();
    // Photos go up shrunk to what the system keeps and shows (the EXIF
    // position was read from the originals when they were added).
    var self0 = this;
    this.busy(true, $('submit'));
    this.status(t('public.send.preparing'));
    Promise.all(this.photos.map(function (p) { return p.small || shrinkPhoto(p.file).then(function (f) { p.small = f; return f; }); }))
      .then(function (files) { self0.upload(files); }, function () { self0.upload(self0.photos.map(function (p) { return p.file; })); });
  };
  Report.prototype.upload = function (files) {
    var self = this;
    var big = files.filter(function (f) { return f.size > self.maxBytes; });
    if (big.length) {
      this.busy(false, $('submit'));
      this.fail(t('public.photos.too_big', { name: big[0].name, mb: this.cfg.max_photo_mb || 20 }));
      return;
    }
    var fd = new FormData();
    fd.append('category_id', $('category').value);
    fd.append('description', $('description').value.trim());
    fd.append('lat', this.loc.lat.toFixed(7));
    fd.append('lon', this.loc.lon.toFixed(7));
    fd.append('coord', 'wgs84');
    fd.append('location_source', this.loc.source);
    if (this.loc.acc && this.loc.source !== 'pin') fd.append('accuracy_m', String(Math.round(this.loc.acc)));
    fd.append('name', $('name').value.trim());
    fd.append('phone', $('phone').value.trim());
    fd.append('device_id', deviceID());
    // Signed-in inspectors and grid workers report as themselves.
    var csrf = document.querySelector('#report-form input[name=csrf]');
    if (csrf) fd.append('csrf', csrf.value);
    files.forEach(function (f) { fd.append('photos', f, f.name || 'photo.jpg'); });
    var key = this.key;
    var cat = this.cats[$('category').value];
    this.busy(true, $('submit'));
    show($('error'), false);
    var bar = $('progress-bar');
    show($('progress'), true);
    bar.value = 0;
    this.status(t('public.send.uploading', { pct: 0 }));
    send({
      url: this.cfg.reports_url || this.form.getAttribute('action') || '/api/v1/public/reports',
      headers: { 'Idempotency-Key': key },
      body: fd,
      onProgress: function (loaded, total) {
        var pct = Math.floor(loaded * 100 / total);
        bar.value = pct;
        self.status(t('public.send.uploading', { pct: pct }));
      },
      onUploaded: function () { bar.value = 100; self.status(t('public.send.processing')); },
      onOffline: function () { self.status(t('public.send.offline')); },
      onRetry: function (n, delay) {
        bar.value = 0;
        self.status(t('public.send.retrying', { n: n + 1, max: MAX_TRIES }) + ' ' + t('public.send.retry_in', { s: Math.round(delay / 1000) }));
      }
    }).then(function (res) {
      self.busy(false, $('submit'));
      show($('progress'), false);
      if (res.ok) { self.success(res.json, false, cat ? cat.name : ''); return; }
      // a refusal is final for this content: the next try is a new submission;
      // after a network failure the same key makes the next tap safe
      if (!retryable(res.status)) self.key = null;
      self.fail(errorText(res) + (retryable(res.status) ? ' ' + t('public.send.kept') : ''));
    });
  };
  Report.prototype.busy = function (on, btn) {
    this.sending = on;
    if (btn) {
      if (on) { btn.setAttribute('data-label', btn.textContent); btn.textContent = t('public.send.sending'); }
      else if (btn.getAttribute('data-label')) btn.textContent = btn.getAttribute('data-label');
      btn.disabled = on;
    }
    $('submit').disabled = on;
    if (!on) this.status('');
  };
  Report.prototype.status = function (text) {
    var s = $('send-status');
    s.textContent = text;
    show(s, !!text);
  };
  Report.prototype.fail = function (text) {
    var e = $('error');
    e.textContent = text;
    show(e, true);
    if (e.scrollIntoView) e.scrollIntoView({ block: 'nearest' });
  };
  Report.prototype.success = function (r, followed, category) {
    var receipt = String(r.receipt || '');
    var url = r.status_url && /^\/track\//.test(r.status_url) ? r.status_url : '/track/' + encodeURIComponent(receipt);
    remember({ receipt: receipt, case_no: r.case_no || '', status_url: url, state_text: r.state_text || '',
      category: category || '', at: new Date().toISOString(), follow: !!followed });
    $('receipt').textContent = receipt;
    $('status-link').href = url;
    $('success-title').textContent = t(followed ? 'public.success.followed' : 'public.success.title');
    $('success-case').textContent = r.case_no ? t('public.success.case_no', { no: r.case_no }) : '';
    $('success-state').textContent = r.state_text ? t('public.success.state', { state: r.state_text }) : '';
    session.removeItem('cw.draft');
    try { session.setItem('cw.sent', JSON.stringify({ r: r, followed: !!followed, category: category || '' })); } catch (e) { /* not kept */ }
    this.key = null;
    show($('error'), false);
    show(this.form, false);
    show($('nearby'), false);
    var box = $('success');
    show(box, true);
    box.focus();
    if (box.scrollIntoView) box.scrollIntoView({ block: 'start' });
    renderMine();
  };
  // again clears the form for the next report; name and phone stay.
  Report.prototype.again = function () {
    var self = this;
    session.removeItem('cw.sent');
    this.photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
    this.photos = [];
    this.renderPhotos();
    $('category').value = '';
    this.showHint();
    $('description').value = '';
    $('description').dispatchEvent(new Event('input'));
    this.loc = null;
    ['lat', 'lon', 'accuracy_m'].forEach(function (id) { $(id).value = ''; });
    $('location_source').value = 'pin';
    $('place').textContent = '';
    show($('loc-status'), false);
    if (this.map) this.map.clearPin();
    this.renderNearby([]);
    this.nearbyKey = '';
    this.key = null;
    show($('success'), false);
    show(this.form, true);
    self.form.scrollIntoView && self.form.scrollIntoView({ block: 'start' });
    $('category').focus();
  };

  // shrinkPhoto resizes a photo in the browser so that its longest side is
  // at most SHRINK_SIDE pixels (the largest version the system derives),
  // upright as the camera held it, as a JPEG. A photo already that small,
  // a type the browser cannot draw, or a result that is not smaller gives
  // back the file itself.
  var SHRINK_SIDE = 1280, SHRINK_QUALITY = 0.85;
  function shrinkPhoto(file) {
    if (!root.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 300 * 1024) return Promise.resolve(file);
    return root.createImageBitmap(file, { imageOrientation: 'from-image' }).then(function (bmp) {
      var w = bmp.width, h = bmp.height, k = Math.min(1, SHRINK_SIDE / Math.max(w, h));
      if (k === 1 && file.size < 1024 * 1024) { bmp.close && bmp.close(); return file; }
      var c = doc.createElement('canvas');
      c.width = Math.round(w * k);
      c.height = Math.round(h * k);
      var g = c.getContext('2d');
      g.imageSmoothingQuality = 'high';
      g.drawImage(bmp, 0, 0, c.width, c.height);
      bmp.close && bmp.close();
      return new Promise(function (resolve) {
        c.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = (file.name || 'photo').replace(/\.[^.]*$/, '') + '.jpg';
          resolve(new File([blob], name, { type: 'image/jpeg', lastModified: file.lastModified }));
        }, 'image/jpeg', SHRINK_QUALITY);
      });
    }).catch(function () { return file; });
  }

  // readHead reads the first bytes of a file as an ArrayBuffer.
  function readHead(file, bytes) {
    return new Promise(function (resolve) {
      var blob = file.slice(0, bytes);
      if (blob.arrayBuffer) { blob.arrayBuffer().then(resolve, function () { resolve(null); }); return; }
      var r = new FileReader();
      r.onload = function () { resolve(r.result); };
      r.onerror = function () { resolve(null); };
      r.readAsArrayBuffer(blob);
    });
  }

  // ---- the status page -----------------------------------------------------------
  function initTrack() {
    var page = $('track');
    if (!page) return;
    wireCopy($('copy'), $('receipt'));
    refreshRemembered(page.getAttribute('data-receipt'), page.getAttribute('data-state-text'));
    var form = $('rate-form');
    if (!form) return;
    var reason = $('rate-reason'), unsat = $('rate-unsatisfied'), sat = $('rate-satisfied');
    var need = $('reason-required'), cnt = $('reason-count');
    var max = +reason.getAttribute('maxlength') || 500;
    var upd = function () {
      var required = unsat.checked;
      reason.required = required;
      show(need, required);
      var n = countChars(reason.value);
      cnt.textContent = t('public.desc.count', { n: n, max: max });
      cnt.classList.toggle('over', n > max);
    };
    [unsat, sat].forEach(function (r) { r.addEventListener('change', upd); });
    reason.addEventListener('input', upd);
    form.addEventListener('submit', function (e) {
      var msg = '';
      if (!unsat.checked && !sat.checked) msg = t('public.rate.choose');
      else if (unsat.checked && !reason.value.trim()) msg = t('public.rate.reason_required');
      if (msg) {
        e.preventDefault();
        var er = $('rate-error');
        er.textContent = msg;
        show(er, true);
        (unsat.checked ? reason : sat).focus();
        return;
      }
      $('rate-submit').disabled = true; // one tap, one rating
    });
    upd();
  }

  // ---- the lookup page -------------------------------------------------------------
  function initLookup() {
    var form = $('lookup-form');
    if (!form) return;
    var inp = $('code');
    form.addEventListener('submit', function (e) {
      var code = inp.value.replace(/[\s-]+/g, '').toUpperCase();
      if (!code) { e.preventDefault(); inp.focus(); return; }
      e.preventDefault();
      root.location.href = '/track/' + encodeURIComponent(code);
    });
    renderMine();
  }

  initReport();
  initTrack();
  initLookup();
})(typeof window !== 'undefined' ? window : this);
