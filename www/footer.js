// staged-httpd lab site: the footer's "You: ... · served by ..." line, on every page.
// It asks the server's /_/info.json (the facts of /_/info, as JSON) and writes the
// answer with textContent, never as HTML: the browser's name comes from the
// User-Agent, which any client may set to anything. Without JavaScript the line
// keeps its link to /_/info; when the request fails, it says so.
(function () {
  'use strict';

  const line = document.getElementById('visitor');
  if (!line || !window.fetch) { return; }

  fetch('/_/info.json', { cache: 'no-store' })
    .then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    })
    .then(function (info) {
      line.textContent = 'You: ' + info.browser + ' on ' + info.system + ', ' + info.address +
        ' \u00b7 served by ' + info.stage + ', ' + info.served_by;
    })
    .catch(function (err) {
      line.textContent = 'You: unknown (/_/info.json did not answer: ' + err.message +
        '); the Info page tells more.';
    });
})();
