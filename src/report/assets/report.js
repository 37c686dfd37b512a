// Inspector report: table sorting and filtering on the index, seeking on call pages.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (player) {
    document.addEventListener("click", function (ev) {
      var el = ev.target.closest("[data-seek-ms]");
      if (!el) return;
      // Start 2 s early so the inspector hears what led up to the words.
      var ms = Math.max(0, parseInt(el.getAttribute("data-seek-ms"), 10) - 2000);
      player.currentTime = ms / 1000;
      var p = player.play();
      if (p && p.catch) p.catch(function () {});
    });
  }
  var table = document.getElementById("calls");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var f = function (id) { return document.getElementById(id); };
  function apply() {
    var agent = f("f-agent").value, dir = f("f-direction").value, item = f("f-item").value,
      cat = f("f-category").value, from = f("f-from").value, to = f("f-to").value,
      max = f("f-score").value, flagged = f("f-flagged").checked, shown = 0;
    rows.forEach(function (r) {
      var d = r.dataset, date = d.date, ok =
        (!agent || d.agent === agent) && (!dir || d.direction === dir) &&
        (!item || (" " + d.items + " ").indexOf(" " + item + " ") >= 0) &&
        (!cat || d.categories.split("|").indexOf(cat) >= 0) &&
        (!from || date >= from) && (!to || date <= to) &&
        (max === "" || parseFloat(d.score) <= parseFloat(max)) && (!flagged || d.flagged === "1");
      r.hidden = !ok;
      if (ok) shown++;
    });
    f("shown").textContent = shown;
  }
  ["f-agent", "f-direction", "f-item", "f-category", "f-from", "f-to", "f-score", "f-flagged"].forEach(function (id) {
    f(id).addEventListener("input", apply);
    f(id).addEventListener("change", apply);
  });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var key = th.getAttribute("data-key");
    if (!key) return;
    var asc = true;
    th.addEventListener("click", function () {
      var numeric = th.hasAttribute("data-numeric");
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        var c = numeric ? parseFloat(x) - parseFloat(y) : (x < y ? -1 : x > y ? 1 : 0);
        return asc ? c : -c;
      });
      asc = !asc;
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
})();
