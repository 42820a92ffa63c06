/* The sample browser of report.html: every row of the tidy table, from samples.js beside the page.
   Filters take any number of values; the view (filters, search, range, sort, page) lives in the
   address, #samples?language=sw,yo&sort=desc:reward&page=2, so a link reopens it.
   Vanilla JS, no library, no network. Every text from the table is untrusted: it only ever reaches
   the page through textContent / new Option(), never through innerHTML. Rows are rendered a page
   at a time, so 40,000 samples cost one filter pass, not 40,000 DOM rows. */
(function () {
  "use strict";
  var PAGE = 50;
  /* the filters that take any number of values, in the order the address lists them */
  var FACETS = ["model", "language", "tier", "kind", "source", "scorer"];
  var DEBOUNCE_MS = 120;

  function $(id) { return document.getElementById(id); }

  /* el("td", {className: "x", dataset: {i: 3}}, ["text", node]): children strings become text nodes */
  function el(tag, props, kids) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "dataset") {
          Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = String(props.dataset[d]); });
        } else if (k === "text") {
          node.textContent = props.text;
        } else {
          node[k] = props[k];
        }
      });
    }
    (kids || []).forEach(function (kid) {
      if (kid === null || kid === undefined) return;
      node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    });
    return node;
  }

  function fmtScore(v) { return Math.abs(v) >= 1000 ? v.toExponential(2) : v.toFixed(3); }
  function fmtInt(n) { return n.toLocaleString("en-US"); }

  function Browser(D) {
    var self = this;
    this.D = D;
    var n = D.samples.length;
    this.n = n;
    var S = D.scorers.length;
    this.S = S;
    // columnar copies: typed arrays make a filter pass over 40,000 samples a few milliseconds
    this.dim = {};
    this.counts = {scorer: new Uint32Array(S)}; // samples per value, shown beside each filter value
    D.dims.forEach(function (d, j) {
      var a = new Uint32Array(n), counts = new Uint32Array(D.values[d].length);
      for (var i = 0; i < n; i++) counts[a[i] = D.samples[i][j]]++;
      self.dim[d] = a;
      self.counts[d] = counts;
    });
    this.score = [];
    this.hasRow = [];
    for (var s = 0; s < S; s++) {
      var sc = new Float64Array(n), has = new Uint8Array(n), rows = 0;
      for (var i = 0; i < n; i++) {
        var v = D.samples[i][9][s];
        sc[i] = typeof v === "number" ? v : NaN;
        rows += has[i] = v === null ? 0 : 1;
      }
      this.score.push(sc);
      this.hasRow.push(has);
      this.counts.scorer[s] = rows;
    }
    this.lower = new Array(D.texts.length); // lower-cased texts, built on the first search
    // parallel prompts: (source, kind, prompt_id) -> sample indexes
    this.parallel = new Map();
    for (var k = 0; k < n; k++) {
      var smp = D.samples[k];
      var key = smp[1] + "\u0000" + smp[2] + "\u0000" + smp[5];
      var list = this.parallel.get(key);
      if (list) list.push(k); else this.parallel.set(key, [k]);
    }
    this.matches = [];
    this.page = 0;
    this.timer = 0;
    this.applied = 0;
    this.facets = {};
    this.tracking = false; // the address follows the view once the user changes it or opens a #samples? link
    this.written = null;
    this.syncPending = false;
    this.restoredPage = 0;
  }

  Browser.prototype.value = function (dim, i) { return this.D.values[dim][this.dim[dim][i]]; };
  Browser.prototype.text = function (t) { return t >= 0 ? this.D.texts[t] : ""; };
  Browser.prototype.lowerText = function (t) {
    var v = this.lower[t];
    if (v === undefined) v = this.lower[t] = this.D.texts[t].toLowerCase();
    return v;
  };

  /* the values a facet (a filter that takes any number of values) offers: a dimension's, or the scorers */
  Browser.prototype.facetValues = function (name) {
    return name === "scorer" ? this.D.scorers : this.D.values[name];
  };

  Browser.prototype.setupFacet = function (name) {
    var self = this, box = $("sb-" + name), values = this.facetValues(name);
    if (!box || !values) return;
    var counts = this.counts[name];
    var order = values.map(function (_, v) { return v; });
    if (name !== "scorer") order.sort(function (a, b) { return values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0; });
    var opts = box.querySelector(".sb-opts"), inputs = new Array(values.length), index = new Map();
    order.forEach(function (v) {
      var input = el("input", {type: "checkbox", value: String(v), dataset: {value: values[v]}});
      inputs[v] = input;
      index.set(values[v], v);
      opts.appendChild(el("label", null, [input, el("span", {text: values[v] === "" ? "(none)" : values[v]}),
        el("small", {text: fmtInt(counts[v]), title: "samples"})]));
    });
    var facet = {name: name, box: box, values: values, inputs: inputs, index: index,
      summary: box.querySelector("summary"), label: box.querySelector(".sb-n"), clear: box.querySelector(".sb-clear")};
    this.facets[name] = facet;
    opts.addEventListener("change", function () { self.changed(); });
    facet.clear.addEventListener("click", function () {
      inputs.forEach(function (x) { x.checked = false; });
      self.changed();
    });
    // one dropdown open at a time; Escape closes it and gives the focus back to its summary
    box.addEventListener("toggle", function () {
      if (!box.open) return;
      Object.keys(self.facets).forEach(function (k) { if (self.facets[k].box !== box) self.facets[k].box.open = false; });
    });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && box.open) { box.open = false; facet.summary.focus(); }
    });
    box.addEventListener("focusout", function (ev) {  // tabbing past the last value closes the dropdown
      if (box.open && ev.relatedTarget && !box.contains(ev.relatedTarget)) box.open = false;
    });
  };

  Browser.prototype.chosen = function (name) {
    var facet = this.facets[name], out = [];
    if (facet) facet.inputs.forEach(function (x, v) { if (x.checked) out.push(v); });
    return out;
  };

  /* the summary of each facet says how many values are chosen: "all", the one value, or "2 of 33" */
  Browser.prototype.label = function () {
    var self = this;
    Object.keys(this.facets).forEach(function (name) {
      var facet = self.facets[name], on = self.chosen(name), text;
      if (!on.length) text = "all";
      else if (on.length === 1) text = facet.values[on[0]] === "" ? "(none)" : facet.values[on[0]];
      else text = on.length + " of " + facet.values.length;
      facet.label.textContent = text;
      facet.summary.setAttribute("aria-label", name + ": " + text);
      facet.summary.title = on.map(function (v) { return facet.values[v]; }).join(", ");
      facet.box.classList.toggle("on", on.length > 0);
      facet.clear.disabled = on.length === 0;
    });
  };

  Browser.prototype.setup = function () {
    var self = this, D = this.D;
    this.facets = {};
    FACETS.forEach(function (name) { self.setupFacet(name); });
    document.addEventListener("click", function (ev) {
      Object.keys(self.facets).forEach(function (k) {
        var box = self.facets[k].box;
        if (box.open && !box.contains(ev.target)) box.open = false;
      });
    });
    var sort = $("sb-sort");
    sort.appendChild(new Option("table order", ""));
    D.scorers.forEach(function (s, i) {
      sort.appendChild(new Option(s + ": lowest first", "asc:" + i));
      sort.appendChild(new Option(s + ": highest first", "desc:" + i));
    });
    var head = $("sb-head");
    head.appendChild(el("tr", null, [
      el("th", {text: "sample"}), el("th", {text: "prompt"}), el("th", {text: "response"})
    ].concat(D.scorers.map(function (s) { return el("th", {className: "num", text: s}); }), [el("th")])));
    sort.addEventListener("change", function () { self.changed(); });
    ["sb-q", "sb-min", "sb-max"].forEach(function (id) {
      $(id).addEventListener("input", function () {
        clearTimeout(self.timer);
        self.timer = setTimeout(function () { self.changed(); }, DEBOUNCE_MS);
      });
    });
    $("sb-reset").addEventListener("click", function () {
      self.clearView();
      self.changed();
    });
    $("sb-link").addEventListener("click", function () { self.copyLink(); });
    $("sb-prev").addEventListener("click", function () { self.tracking = true; self.show(self.page - 1); });
    $("sb-next").addEventListener("click", function () { self.tracking = true; self.show(self.page + 1); });
    $("sb-rows").addEventListener("click", function (ev) {
      var button = ev.target.closest("button.sb-cmp");
      if (button) { self.compare(Number(button.dataset.i)); return; }
      var txt = ev.target.closest(".txt");
      if (txt) txt.classList.toggle("open");
    });
    $("sb-compare").addEventListener("click", function (ev) {
      if (ev.target.closest(".sb-close")) { $("sb-compare").hidden = true; return; }
      var txt = ev.target.closest(".txt");
      if (txt) txt.classList.toggle("open");
    });
    // a link pasted into this tab (or an edited address) opens its view; other anchors are left alone
    window.addEventListener("hashchange", function () {
      if (location.hash !== self.written && self.restore(location.hash)) self.apply(self.restoredPage);
    });
    $("sb").hidden = false;
  };

  Browser.prototype.clearView = function () {
    var self = this;
    Object.keys(this.facets).forEach(function (k) { self.facets[k].inputs.forEach(function (x) { x.checked = false; }); });
    ["sb-q", "sb-min", "sb-max", "sb-sort"].forEach(function (id) { $(id).value = ""; });
  };

  /* a change made by the user: from now on the address follows the view */
  Browser.prototype.changed = function () {
    clearTimeout(this.timer);
    this.tracking = true;
    this.apply(0);
  };

  /* ---- the view in the address: #samples?model=a,b&language=sw&q=foo&min=-3&sort=desc:reward&page=2 ----
     values are the data's own names, each URL-encoded; pages count from 1 */
  Browser.prototype.hash = function () {
    var self = this, parts = [];
    FACETS.forEach(function (name) {
      var facet = self.facets[name], on = self.chosen(name);
      if (facet && on.length) parts.push(name + "=" + on.map(function (v) { return encodeURIComponent(facet.values[v]); }).join(","));
    });
    var q = $("sb-q").value;
    if (q.trim()) parts.push("q=" + encodeURIComponent(q));
    ["min", "max"].forEach(function (k) {
      var v = $("sb-" + k).value;
      if (v !== "" && isFinite(Number(v))) parts.push(k + "=" + encodeURIComponent(v));
    });
    var sort = $("sb-sort").value;
    if (sort) {
      var p = sort.split(":");
      parts.push("sort=" + p[0] + ":" + encodeURIComponent(this.D.scorers[Number(p[1])]));
    }
    if (this.page > 0) parts.push("page=" + (this.page + 1));
    return "#samples" + (parts.length ? "?" + parts.join("&") : "");
  };

  function decode(text) {
    try { return decodeURIComponent(text); } catch (e) { return null; }
  }

  /* set the controls from a #samples?... address; false (nothing touched) for any other address.
     Keys, values, numbers and pages it does not know are ignored, never an error. */
  Browser.prototype.restore = function (hash) {
    if (typeof hash !== "string" || hash.indexOf("#samples?") !== 0) return false;
    var self = this, params = new Map();
    hash.slice("#samples?".length).split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1));
    });
    this.clearView();
    Object.keys(this.facets).forEach(function (name) {
      var facet = self.facets[name], raw = params.get(name);
      if (raw === undefined) return;
      raw.split(",").forEach(function (item) {
        var v = facet.index.get(decode(item));
        if (v !== undefined) facet.inputs[v].checked = true;
      });
    });
    var q = params.has("q") ? decode(params.get("q")) : null;
    if (q !== null) $("sb-q").value = q;
    ["min", "max"].forEach(function (k) {
      var v = params.has(k) ? decode(params.get(k)) : null;
      if (v !== null && v.trim() !== "" && isFinite(Number(v))) $("sb-" + k).value = String(Number(v));
    });
    var sort = params.has("sort") ? decode(params.get("sort")) : null;
    if (sort !== null) {
      var colon = sort.indexOf(":"), dir = sort.slice(0, colon), name = sort.slice(colon + 1);
      var s = this.D.scorers.indexOf(name);
      if (s < 0 && /^\d+$/.test(name) && Number(name) < this.S) s = Number(name);
      if (colon > 0 && (dir === "asc" || dir === "desc") && s >= 0) $("sb-sort").value = dir + ":" + s;
    }
    var page = params.get("page");
    this.restoredPage = page !== undefined && /^\d{1,9}$/.test(page) && Number(page) > 0 ? Number(page) - 1 : 0;
    this.tracking = true;
    return true;
  };

  /* after the frame that shows the rows: replaceState makes Chromium lay the page out at once, which
     would add the layout of 50 new rows (~10 ms at 40,000 samples) to the time before the frame */
  Browser.prototype.syncSoon = function () {
    if (!this.tracking || this.syncPending) return;
    var self = this, count = $("sb-count");
    this.syncPending = true;
    count.dataset.hashPending = "1";
    requestAnimationFrame(function () {
      setTimeout(function () {
        self.syncPending = false;
        delete count.dataset.hashPending;
        self.sync();
      }, 0);
    });
  };

  /* write the view into the address without a history entry per change */
  Browser.prototype.sync = function () {
    if (!this.tracking) return;
    var h = this.hash();
    this.written = h;
    if (h === location.hash) return;
    try { history.replaceState(history.state, "", h); } catch (e) { /* e.g. a sandboxed frame: the view still works */ }
  };

  function copyFallback(text) {
    var area = el("textarea", {value: text, readOnly: true});
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  Browser.prototype.copyLink = function () {
    this.tracking = true;
    this.sync();
    var url = location.href.split("#")[0] + this.hash(), msg = $("sb-linkmsg"), box = $("sb-linkurl");
    box.value = url;
    var done = function (ok) {
      msg.textContent = ok ? "link copied" : "copy the link:";
      msg.dataset.copied = ok ? "1" : "0";
      box.hidden = !!ok;
      if (!ok) { box.focus(); box.select(); }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () { done(true); }, function () { done(copyFallback(url)); });
    } else {
      done(copyFallback(url));
    }
  };

  Browser.prototype.filters = function () {
    var f = {dims: []}, self = this;
    this.D.dims.forEach(function (d) {
      var on = self.chosen(d);
      if (!on.length) return;
      // membership table: value index -> 1 when chosen; a row matches when its value is any chosen one
      var member = new Uint8Array(self.D.values[d].length);
      on.forEach(function (v) { member[v] = 1; });
      f.dims.push([self.dim[d], member]);
    });
    var scorers = this.chosen("scorer");
    f.anyScorer = scorers.length === 0;
    f.scorers = f.anyScorer ? this.D.scorers.map(function (_, s) { return s; }) : scorers;
    var lo = $("sb-min").value, hi = $("sb-max").value;
    f.lo = lo === "" || isNaN(Number(lo)) ? -Infinity : Number(lo);
    f.hi = hi === "" || isNaN(Number(hi)) ? Infinity : Number(hi);
    f.ranged = f.lo !== -Infinity || f.hi !== Infinity;
    f.q = $("sb-q").value.trim().toLowerCase();
    f.sort = $("sb-sort").value;
    return f;
  };

  Browser.prototype.searchHit = function (i, q) {
    var smp = this.D.samples[i];
    if (smp[5].toLowerCase().indexOf(q) >= 0) return true;
    if (this.lowerText(smp[6]).indexOf(q) >= 0 || this.lowerText(smp[7]).indexOf(q) >= 0) return true;
    var tr = smp[10];
    if (tr) {
      for (var j = 0; j < tr.length; j++) if (tr[j] >= 0 && this.lowerText(tr[j]).indexOf(q) >= 0) return true;
    }
    return false;
  };

  /* a row from any chosen scorer (any scorer when none is chosen), with its score in the range if one is set */
  Browser.prototype.inRange = function (i, f) {
    if (f.anyScorer && !f.ranged) return true;
    for (var k = 0; k < f.scorers.length; k++) {
      var s = f.scorers[k];
      if (!this.hasRow[s][i]) continue;
      if (!f.ranged) return true;
      var v = this.score[s][i];
      if (v >= f.lo && v <= f.hi) return true;
    }
    return false;
  };

  Browser.prototype.apply = function (page) {
    var t0 = performance.now();
    var f = this.filters(), out = [], dims = f.dims, nd = dims.length;
    outer: for (var i = 0; i < this.n; i++) {
      for (var d = 0; d < nd; d++) if (!dims[d][1][dims[d][0][i]]) continue outer;
      if (!this.inRange(i, f)) continue;
      if (f.q && !this.searchHit(i, f.q)) continue;
      out.push(i);
    }
    if (f.sort) {
      var parts = f.sort.split(":"), col = this.score[Number(parts[1])], sign = parts[0] === "desc" ? -1 : 1;
      out.sort(function (a, b) {
        var x = col[a], y = col[b], xn = x !== x, yn = y !== y; // missing scores go last
        if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;
        return x === y ? a - b : (x - y) * sign;
      });
    }
    this.matches = out;
    var t1 = performance.now();
    this.label();
    this.show(page || 0);
    $("sb-count").dataset.filterMs = (t1 - t0).toFixed(1);
    var count = $("sb-count"), applied = ++this.applied;
    count.dataset.ms = (performance.now() - t0).toFixed(1);
    count.dataset.applied = String(applied);
    // until the frame that shows the result has been drawn: style, layout and paint included
    requestAnimationFrame(function () {
      setTimeout(function () {
        count.dataset.paintMs = (performance.now() - t0).toFixed(1);
        count.dataset.painted = String(applied);
      }, 0);
    });
  };

  Browser.prototype.show = function (page) {
    var total = this.matches.length, pages = Math.max(1, Math.ceil(total / PAGE));
    this.page = Math.min(Math.max(0, page), pages - 1);
    var start = this.page * PAGE, end = Math.min(total, start + PAGE);
    var body = $("sb-rows"), frag = document.createDocumentFragment();
    for (var k = start; k < end; k++) frag.appendChild(this.row(this.matches[k]));
    body.replaceChildren(frag);
    var count = $("sb-count");
    count.dataset.matches = String(total);
    count.textContent = total
      ? "Samples " + fmtInt(start + 1) + "\u2013" + fmtInt(end) + " of " + fmtInt(total) + " matching (" +
        fmtInt(this.n) + " samples, " + fmtInt(this.D.rows) + " table rows in all)"
      : "No sample matches these filters (" + fmtInt(this.n) + " samples in all).";
    $("sb-page").textContent = "page " + (this.page + 1) + " of " + pages;
    $("sb-prev").disabled = this.page === 0;
    $("sb-next").disabled = this.page >= pages - 1;
    this.syncSoon();
  };

  Browser.prototype.scoreCell = function (i, s) {
    var v = this.D.samples[i][9][s];
    if (typeof v === "number") return el("td", {className: "num", text: fmtScore(v)});
    if (v === null) return el("td", {className: "num none", text: "\u2013", title: "no row from this scorer"});
    return el("td", {className: "num missing", title: v}, [el("span", {text: "missing"}), el("small", {text: v})]);
  };

  Browser.prototype.englishParallel = function (i) {
    var smp = this.D.samples[i];
    if (this.value("language", i) === "en") return null;
    var list = this.parallel.get(smp[1] + "\u0000" + smp[2] + "\u0000" + smp[5]) || [];
    for (var k = 0; k < list.length; k++) {
      if (this.value("language", list[k]) === "en") return this.D.samples[list[k]][6];
    }
    return null;
  };

  Browser.prototype.textBlock = function (label, t, cls) {
    return el("div", {className: "tr " + (cls || "")}, [el("span", {className: "lbl", text: label}),
      el("div", {className: "txt", text: this.text(t)})]);
  };

  Browser.prototype.promptCell = function (i) {
    var smp = this.D.samples[i], kids = [el("div", {className: "txt", text: this.text(smp[6])})];
    var en = this.englishParallel(i);
    if (smp[10] && smp[10][0] >= 0) kids.push(this.textBlock("translation", smp[10][0]));
    else if (en !== null) kids.push(this.textBlock("English prompt, same id", en));
    return el("td", {className: "prompt"}, kids);
  };

  Browser.prototype.responseCell = function (i) {
    var smp = this.D.samples[i], kids = [el("div", {className: "txt", text: this.text(smp[7])})];
    if (smp[10] && smp[10][1] >= 0) kids.push(this.textBlock("translation", smp[10][1]));
    return el("td", {className: "response"}, kids);
  };

  Browser.prototype.row = function (i) {
    var smp = this.D.samples[i], badges = [];
    if (smp[8] & 1) badges.push(el("span", {className: "badge", text: "machine-translated"}));
    if (smp[8] & 2) badges.push(el("span", {className: "badge", text: "truncated"}));
    var meta = el("td", {className: "meta"}, [
      el("strong", {text: this.value("model", i)}),
      el("div", {text: this.value("language", i) + " \u00b7 " + this.value("tier", i)}),
      el("div", {text: this.value("kind", i) + " \u00b7 " + this.value("source", i)}),
      el("div", {className: "pid", text: "id " + smp[5]})
    ].concat(badges));
    var cells = [meta, this.promptCell(i), this.responseCell(i)];
    for (var s = 0; s < this.S; s++) cells.push(this.scoreCell(i, s));
    cells.push(el("td", null, [el("button", {className: "sb-cmp", type: "button", text: "side by side",
      title: "this prompt across variants and languages", dataset: {i: i}})]));
    return el("tr", {className: "sb-row", dataset: {i: i}}, cells);
  };

  Browser.prototype.compare = function (i) {
    var self = this, D = this.D, smp = D.samples[i];
    var group = this.parallel.get(smp[1] + "\u0000" + smp[2] + "\u0000" + smp[5]) || [i];
    var lang = this.dim.language[i], model = this.dim.model[i];
    var panel = $("sb-compare");
    var scorerHeads = D.scorers.map(function (s) { return el("th", {className: "num", text: s}); });
    // across variants: every model, this language
    var byModel = new Map();
    group.forEach(function (k) { if (self.dim.language[k] === lang && !byModel.has(self.dim.model[k])) byModel.set(self.dim.model[k], k); });
    var models = D.values.model.map(function (_, m) { return m; });
    var vhead = el("tr", null, [el("th", {text: "variant"})].concat(models.map(function (m) {
      return el("th", {text: D.values.model[m], dataset: {model: D.values.model[m]}});
    })));
    var vresp = el("tr", null, [el("th", {text: "response"})].concat(models.map(function (m) {
      var k = byModel.get(m);
      return k === undefined ? el("td", {className: "none", text: "no row"})
        : el("td", {className: "response", dataset: {model: D.values.model[m]}}, [el("div", {className: "txt", text: self.text(D.samples[k][7])})]);
    })));
    var vscores = D.scorers.map(function (s, si) {
      return el("tr", null, [el("th", {text: s})].concat(models.map(function (m) {
        var k = byModel.get(m);
        return k === undefined ? el("td", {className: "none", text: "\u2013"}) : self.scoreCell(k, si);
      })));
    });
    var kids = [
      el("div", {className: "sb-cmp-head"}, [
        el("h3", {text: "Side by side: " + self.value("source", i) + " \u00b7 " + self.value("kind", i) +
          " \u00b7 id " + smp[5]}),
        el("button", {className: "sb-close", type: "button", text: "close"})
      ]),
      el("h4", {text: "Across variants, in " + self.value("language", i) + " (" + self.value("tier", i) + ")"}),
      el("div", {className: "tr"}, [el("span", {className: "lbl", text: "prompt"}), el("div", {className: "txt", text: self.text(smp[6])})]),
      el("table", {className: "sb-variants"}, [el("thead", null, [vhead]), el("tbody", null, [vresp].concat(vscores))])
    ];
    // across languages: parallel prompts (same id), this model
    var sameModel = group.filter(function (k) { return self.dim.model[k] === model; });
    var langs = new Set(sameModel.map(function (k) { return self.dim.language[k]; }));
    if (langs.size > 1) {
      sameModel.sort(function (a, b) {
        var ta = self.value("tier", a), tb = self.value("tier", b), la = self.value("language", a), lb = self.value("language", b);
        return ta < tb ? -1 : ta > tb ? 1 : la < lb ? -1 : la > lb ? 1 : a - b;
      });
      // the variant shown across languages can be switched: the panel is rebuilt around its sample
      var pick = el("select", {className: "sb-lang-model", title: "variant shown across languages"});
      byModel.forEach(function (k, m) { pick.appendChild(new Option(D.values.model[m], String(k))); });
      pick.value = String(i);
      pick.addEventListener("change", function () { self.compare(Number(pick.value)); });
      kids.push(el("h4", null, ["Across languages (" + langs.size + " languages, parallel prompts), variant ", pick]));
      kids.push(el("table", {className: "sb-langs"}, [
        el("thead", null, [el("tr", null, [el("th", {text: "language"}), el("th", {text: "prompt"}), el("th", {text: "response"})].concat(scorerHeads))]),
        el("tbody", null, sameModel.map(function (k) {
          var cells = [el("td", {className: "meta", text: self.value("language", k) + " \u00b7 " + self.value("tier", k)}),
            el("td", {className: "prompt"}, [el("div", {className: "txt", text: self.text(D.samples[k][6])})]),
            el("td", {className: "response"}, [el("div", {className: "txt", text: self.text(D.samples[k][7])})])];
          for (var s = 0; s < self.S; s++) cells.push(self.scoreCell(k, s));
          return el("tr", {dataset: {language: self.value("language", k)}}, cells);
        }))
      ]));
    }
    panel.replaceChildren.apply(panel, kids);
    panel.hidden = false;
    panel.style.scrollMarginTop = ($("sb-controls").offsetHeight + 8) + "px";
    panel.scrollIntoView({block: "start"});
  };

  function start() {
    var D = window.HARNESS_SAMPLES;
    if (!D || !D.samples) {
      $("sb-status").textContent = "The sample browser needs samples.js beside report.html; it was not found.";
      return;
    }
    var t0 = performance.now();
    var b = new Browser(D);
    b.setup();
    var restored = b.restore(location.hash);
    b.apply(b.restoredPage);
    if (restored) $("samples").scrollIntoView({block: "start"});
    window.harnessSampleBrowser = b;
    $("sb-status").textContent = "";
    document.body.dataset.samplesReady = (performance.now() - t0).toFixed(1);
    performance.mark("samples-ready");
    requestAnimationFrame(function () { setTimeout(function () { performance.mark("samples-painted"); }, 0); });
  }

  function load() {
    var script = document.createElement("script");
    script.src = "samples.js";
    script.charset = "utf-8";
    script.onload = start;
    script.onerror = start;
    document.body.appendChild(script);
  }

  // load the rows after the first paint: the verdict shows at once, whatever the size of the run
  document.addEventListener("DOMContentLoaded", function () {
    requestAnimationFrame(function () { setTimeout(load, 0); });
  });
})();
