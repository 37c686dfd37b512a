// Jump: any element with data-t (ms) plays the call from 2 s before it.
(function () {
  var player = document.getElementById('player');
  document.querySelectorAll('[data-t]').forEach(function (el) {
    el.addEventListener('click', function (ev) {
      if (!player || el.tagName === 'TR' && ev.target.tagName === 'A') return;
      ev.stopPropagation();
      player.currentTime = Math.max(0, Number(el.dataset.t) / 1000 - 2);
      var p = player.play();
      if (p && p.catch) p.catch(function () {});
    });
  });
  // Filters on the index.
  var table = document.getElementById('calls');
  if (table) {
    var get = function (id) { var e = document.getElementById(id); return e ? e.value.trim() : ''; };
    var apply = function () {
      var agent = get('f-agent'), dir = get('f-direction'), rule = get('f-rule'), cat = get('f-category'),
          date = get('f-date'), score = get('f-score');
      table.querySelectorAll('tbody tr').forEach(function (tr) {
        var d = tr.dataset, show = (!agent || d.agent === agent) && (!dir || d.direction === dir) &&
          (!rule || d.rules.indexOf(' ' + rule + ' ') >= 0) && (!cat || d.categories.indexOf(' ' + cat + ' ') >= 0) &&
          (!date || d.date.indexOf(date) === 0) && (!score || Number(d.score) <= Number(score));
        tr.style.display = show ? '' : 'none';
      });
    };
    document.querySelectorAll('.filters select, .filters input').forEach(function (e) {
      e.addEventListener('input', apply); e.addEventListener('change', apply);
    });
  }
  // Sorting: click a header.
  document.querySelectorAll('table.sortable th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var tbody = th.closest('table').querySelector('tbody'), num = th.hasAttribute('data-num');
      var asc = th.dataset.asc !== '1'; th.dataset.asc = asc ? '1' : '0';
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].textContent, y = b.cells[i].textContent;
        var c = num ? Number(x) - Number(y) : x.localeCompare(y, 'zh');
        return asc ? c : -c;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  });
})();
