// callqa serve: the little script the pages need. Everything it sends goes to /api with the
// session's CSRF token; the pages work as plain documents without it, except for the actions.
"use strict";

(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function send(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(data.error || res.status + " " + res.statusText);
    }
    return data;
  }

  function say(text) {
    const m = document.getElementById("message") || document.getElementById("error");
    if (m) {
      m.textContent = text;
    }
  }

  // Login.
  const login = document.getElementById("login");
  if (login) {
    login.addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData(login);
      try {
        const res = await fetch("/api/login", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
        });
        if (!res.ok) {
          const data = await res.json().catch(() => ({}));
          throw new Error(data.error || String(res.status));
        }
        location.href = "/";
      } catch (err) {
        say(err.message);
      }
    });
  }

  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await send("/api/logout").catch(() => {});
      location.href = "/login";
    });
  }

  // Opening a calibration (supervisors, on /calibration).
  const openCalibration = document.getElementById("open-calibration");
  if (openCalibration) {
    openCalibration.addEventListener("click", () => {
      send("/api/calibration", {
        call_id: document.getElementById("calibrate-call").value,
        lead: document.getElementById("calibrate-lead").value,
      }).then(() => location.reload(), (err) => say(err.message));
    });
  }

  const root = document.getElementById("call");
  if (!root) {
    return;
  }
  const api = "/api/calls/" + encodeURIComponent(root.dataset.call);
  const player = document.getElementById("player");
  const items = Array.from(document.querySelectorAll(".item"));
  let current = -1;

  // A click on a line, a hit or an item plays from 2 s before it.
  function playFrom(ms) {
    if (!player) {
      return;
    }
    player.currentTime = Math.max(0, ms / 1000 - 2);
    player.play().catch(() => {});
  }
  root.addEventListener("click", (e) => {
    if (e.target.closest("button, input, select, textarea, label")) {
      return;
    }
    const at = e.target.closest("[data-ms]");
    if (at) {
      const item = at.closest(".item");
      if (item) {
        select(items.indexOf(item));
      }
      playFrom(Number(at.dataset.ms));
    }
  });

  // The energy strip: per 100 ms peaks computed by the server, agent above the line and
  // customer below, deductions in red, the playhead in blue; a click seeks there.
  const strip = document.getElementById("energy");
  if (strip && player) {
    fetch(api + "/energy", { credentials: "same-origin" })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(String(res.status)))))
      .then((energy) => {
        const draw = () => {
          const w = (strip.width = strip.clientWidth || 600);
          const h = strip.height;
          const g = strip.getContext("2d");
          const x = (ms) => (ms / energy.duration_ms) * w;
          g.clearRect(0, 0, w, h);
          g.fillStyle = "rgba(204, 51, 51, 0.25)";
          energy.deductions.forEach(([, start, end]) => g.fillRect(x(start), 0, Math.max(2, x(end) - x(start)), h));
          g.fillStyle = "#567";
          const bar = Math.max(1, x(energy.step_ms));
          // Scaled to the call's loudest moment: quiet lines still show their shape.
          const top = Math.max(1, ...energy.agent, ...energy.customer);
          const y = (p) => (p / top) * (h / 2);
          energy.agent.forEach((p, i) => g.fillRect(x(i * energy.step_ms), h / 2 - y(p), bar, y(p)));
          energy.customer.forEach((p, i) => g.fillRect(x(i * energy.step_ms), h / 2, bar, y(p)));
          g.fillStyle = "#06c";
          g.fillRect(x(player.currentTime * 1000), 0, 2, h);
        };
        draw();
        player.addEventListener("timeupdate", draw);
        window.addEventListener("resize", draw);
        strip.dataset.bars = String(energy.agent.length);
        strip.addEventListener("click", (e) => {
          const r = strip.getBoundingClientRect();
          player.currentTime = ((e.clientX - r.left) / r.width) * energy.duration_ms / 1000;
          player.play().catch(() => {});
        });
      })
      .catch(() => { strip.hidden = true; });
  }

  const speed = document.getElementById("speed");
  if (speed && player) {
    speed.addEventListener("change", () => {
      player.playbackRate = Number(speed.value);
    });
  }

  function select(i) {
    if (i < 0 || i >= items.length) {
      return;
    }
    items.forEach((el) => el.classList.remove("current"));
    current = i;
    items[i].classList.add("current");
    items[i].scrollIntoView({ block: "nearest" });
  }

  function decide(item, decision) {
    if (!item || !(item.classList.contains("deduction") || item.classList.contains("finding"))) {
      return;
    }
    item.dataset.decision = decision;
  }

  root.querySelectorAll(".item .confirm").forEach((b) =>
    b.addEventListener("click", () => decide(b.closest(".item"), "confirmed")));
  root.querySelectorAll(".item .reject").forEach((b) =>
    b.addEventListener("click", () => decide(b.closest(".item"), "rejected")));

  // Keyboard shortcuts, except while typing.
  const help = document.getElementById("help");
  document.addEventListener("keydown", (e) => {
    if (e.target.closest && e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    if (e.key === " " && player) {
      e.preventDefault();
      if (player.paused) {
        player.play().catch(() => {});
      } else {
        player.pause();
      }
    } else if (e.key === "j") {
      select(current + 1);
      const at = items[current];
      if (at && at.dataset.ms) {
        playFrom(Number(at.dataset.ms));
      }
    } else if (e.key === "k") {
      select(Math.max(0, current - 1));
      const at = items[current];
      if (at && at.dataset.ms) {
        playFrom(Number(at.dataset.ms));
      }
    } else if (e.key === "c") {
      decide(items[current], "confirmed");
    } else if (e.key === "x") {
      decide(items[current], "rejected");
    } else if (e.key === "?" && help) {
      help.hidden = !help.hidden;
    }
  });

  // The verdicts given on items of one kind (deductions or findings), keyed as the API wants.
  function verdicts(selector, field) {
    return Array.from(root.querySelectorAll(selector))
      .filter((el) => el.dataset.decision !== "pending" && el.querySelector(".comment"))
      .map((el) => ({
        [field]: Number(el.dataset.id),
        decision: el.dataset.decision === "rejected" ? "reject" : "confirm",
        comment: el.querySelector(".comment").value,
      }));
  }

  function review(publish) {
    const decisions = verdicts(".deduction", "deduction");
    const findings = verdicts(".finding", "finding");
    const flags = Array.from(root.querySelectorAll(".flag"))
      .filter((el) => el.querySelector(".flag-set").checked)
      .map((el) => ({ rule: el.dataset.rule, flag: el.dataset.flag }));
    const manual = Array.from(root.querySelectorAll(".manual"))
      .filter((el) => el.querySelector(".points"))
      .map((el) => {
        const value = el.querySelector(".points").value;
        const na = el.querySelector(".na").checked;
        const comment = el.querySelector(".comment").value;
        return { rule: el.dataset.rule, na: na, points: value === "" ? null : Number(value), comment: comment };
      })
      .filter((m) => m.na || m.points !== null || m.comment !== "");
    // A calibration call saves the blind answers elsewhere, and never publishes.
    const target = "calibration" in root.dataset
      ? "/api/calibration/" + encodeURIComponent(root.dataset.call)
      : api + "/review";
    return send(target, {
      decisions: decisions, findings: findings, manual: manual,
      ...("calibration" in root.dataset ? {} : { flags: flags, publish: publish }),
    });
  }

  function act(id, run) {
    const b = document.getElementById(id);
    if (b) {
      b.addEventListener("click", () => run().then(() => location.reload(), (err) => say(err.message)));
    }
  }
  act("save", () => review(false));
  act("publish", () => review(true));
  act("acknowledge", () => send(api + "/acknowledge"));
  act("assign", () => send(api + "/assign", { inspector: document.getElementById("inspector").value }));
  act("recall", () => send(api + "/recall"));

  root.querySelectorAll(".appeal").forEach((b) => {
    if (b.tagName !== "BUTTON") {
      return;
    }
    b.addEventListener("click", () => {
      const item = b.closest(".item");
      send(api + "/appeal", {
        deduction: Number(item.dataset.id),
        reason: item.querySelector(".appeal-reason").value,
      }).then(() => location.reload(), (err) => say(err.message));
    });
  });

  root.querySelectorAll(".decide").forEach((b) => {
    b.addEventListener("click", () => {
      const li = b.closest("[data-appeal]");
      const value = li.querySelector(".points").value;
      send(api + "/appeals/" + li.dataset.appeal + "/decision", {
        outcome: li.querySelector(".outcome").value,
        points: value === "" ? null : Number(value),
        comment: li.querySelector(".comment").value,
      }).then(() => location.reload(), (err) => say(err.message));
    });
  });
})();
