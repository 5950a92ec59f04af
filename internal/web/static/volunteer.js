// Check-in and check-out on site: the phone's position goes with the
// form. The server decides (time window, distance); this only asks the
// browser where it is and says why when it cannot.
(function () {
  'use strict';
  var form = document.getElementById('checkin-form');
  if (!form) return;
  var status = document.getElementById('loc-status');
  var busy = false;
  function say(key) { status.textContent = form.getAttribute('data-' + key) || ''; }
  form.addEventListener('submit', function (ev) {
    if (form.dataset.located === '1') return; // the position is in: send
    ev.preventDefault();
    if (busy) return;
    var action = ev.submitter ? ev.submitter.value : 'in';
    if (!window.isSecureContext && location.hostname !== 'localhost' && location.hostname !== '127.0.0.1') { say('insecure'); }
    if (!navigator.geolocation) { say('unavailable'); return; }
    busy = true;
    say('locating');
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById('lat').value = p.coords.latitude.toFixed(7);
      document.getElementById('lon').value = p.coords.longitude.toFixed(7);
      document.getElementById('accuracy').value = Math.round(p.coords.accuracy || 0);
      var a = document.createElement('input');
      a.type = 'hidden'; a.name = 'action'; a.value = action;
      form.appendChild(a);
      form.dataset.located = '1';
      Array.prototype.forEach.call(form.querySelectorAll('button'), function (b) { b.disabled = true; });
      form.submit();
    }, function (e) {
      busy = false;
      say(e && e.code === 1 ? 'denied' : 'unavailable');
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  });
})();
