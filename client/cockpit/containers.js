/* The containersd Cockpit page: plain DOM, no framework, no build step.
 *
 * Everything comes from the public D-Bus API of org.example.Containers1 on
 * the system bus: the bridge watches the object tree, so containers and
 * images appear, change and go through InterfacesAdded, PropertiesChanged and
 * InterfacesRemoved; nothing is polled except a running container's log
 * (ReadLogs has no signal for new lines, see follow_log_timer). */
"use strict";

(function () {
  const NAME = "org.example.Containers1";
  const ROOT = "/org/example/Containers1";
  const MANAGER = NAME + ".Manager";
  const CONTAINER = NAME + ".Container";
  const IMAGE = NAME + ".Image";
  const ERROR_PREFIX = NAME + ".Error.";

  /* Stop, Restart and Remove last as long as the container takes to stop;
   * the bus sets no reply timeout, the bridge's default would cut them. */
  const LONG_CALL = { timeout: 15 * 60 * 1000 };
  const STOP_DEFAULT_TIMEOUT = 0xffffffff; /* the container's StopTimeout */
  const LOG_LINES_PER_READ = 500;
  const LOG_KEEP_LINES = 5000; /* what the page holds of a log */
  const LOG_FOLLOW_MS = 2000;
  const MAX_ALERTS = 5;

  /* States in which each action makes sense (the daemon decides anyway). */
  const ACTIONS = [
    { id: "start", label: "Start", states: ["configured", "created", "stopped", "exited"], method: "Start" },
    { id: "stop", label: "Stop", states: ["running", "paused"], method: "Stop", args: [STOP_DEFAULT_TIMEOUT] },
    /* shown only in their states: one of the two while it runs */
    { id: "pause", label: "Pause", states: ["running"], method: "Pause", only_then: true },
    { id: "resume", label: "Resume", states: ["paused"], method: "Unpause", only_then: true },
    { id: "restart", label: "Restart", states: ["configured", "created", "running", "stopped", "exited"],
      method: "Restart", args: [STOP_DEFAULT_TIMEOUT] },
    { id: "remove", label: "Remove", states: ["configured", "created", "running", "paused", "stopped", "exited"] },
  ];
  const RUNNING_STATES = ["running", "paused", "stopping"];

  let client = null;
  let containers = null;
  let images = null;
  const rows = new Map(); /* container path -> <tr> */
  const busy = new Set(); /* container paths with an action in flight */

  /* ------------------------------------------------------------ helpers */

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class")
        node.className = value;
      else
        node.setAttribute(key, value);
    }
    if (text !== undefined && text !== null)
      node.textContent = text;
    return node;
  }

  function format_time(usec) {
    if (!usec)
      return "never";
    return new Date(usec / 1000).toLocaleString();
  }

  function format_command(argv) {
    return (argv || []).map(word => /[\s'"]/.test(word) || word === "" ? JSON.stringify(word) : word).join(" ");
  }

  /* Shell-like words: spaces separate, quotes keep, no expansion. */
  function split_words(text) {
    const words = [];
    let word = null;
    let quote = null;
    for (const ch of text) {
      if (quote) {
        if (ch === quote)
          quote = null;
        else
          word += ch;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        word = word === null ? "" : word;
      } else if (/\s/.test(ch)) {
        if (word !== null)
          words.push(word);
        word = null;
      } else {
        word = word === null ? ch : word + ch;
      }
    }
    if (quote)
      throw new Error("the command has an unterminated " + quote + " quote");
    if (word !== null)
      words.push(word);
    return words;
  }

  function error_name(ex) {
    const name = (ex && ex.name) || "";
    return name.startsWith(ERROR_PREFIX) ? name.slice(ERROR_PREFIX.length) : name;
  }

  function error_text(ex) {
    if (!ex)
      return "unknown error";
    const message = ex.message || ex.problem || String(ex);
    if (error_name(ex) === "NotAuthorized" && !/not authorized/i.test(message))
      return "not authorized: " + message;
    return message;
  }

  /* A message naming what was tried and why it failed; never throws. */
  function show_alert(what, ex) {
    const box = $("alerts");
    const alert = el("div", { class: "alert", role: "alert", "data-error": error_name(ex) || "Failed" });
    alert.append(el("strong", {}, what + " failed: "), el("span", {}, error_text(ex)));
    const close = el("button", { type: "button", class: "plain", "aria-label": "Dismiss" }, "×");
    close.addEventListener("click", () => alert.remove());
    alert.append(close);
    box.prepend(alert);
    while (box.children.length > MAX_ALERTS)
      box.lastElementChild.remove();
  }

  function container_label(proxy) {
    return proxy.data.Name || (proxy.data.Id || "").slice(0, 12) || proxy.path;
  }

  /* ------------------------------------------------------------ the list */

  function badge(kind, value, text) {
    const span = el("span", { class: "badge " + kind + "-" + (value || "none") }, text);
    span.dataset[kind] = value;
    return span;
  }

  function render_row(proxy) {
    let row = rows.get(proxy.path);
    if (!row) {
      row = el("tr", { "data-path": proxy.path });
      row.addEventListener("click", ev => {
        if (!ev.target.closest("button"))
          select_container(row.dataset.path);
      });
      rows.set(proxy.path, row);
    }
    const state = proxy.data.State || "";
    row.dataset.name = proxy.data.Name || "";
    row.dataset.state = state;
    row.dataset.health = proxy.data.Health || "";
    row.dataset.image = proxy.data.ImageName || "";
    row.dataset.created = String(proxy.data.CreatedAt || 0);
    row.classList.toggle("selected", selected_path === proxy.path);

    const state_cell = el("td", { class: "state" });
    const health_cell = el("td", { class: "health" });
    const actions_cell = el("td", { class: "actions" });
    const sample = stats.get(proxy.path);
    const running = RUNNING_STATES.includes(state);
    const cells = [
      el("td", { class: "name" }, container_label(proxy)),
      el("td", { class: "image" }, proxy.data.ImageName || ""),
      el("td", { class: "command" }, format_command(proxy.data.Command)),
      state_cell,
      health_cell,
      el("td", { class: "cpu" }, running && sample ? sample.cpu : ""),
      el("td", { class: "memory" }, running && sample ? sample.memory : ""),
      el("td", { class: "created" }, format_time(proxy.data.CreatedAt)),
      actions_cell,
    ];
    state_cell.append(badge("state", state, state));
    if (proxy.data.Health)
      health_cell.append(badge("health", proxy.data.Health, proxy.data.Health));
    for (const action of ACTIONS) {
      if (action.only_then && !action.states.includes(state))
        continue;
      const button = el("button", { type: "button", "data-action": action.id }, action.label);
      button.disabled = busy.has(proxy.path) || !action.states.includes(state);
      button.addEventListener("click", () => run_action(action, proxy.path));
      actions_cell.append(button);
    }
    row.replaceChildren(...cells);
    place_row(row);
  }

  /* The list's order: a column (a row's data- attribute) and a direction,
   * ties broken by name; a row moves only when its key changed. */
  const sort = { key: "name", descending: false };

  function compare_rows(a, b) {
    let order;
    if (sort.key === "created")
      order = Number(a.dataset.created) - Number(b.dataset.created);
    else
      order = (a.dataset[sort.key] || "").localeCompare(b.dataset[sort.key] || "");
    if (sort.descending)
      order = -order;
    return order || a.dataset.name.localeCompare(b.dataset.name) || a.dataset.path.localeCompare(b.dataset.path);
  }

  function place_row(row) {
    const body = $("containers").tBodies[0];
    let before = null;
    for (const other of body.rows) {
      if (other !== row && compare_rows(other, row) > 0) {
        before = other;
        break;
      }
    }
    if (row.parentNode !== body || row.nextSibling !== before)
      body.insertBefore(row, before);
    update_empty();
  }

  function sort_by(key) {
    sort.descending = sort.key === key ? !sort.descending : false;
    sort.key = key;
    for (const th of document.querySelectorAll("#containers th[data-sort]")) {
      if (th.dataset.sort === key)
        th.setAttribute("aria-sort", sort.descending ? "descending" : "ascending");
      else
        th.removeAttribute("aria-sort");
    }
    const body = $("containers").tBodies[0];
    body.append(...Array.from(body.rows).sort(compare_rows));
  }

  function remove_row(path) {
    const row = rows.get(path);
    if (row)
      row.remove();
    rows.delete(path);
    busy.delete(path);
    stats.delete(path);
    if (selected_path === path)
      select_container(null);
    update_empty();
  }

  /* The filter hides rows whose name and image do not contain its text. */
  function matches_filter(row) {
    const text = $("filter").value.trim().toLowerCase();
    return !text || row.dataset.name.toLowerCase().includes(text) ||
      (row.dataset.image || "").toLowerCase().includes(text);
  }

  function update_empty() {
    let shown = 0;
    for (const row of rows.values()) {
      const match = matches_filter(row);
      row.classList.toggle("filtered", !match);
      shown += match ? 1 : 0;
    }
    $("containers-empty").hidden = rows.size > 0;
    $("containers-unmatched").hidden = rows.size === 0 || shown > 0;
  }

  /* ------------------------------------------------------------ CPU and memory */

  /* cgroup figures change with no signal: GetStats (open to every user) is
   * asked every STATS_MS for the running containers the list shows, at most
   * STATS_PER_TICK of them and one call per container at a time. */
  const STATS_MS = 5000;
  const STATS_PER_TICK = 100;
  const stats = new Map(); /* container path -> last sample and its text */

  function format_bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function variant_number(dict, key) {
    const value = dict && dict[key];
    return value && typeof value === "object" ? Number(value.v) : Number(value || 0);
  }

  async function sample_stats(path) {
    const previous = stats.get(path) || {};
    if (previous.pending)
      return;
    stats.set(path, { ...previous, pending: true });
    let result;
    try {
      [result] = await container_call(path, "GetStats", [], { timeout: 30000 });
    } catch (ex) {
      /* stopped between the tick and the call: nothing to show */
      stats.set(path, { ...previous, pending: false });
      return;
    }
    const now = performance.now();
    const cpu_ns = variant_number(result, "CpuTimeNs");
    const sample = { pending: false, at: now, cpu_ns: cpu_ns, cpu: previous.cpu || "",
                     memory: format_bytes(variant_number(result, "MemoryBytes")) };
    if (previous.at !== undefined && now > previous.at && cpu_ns >= previous.cpu_ns)
      sample.cpu = ((cpu_ns - previous.cpu_ns) / ((now - previous.at) * 1e6) * 100).toFixed(1) + " %";
    stats.set(path, sample);
    const row = rows.get(path);
    if (row && containers[path] && RUNNING_STATES.includes(containers[path].data.State)) {
      row.querySelector("td.cpu").textContent = sample.cpu;
      row.querySelector("td.memory").textContent = sample.memory;
    }
  }

  function stats_tick() {
    let asked = 0;
    for (const [path, row] of rows) {
      if (asked >= STATS_PER_TICK)
        break;
      if (row.dataset.state !== "running" || row.classList.contains("filtered")) {
        if (row.dataset.state !== "running")
          stats.delete(path);
        continue;
      }
      sample_stats(path);
      asked++;
    }
  }

  /* ------------------------------------------------------------ actions */

  function container_call(path, method, args, options) {
    return client.call(path, CONTAINER, method, args, options || LONG_CALL);
  }

  async function run_action(action, path) {
    const proxy = containers[path];
    if (!proxy || busy.has(path))
      return;
    const label = container_label(proxy);
    let call;
    if (action.method) {
      call = () => container_call(path, action.method, action.args || []);
    } else {
      const force = RUNNING_STATES.includes(proxy.data.State);
      if (!await confirm_remove(label, force))
        return;
      call = () => container_call(path, "Remove", [force, false]);
    }
    busy.add(path);
    render_row(proxy);
    try {
      await call();
    } catch (ex) {
      show_alert(action.label + " " + label, ex);
    } finally {
      busy.delete(path);
      if (containers[path])
        render_row(containers[path]);
    }
  }

  function confirm_remove(label, force) {
    const dialog = $("remove-dialog");
    $("remove-title").textContent = "Remove container " + label + "?";
    $("remove-text").textContent = force
      ? "It is running: it will be stopped first. Its writable layer is deleted."
      : "Its writable layer is deleted.";
    dialog.returnValue = "";
    return new Promise(resolve => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "remove"), { once: true });
      dialog.showModal();
    });
  }

  /* ------------------------------------------------------------ details and log */

  let selected_path = null;
  const log = { path: null, cursor: 0, reading: false, again: false, timer: null, lines: 0 };

  function select_container(path) {
    selected_path = path;
    for (const [row_path, row] of rows)
      row.classList.toggle("selected", row_path === path);
    const pane = $("details");
    pane.hidden = !path;
    if (log.timer)
      window.clearInterval(log.timer);
    Object.assign(log, { path: path, cursor: 0, reading: false, again: false, timer: null, lines: 0 });
    $("log").textContent = "";
    $("log-error").hidden = true;
    $("inspect").textContent = "";
    $("inspect-error").hidden = true;
    if (!path)
      return;
    render_details();
    read_log();
    read_inspect();
  }

  /* Inspect: everything it was created with (Env included, which is why it
   * is authorized and not a property). Read on selection and on each of its
   * ContainerEvents (update, rename, rebase change it), not on every change. */
  let inspect_serial = 0;

  async function read_inspect() {
    const path = selected_path;
    const serial = ++inspect_serial;
    try {
      const [json] = await container_call(path, "Inspect", [], { timeout: 60000 });
      if (serial !== inspect_serial)
        return;
      let text = json;
      try {
        text = JSON.stringify(JSON.parse(json), null, 2);
      } catch (ex) {
        /* shown as the daemon wrote it */
      }
      $("inspect").textContent = text;
      $("inspect-error").hidden = true;
    } catch (ex) {
      if (serial !== inspect_serial)
        return;
      const box = $("inspect-error");
      box.textContent = "Inspect failed: " + error_text(ex);
      box.dataset.error = error_name(ex) || "Failed";
      box.hidden = false;
    }
  }

  function format_value(value) {
    if (Array.isArray(value))
      return value.map(v => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
    if (value && typeof value === "object")
      return Object.entries(value).map(([k, v]) => k + "=" + v).join(", ");
    return String(value);
  }

  function render_details() {
    const proxy = selected_path && containers[selected_path];
    if (!proxy)
      return;
    $("details-title").textContent = container_label(proxy);
    $("details").dataset.state = proxy.data.State || "";
    const list = $("details-properties");
    const items = [];
    for (const key of Object.keys(proxy.data).sort()) {
      let value = proxy.data[key];
      if (/At$/.test(key))
        value = format_time(value);
      else if (key === "Command")
        value = format_command(value);
      else
        value = format_value(value);
      items.push(el("dt", {}, key), el("dd", { "data-property": key }, value === "" ? "—" : value));
    }
    list.replaceChildren(...items);
    follow_log_timer(proxy);
  }

  /* New log lines come with no signal, so while the selected container runs
   * the log is read again every LOG_FOLLOW_MS; every PropertiesChanged and
   * ContainerEvent of it reads it too (the last lines before it stopped). */
  function follow_log_timer(proxy) {
    const running = RUNNING_STATES.includes(proxy.data.State);
    $("log-following").hidden = !running;
    if (running && !log.timer)
      log.timer = window.setInterval(read_log, LOG_FOLLOW_MS);
    else if (!running && log.timer) {
      window.clearInterval(log.timer);
      log.timer = null;
    }
  }

  async function read_log() {
    const path = log.path;
    if (!path)
      return;
    if (log.reading) {
      log.again = true;
      return;
    }
    log.reading = true;
    try {
      for (;;) {
        log.again = false;
        const [entries, next] = await container_call(path, "ReadLogs", [log.cursor, LOG_LINES_PER_READ],
                                                     { timeout: 60000 });
        if (log.path !== path)
          return;
        log.cursor = next;
        append_log(entries);
        $("log-error").hidden = true;
        if (entries.length < LOG_LINES_PER_READ && !log.again)
          break;
      }
    } catch (ex) {
      if (log.path === path) {
        const box = $("log-error");
        box.textContent = "Reading the log failed: " + error_text(ex);
        box.dataset.error = error_name(ex) || "Failed";
        box.hidden = false;
      }
    } finally {
      if (log.path === path)
        log.reading = false;
    }
  }

  function append_log(entries) {
    if (!entries.length)
      return;
    const pre = $("log");
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    const fragment = document.createDocumentFragment();
    for (const [, stream, line] of entries)
      fragment.append(el("span", { class: "log-" + stream }, line + "\n"));
    pre.append(fragment);
    log.lines += entries.length;
    while (log.lines > LOG_KEEP_LINES) {
      pre.firstChild.remove();
      log.lines--;
    }
    if (stick)
      pre.scrollTop = pre.scrollHeight;
  }

  /* ------------------------------------------------------------ create dialog */

  function image_reference(proxy) {
    return (proxy.data.Names && proxy.data.Names.length) ? proxy.data.Names[0] : proxy.data.Id;
  }

  function fill_images() {
    const select = $("create-image");
    const chosen = select.value;
    const options = [];
    for (const path of Object.keys(images)) {
      const proxy = images[path];
      if (!proxy.data.Id)
        continue;
      const ref = image_reference(proxy);
      options.push(el("option", { value: ref }, ref + ((proxy.data.Names || []).length ? "" : " (untagged)")));
    }
    options.sort((a, b) => a.value.localeCompare(b.value));
    select.replaceChildren(...options);
    if (options.some(o => o.value === chosen))
      select.value = chosen;
  }

  function open_create() {
    fill_images();
    $("create-name").value = "";
    $("create-command").value = "";
    $("create-error").hidden = true;
    set_create_busy(false);
    $("create-dialog").showModal();
  }

  function set_create_busy(on) {
    for (const id of ["create-run", "create-only", "create-image", "create-name", "create-command"])
      $(id).disabled = on;
  }

  function create_failed(what, ex) {
    const box = $("create-error");
    box.textContent = what + " failed: " + error_text(ex);
    box.dataset.error = error_name(ex) || "Failed";
    box.hidden = false;
  }

  async function submit_create(run) {
    const image = $("create-image").value;
    const name = $("create-name").value.trim();
    let argv;
    try {
      argv = split_words($("create-command").value);
    } catch (ex) {
      create_failed("Create", ex);
      return;
    }
    if (!image) {
      create_failed("Create", new Error("there is no image to create it from"));
      return;
    }
    set_create_busy(true);
    let path;
    try {
      [path] = await client.call(ROOT, MANAGER, "CreateContainer", [name, image, argv, {}], LONG_CALL);
    } catch (ex) {
      set_create_busy(false);
      create_failed("Create", ex);
      return;
    }
    $("create-dialog").close();
    if (!run)
      return;
    try {
      await container_call(path, "Start", []);
    } catch (ex) {
      /* like cockpit-podman: a container that never ran leaves its name free */
      show_alert("Start " + (name || "the new container"), ex);
      container_call(path, "Remove", [true, true]).catch(rm => show_alert("Remove " + (name || path), rm));
    }
  }

  /* ------------------------------------------------------------ start */

  function connect() {
    client = cockpit.dbus(NAME, { bus: "system", superuser: "try" });
    client.addEventListener("close", (ev, options) => {
      show_alert("The connection to containersd", { message: (options && options.problem) || "closed" });
    });
    /* the bridge reports the name's owner: null while containersd is not on the bus */
    client.addEventListener("owner", (ev, owner) => {
      $("service-missing").hidden = owner !== null;
      $("create-open").disabled = owner === null;
    });
    client.watch({ path_namespace: ROOT });

    containers = client.proxies(CONTAINER, ROOT);
    containers.addEventListener("added", (ev, proxy) => render_row(proxy));
    containers.addEventListener("changed", (ev, proxy) => {
      render_row(proxy);
      if (proxy.path === selected_path) {
        render_details();
        read_log();
      }
    });
    containers.addEventListener("removed", (ev, proxy) => remove_row(proxy.path));

    images = client.proxies(IMAGE, ROOT);
    const images_changed = () => {
      if ($("create-dialog").open)
        fill_images();
    };
    for (const event of ["added", "changed", "removed"])
      images.addEventListener(event, images_changed);

    client.subscribe({ interface: MANAGER, member: "ContainerEvent", path: ROOT }, (path, iface, signal, args) => {
      if (args && args[0] === selected_path) {
        read_log();
        if (args[2] !== "remove")
          read_inspect();
      }
    });

    Promise.all([containers.wait(), images.wait()]).then(() => {
      for (const path of Object.keys(containers))
        render_row(containers[path]);
      update_empty();
      $("containers").dataset.ready = "true";
      stats_tick();
      window.setInterval(stats_tick, STATS_MS);
    }).catch(ex => show_alert("Listing the containers", ex));
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("create-open").addEventListener("click", open_create);
    $("create-cancel").addEventListener("click", () => $("create-dialog").close());
    $("create-form").addEventListener("submit", ev => {
      ev.preventDefault();
      submit_create(ev.submitter && ev.submitter.value === "run");
    });
    $("details-close").addEventListener("click", () => select_container(null));
    $("filter").addEventListener("input", update_empty);
    for (const th of document.querySelectorAll("#containers th[data-sort]"))
      th.querySelector("button").addEventListener("click", () => sort_by(th.dataset.sort));
    connect();
    cockpit.transport.wait(() => document.body.dataset.transport = "ready");
  });
}());
