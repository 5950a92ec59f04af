// Nothing typed is lost: before a console form posts, what it holds is
// kept in this tab's sessionStorage; when the server refuses it (the page
// comes back with #error), every field the server left empty gets back
// what was typed. Once a page comes back without an error the kept copy
// is dropped. Passwords and tokens are never kept; files cannot be.
(function () {
  'use strict';
  var KEY = 'chuangwen.form:', PENDING = 'chuangwen.pending', DONE = 'chuangwen.done:';
  // a form is known by where it posts and, for the forms that share an
  // address (a case's actions), its id or the action it names
  function key(form) {
    var act = form.elements.namedItem('action');
    return KEY + form.getAttribute('action') + '|' + (form.id || (act && act.value) || '');
  }
  function skip(el) {
    return !el.name || el.name === 'csrf' || el.type === 'password' || el.type === 'file' || el.type === 'hidden' ||
      el.type === 'submit' || el.type === 'button' || /token|secret/i.test(el.name);
  }
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form || (form.method || '').toLowerCase() !== 'post') return;
    var kept = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skip(el)) return;
      if (el.type === 'checkbox' || el.type === 'radio') kept.push([el.name, el.value, el.checked]);
      else if (el.tagName === 'SELECT' && el.multiple) kept.push([el.name, Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; })]);
      else kept.push([el.name, el.value]);
    });
    try {
      sessionStorage.setItem(key(form), JSON.stringify(kept));
      sessionStorage.setItem(PENDING, key(form));
    } catch (e) { /* storage full or off: nothing kept */ }
  }, true);
  function restore() {
    var refused = !!document.getElementById('error');
    // A post that was not refused is done: going back to its form later
    // shows what it made (the case, the saved list), not a refilled form.
    try {
      var pending = sessionStorage.getItem(PENDING);
      sessionStorage.removeItem(PENDING);
      if (pending && !refused) sessionStorage.setItem(DONE + pending, location.href);
    } catch (e) { /* nothing kept */ }
    Array.prototype.forEach.call(document.forms, function (form) {
      var k = key(form), raw;
      try { raw = sessionStorage.getItem(k); } catch (e) { return; }
      if (!raw) return;
      if (!refused) { sessionStorage.removeItem(k); return; }
      var kept;
      try { kept = JSON.parse(raw); } catch (e) { return; }
      var used = {};
      kept.forEach(function (f) {
        var els = form.querySelectorAll('[name="' + f[0].replace(/"/g, '') + '"]');
        Array.prototype.forEach.call(els, function (el) {
          if (skip(el)) return;
          if (el.type === 'checkbox' || el.type === 'radio') {
            if (el.value === f[1] && !used[f[0] + '=' + f[1]]) { el.checked = f[2]; used[f[0] + '=' + f[1]] = true; }
          } else if (el.tagName === 'SELECT' && el.multiple) {
            Array.prototype.forEach.call(el.options, function (o) { o.selected = f[1].indexOf(o.value) >= 0; });
          } else if (!el.value || el.tagName === 'SELECT' && el.selectedIndex <= 0) {
            el.value = f[1];
          }
        });
      });
      var details = form.closest('details');
      if (details) details.open = true;
      sessionStorage.removeItem(k);
    });
    forget(); // a copy is good for the one page that answers its post
  }
  function forget() {
    try {
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var k = sessionStorage.key(i);
        if (k && k.indexOf(KEY) === 0) sessionStorage.removeItem(k);
      }
    } catch (e) { /* nothing kept */ }
  }
  function backToDone(ev) {
    var nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    if (!(ev && ev.persisted) && !(nav && nav.type === 'back_forward')) return;
    Array.prototype.some.call(document.forms, function (form) {
      if ((form.method || '').toLowerCase() !== 'post') return false;
      var done;
      try { done = sessionStorage.getItem(DONE + key(form)); } catch (e) { return false; }
      if (!done || done === location.href) return false;
      sessionStorage.removeItem(DONE + key(form));
      location.replace(done);
      return true;
    });
  }
  window.addEventListener('pageshow', backToDone);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', restore);
  else restore();
})();
