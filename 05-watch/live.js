// staged-httpd live reload, served as /_/live.js and loaded by every HTML page.
// It listens to /_/events (Server-Sent Events). A changed stylesheet is swapped in
// place, without reloading the page; any other change reloads the page, after a short
// notice naming the file. After a server restart the browser reconnects by itself
// (EventSource does, every "retry" ms) and the page reloads once: files may have
// changed while no one was watching. An answer that is not a stream (503 when the
// server holds --max-streams already) makes EventSource give up for good: then this
// script tries again itself, later and later (2 s, doubling up to a minute).
(function () {
  'use strict';
  if (!window.EventSource || window.stagedLive) return;
  window.stagedLive = { server: null, events: 0 };
  var wait = 2000;

  function listen() {
    var source = new EventSource('/_/events');
    source.addEventListener('hello', hello);
    source.addEventListener('change', change);
    source.addEventListener('error', function () {
      if (source.readyState !== EventSource.CLOSED) return;  // it retries by itself
      setTimeout(listen, wait);
      wait = Math.min(2 * wait, 60000);
    });
  }

  function hello(e) {
    var server = JSON.parse(e.data).server;
    wait = 2000;
    if (window.stagedLive.server && window.stagedLive.server !== server) location.reload();
    window.stagedLive.server = server;
  }

  function change(e) {
    var c = JSON.parse(e.data);
    window.stagedLive.events++;
    if (c.css) {
      swapStylesheets(c.paths);
      return;
    }
    notice(c.path);
    setTimeout(function () { location.reload(); }, 300);
  }

  listen();

  // Point each <link rel=stylesheet> of ours at a fresh URL: the browser fetches it and
  // restyles the page. Only the changed ones, when the page links them; all of ours
  // otherwise (the change may be in a file that one of them @imports: the server marks
  // every file no-cache, so the browser asks for that one again too).
  function swapStylesheets(paths) {
    var links = document.querySelectorAll('link[rel~="stylesheet"][href]');
    var ours = [], changed = [];
    for (var i = 0; i < links.length; i++) {
      var url = new URL(links[i].href, location.href);
      if (url.origin !== location.origin) continue;
      ours.push(links[i]);
      if (paths.indexOf(decodeURIComponent(url.pathname)) >= 0) changed.push(links[i]);
    }
    (changed.length ? changed : ours).forEach(function (link) {
      var url = new URL(link.href, location.href);
      url.searchParams.set('live', Date.now());
      link.href = url.href;
    });
  }

  function notice(path) {
    var box = document.createElement('div');
    box.textContent = path + ' changed: reloading';
    box.setAttribute('style', 'position:fixed;right:1em;bottom:1em;z-index:2147483647;' +
      'padding:.5em 1em;border-radius:4px;background:#222;color:#fff;font:14px sans-serif');
    (document.body || document.documentElement).appendChild(box);
  }
})();
