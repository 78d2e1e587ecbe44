// staged-httpd lab site: a tiny script, loaded (deferred) by every page.
// It shows how long the page took to load and counts your clicks. On the
// media page it also fetches data.json, so you can see one more request in
// the server's log. Nothing is sent anywhere else.
(function () {
  'use strict';

  const status = document.getElementById('app-status');
  let clicks = 0;

  function loadTime() {
    const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    const ms = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : performance.now();
    return Math.round(ms);
  }

  function show() {
    if (status) {
      status.textContent = 'page loaded in ' + loadTime() + ' ms \u00b7 clicks: ' + clicks;
    }
  }

  document.addEventListener('click', function () {
    clicks += 1;
    show();
  });

  // loadEventEnd is only known once the load handler has returned.
  window.addEventListener('load', function () { setTimeout(show, 0); });
  show();

  // Media page only: fill the table from data.json.
  const table = document.getElementById('json-stages');
  if (table && window.fetch) {
    fetch('data.json')
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (data) {
        const body = table.querySelector('tbody');
        body.textContent = '';
        data.stages.forEach(function (s) {
          const tr = document.createElement('tr');
          [s.id, s.model, s.summary].forEach(function (text) {
            const td = document.createElement('td');
            td.textContent = text;
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
      })
      .catch(function (err) {
        table.querySelector('tbody').textContent = '';
        table.insertAdjacentText('afterend', 'Could not load data.json: ' + err.message);
      });
  }
})();
