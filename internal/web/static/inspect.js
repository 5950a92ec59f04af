/* inspect.js — the inspectors' phone view (测评员). Without it the page
 * still works: each checklist item is a form that posts and comes back.
 * With it, nothing typed is lost on a poor connection:
 *
 *  - a submitted item becomes a draft in the browser (IndexedDB, photos
 *    included as Blobs) with a key of its own, before anything is sent;
 *  - drafts are sent one at a time; a draft leaves the browser only when
 *    the server has answered 2xx (201 stored, 200 the same key was stored
 *    before: a resend after a lost answer changes nothing on the server);
 *  - a refusal (4xx) stays as a draft marked with the server's message, to
 *    be corrected and sent again; a network failure or 5xx is retried when
 *    the phone comes back online, every 30 s, or on "send now";
 *  - the count of drafts not yet sent is shown on every inspection page.
 */
(function () {
  'use strict';
  var DB = 'chuangwen-inspect', STORE = 'drafts';
  var msg = document.getElementById('inspect-msg');
  function text(k) { return msg ? msg.getAttribute('data-' + k) || '' : ''; }

  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error('no IndexedDB')); return; }
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: 'item' }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), st = t.objectStore(STORE), out;
        var r = fn(st);
        if (r) r.onsuccess = function () { out = r.result; };
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx('readonly', function (st) { return st.getAll(); }); }
  function put(d) { return tx('readwrite', function (st) { return st.put(d); }); }
  function del(item) { return tx('readwrite', function (st) { return st.delete(item); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function showCount() {
    return all().then(function (ds) {
      var n = ds.length;
      var p = document.getElementById('pending'), c = document.getElementById('pending-count');
      if (c) c.textContent = String(n);
      if (p) p.hidden = n === 0;
      return ds;
    }).catch(function () {});
  }

  function formOf(item) { return document.querySelector('form.obs[data-item="' + item.replace(/"/g, '') + '"]'); }
  function status(item, s, cls) {
    var f = formOf(item);
    if (!f) return;
    var el = f.querySelector('.status');
    el.textContent = s;
    el.className = 'status ' + (cls || '');
  }

  var sending = false;
  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return all().then(function (ds) {
      var chain = Promise.resolve();
      ds.forEach(function (d) {
        if (d.error) return; // waits for a correction
        chain = chain.then(function () { return send(d); });
      });
      return chain;
    }).catch(function () {}).then(function () { sending = false; return showCount(); });
  }

  function send(d) {
    var fd = new FormData();
    Object.keys(d.fields).forEach(function (k) { fd.append(k, d.fields[k]); });
    fd.append('key', d.key);
    (d.photos || []).forEach(function (p) { fd.append('photo', p.blob, p.name); });
    return fetch(d.action, { method: 'POST', body: fd, credentials: 'same-origin', headers: { 'X-CSRF-Token': d.csrf, 'Accept': 'application/json' } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.ok) {
            var o = body.observation || {};
            status(d.item, text('sent') + (o.case_no ? ' · ' + text('case') + ' ' + o.case_no : ''), 'ok');
            return del(d.item);
          }
          if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
            var e = body && body.error;
            d.error = (e && (e.message || (typeof e === 'string' && e))) || String(r.status);
            status(d.item, text('failed') + ':' + d.error, 'down');
            return put(d);
          }
          status(d.item, text('queued'), 'pending');
        });
      }, function () { status(d.item, text('queued'), 'pending'); });
  }

  function save(form) {
    var fd = new FormData(form), fields = {}, photos = [];
    fd.forEach(function (v, k) {
      if (k === 'photo') { if (v && v.size) photos.push({ blob: v, name: v.name || 'photo.jpg' }); }
      else if (k !== 'key' && k !== 'csrf') fields[k] = v;
    });
    var d = { item: form.getAttribute('data-item'), action: form.action, csrf: form.querySelector('[name=csrf]').value,
      key: newKey(), fields: fields, photos: photos, saved: Date.now() };
    return put(d).then(function () {
      status(d.item, text('queued'), 'pending');
      var input = form.querySelector('input[type=file]');
      if (input) input.value = '';
      return showCount();
    });
  }

  function restore() {
    return all().then(function (ds) {
      ds.forEach(function (d) {
        var f = formOf(d.item);
        if (!f) return;
        Object.keys(d.fields).forEach(function (k) {
          var els = f.querySelectorAll('[name="' + k + '"]');
          els.forEach(function (el) {
            if (el.type === 'radio') el.checked = el.value === d.fields[k];
            else el.value = d.fields[k];
          });
        });
        status(d.item, d.error ? text('failed') + ':' + d.error : text('queued'), d.error ? 'down' : 'pending');
      });
    });
  }

  function start() {
    open().then(function () {
      document.querySelectorAll('form.obs').forEach(function (f) {
        f.addEventListener('submit', function (e) {
          e.preventDefault();
          save(f).then(flush);
        });
        f.addEventListener('change', function () { f.classList.toggle('is-fail', !!f.querySelector('input[name=result][value=fail]:checked')); });
        f.classList.toggle('is-fail', !!f.querySelector('input[name=result][value=fail]:checked'));
      });
      var b = document.getElementById('send-now');
      if (b) b.addEventListener('click', flush);
      window.addEventListener('online', flush);
      setInterval(flush, 30000);
      return restore().then(flush);
    }).catch(function () { /* no IndexedDB: the forms post as they are */ });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
