/* The composer: progressive help around a plain textarea (which works alone without this file).
   Adds a formatting toolbar, a Write/Preview pair rendered by the server's own sanitiser, a draft
   saved as you type (server-side, restored after a reload), "@" suggestions of people the reader
   may be mentioned to, and images: a picker of my media, and upload by button, paste or drop,
   each image described (alt text) before it is inserted.

   Every word shown comes from the template (data-strings); nothing from the server is written
   as HTML except the preview, which is the sanitiser's output, exactly what the page will show. */
(function () {
  "use strict";
  if (!window.fetch || !window.JSON || !document.querySelector) { return; }

  var uploads = 0;  // numbers placeholders across every composer of the page

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function button(label, cls, text) {
    var b = el("button", cls || "button-small button-secondary", text === undefined ? label : text);
    b.type = "button";  // never submits the surrounding form
    if (text !== undefined) { b.setAttribute("aria-label", label); b.title = label; }
    return b;
  }

  function setup(root) {
    var box = root.querySelector("textarea");
    if (!box) { return; }
    var strings = {};
    try { strings = JSON.parse(root.getAttribute("data-strings") || "{}"); } catch (e) { strings = {}; }
    var csrf = root.getAttribute("data-csrf");
    var place = root.getAttribute("data-place");
    var group = root.getAttribute("data-group");
    var form = box.form;
    var cid = "composer-" + (box.id || Math.random().toString(36).slice(2));
    var field = box.parentNode;

    function t(key, a, b) {
      var text = strings[key] || key;
      return text.replace("%(n)s", a).replace("%(a)s", a).replace("%(b)s", b);
    }

    function call(method, url, payload, extra) {
      var options = { method: method, credentials: "same-origin",
                      headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
      if (payload !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(payload);
      }
      if (extra && extra.keepalive) { options.keepalive = true; }
      return fetch(url, options);
    }

    /* --- status line: draft notices, uploads, and a polite live region -------------------- */
    var status = el("div", "composer-status");
    var notice = el("p", "composer-notice");
    notice.setAttribute("role", "status");
    var savedNote = el("span", "composer-saved small");
    var uploadList = el("ul", "composer-uploads");
    uploadList.hidden = true;
    var announcer = el("div", "visually-hidden");
    announcer.setAttribute("role", "status");
    announcer.setAttribute("aria-live", "polite");
    status.appendChild(notice);
    status.appendChild(savedNote);
    status.appendChild(uploadList);
    status.appendChild(announcer);
    box.parentNode.insertBefore(status, box.nextSibling);

    function announce(text) {
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = text; }, 50);
    }

    function say(text, actions) {
      notice.textContent = text || "";
      (actions || []).forEach(function (action) {
        var b = button(action.label, "link-button");
        b.addEventListener("click", action.run);
        notice.appendChild(document.createTextNode(" · "));
        notice.appendChild(b);
      });
    }

    /* --- editing the text --------------------------------------------------------------- */
    function changed() {
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function replaceRange(start, end, text, selectFrom, selectTo) {
      var expected = box.value.slice(0, start) + text + box.value.slice(end);
      box.focus();
      box.setSelectionRange(start, end);
      try {  // execCommand keeps the undo history and fires "input" itself
        document.execCommand(text ? "insertText" : "delete", false, text);
      } catch (e) { /* not supported: set the value below */ }
      if (box.value !== expected) {
        box.value = expected;
        changed();
      }
      box.setSelectionRange(start + (selectFrom === undefined ? text.length : selectFrom),
                            start + (selectTo === undefined ? text.length : selectTo));
    }

    function wrap(mark, sample) {
      var start = box.selectionStart, end = box.selectionEnd, value = box.value;
      var chosen = value.slice(start, end);
      var n = mark.length;
      if (value.slice(start - n, start) === mark && value.slice(end, end + n) === mark) {
        replaceRange(start - n, end + n, chosen, 0, chosen.length);  // already marked: unmark
        return;
      }
      var inner = chosen || sample;
      replaceRange(start, end, mark + inner + mark, n, n + inner.length);
    }

    function prefixLines(prefix, sample) {
      var value = box.value, start = box.selectionStart, end = box.selectionEnd;
      if (end > start && value.charAt(end - 1) === "\n") { end -= 1; }
      var lineStart = value.lastIndexOf("\n", start - 1) + 1;
      var lineEnd = value.indexOf("\n", end);
      if (lineEnd < 0) { lineEnd = value.length; }
      var lines = value.slice(lineStart, lineEnd).split("\n");
      var all = lines.every(function (line) { return line.indexOf(prefix) === 0; });
      var text;
      if (all && lines.join("") !== "") {
        text = lines.map(function (line) { return line.slice(prefix.length); }).join("\n");
        replaceRange(lineStart, lineEnd, text, 0, text.length);
        return;
      }
      if (lines.length === 1 && lines[0] === "") {
        lines = [sample];
      }
      text = lines.map(function (line) { return prefix + line; }).join("\n");
      // Markdown needs a blank line between a paragraph and the list or quote that follows it.
      var before = value.slice(0, lineStart);
      var lead = before && !/\n\s*\n$/.test(before) && before.split("\n").slice(-2, -1)[0].indexOf(prefix) !== 0 ? "\n" : "";
      replaceRange(lineStart, lineEnd, lead + text, lead.length + prefix.length, lead.length + text.length);
    }

    function link() {
      var start = box.selectionStart, end = box.selectionEnd;
      var chosen = box.value.slice(start, end);
      if (/^https?:\/\/\S+$/.test(chosen)) {
        var label = t("linkSample");
        replaceRange(start, end, "[" + label + "](" + chosen + ")", 1, 1 + label.length);
        return;
      }
      var inner = chosen || t("linkSample");
      var text = "[" + inner + "](https://)";
      replaceRange(start, end, text, inner.length + 3, text.length - 1);  // the address is selected
    }

    function insertBlock(text) {
      var start = box.selectionStart, end = box.selectionEnd, value = box.value;
      var lead = start > 0 && value.charAt(start - 1) !== "\n" ? "\n" : "";
      var tail = value.charAt(end) === "\n" ? "" : "\n";
      replaceRange(start, end, lead + text + tail);
    }

    /* --- toolbar and Write / Preview ---------------------------------------------------- */
    var toolbarWanted = root.getAttribute("data-toolbar") !== "0";
    var previewPanel = null, writeTab = null, previewTab = null, tools = null;
    var mediaButton = null;

    if (toolbarWanted) {
      var bar = el("div", "composer-bar");
      var tabs = el("div", "composer-tabs");
      tabs.setAttribute("role", "tablist");
      tabs.setAttribute("aria-label", t("tabs"));
      writeTab = button(t("write"), "composer-tab");
      previewTab = button(t("preview"), "composer-tab");
      writeTab.id = cid + "-write";
      previewTab.id = cid + "-preview-tab";
      [writeTab, previewTab].forEach(function (tab, i) {
        tab.setAttribute("role", "tab");
        tab.setAttribute("aria-selected", i === 0 ? "true" : "false");
        tab.tabIndex = i === 0 ? 0 : -1;
        tabs.appendChild(tab);
      });
      writeTab.setAttribute("aria-controls", box.id);
      previewTab.setAttribute("aria-controls", cid + "-preview");

      tools = el("div", "composer-tools");
      tools.setAttribute("role", "toolbar");
      tools.setAttribute("aria-label", t("toolbar"));
      if (box.id) { tools.setAttribute("aria-controls", box.id); }
      var actions = [
        ["bold", "B", function () { wrap("**", t("boldSample")); }],
        ["italic", "I", function () { wrap("*", t("italicSample")); }],
        ["list", "•", function () { prefixLines("- ", t("listSample")); }],
        ["quote", "❝", function () { prefixLines("> ", t("quoteSample")); }],
        ["link", "🔗", link],
        ["image", "▣", function () { openMedia(); }]
      ];
      actions.forEach(function (action) {
        var b = button(t(action[0]), "composer-tool composer-" + action[0], action[1]);
        b.setAttribute("data-action", action[0]);
        b.addEventListener("click", action[2]);
        tools.appendChild(b);
        if (action[0] === "image") { mediaButton = b; }
      });
      bar.appendChild(tabs);
      bar.appendChild(tools);
      box.parentNode.insertBefore(bar, box);

      previewPanel = el("div", "composer-preview");
      previewPanel.id = cid + "-preview";
      previewPanel.setAttribute("role", "tabpanel");
      previewPanel.setAttribute("aria-labelledby", previewTab.id);
      previewPanel.tabIndex = 0;
      previewPanel.hidden = true;
      var previewWarnings = el("div", "composer-warnings");
      previewWarnings.hidden = true;
      var previewBody = el("div", "prose composer-preview-body");
      previewPanel.appendChild(previewWarnings);
      previewPanel.appendChild(previewBody);
      box.parentNode.insertBefore(previewPanel, box.nextSibling);

      var previewTimer = null, previewed = null;
      var showPreview = function (on) {
        writeTab.setAttribute("aria-selected", on ? "false" : "true");
        previewTab.setAttribute("aria-selected", on ? "true" : "false");
        writeTab.tabIndex = on ? -1 : 0;
        previewTab.tabIndex = on ? 0 : -1;
        box.hidden = on;
        previewPanel.hidden = !on;
        tools.hidden = on;
        if (on) {
          window.clearTimeout(previewTimer);
          previewTimer = window.setTimeout(renderPreview, 150);  // several clicks: one request
        }
      };
      var renderPreview = function () {
        var body = box.value;
        if (body === previewed) { return; }
        if (!body.trim()) {
          previewed = body;
          previewBody.textContent = t("emptyPreview");
          previewWarnings.hidden = true;
          return;
        }
        previewBody.textContent = t("loadingPreview");
        previewPanel.setAttribute("aria-busy", "true");
        call("POST", root.getAttribute("data-preview-url"), { body: body })
          .then(function (r) { if (!r.ok) { throw new Error("preview " + r.status); } return r.json(); })
          .then(function (data) {
            if (box.value !== body) { return; }
            previewed = body;
            // The server's sanitiser output: the same HTML the page shows once posted.
            previewBody.innerHTML = data.html || "";
          })
          .catch(function () { previewed = null; previewBody.textContent = t("previewFailed"); })
          .then(function () { previewPanel.removeAttribute("aria-busy"); });
        checkWarnings(body);
      };
      var checkWarnings = function (body) {
        var url = root.getAttribute("data-check-url");
        if (!url) { return; }
        var payload = { body: body, place: place };
        var title = form && form.querySelector("input[name=title]");
        if (title) { payload.title = title.value; }
        call("POST", url, payload)
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            previewWarnings.textContent = "";
            var warnings = data && data.warnings ? data.warnings : [];
            previewWarnings.hidden = warnings.length === 0;
            if (!warnings.length || box.value !== body) { return; }
            previewWarnings.appendChild(el("p", "composer-warnings-title", t("warnings")));
            var list = el("ul");
            warnings.forEach(function (w) { list.appendChild(el("li", null, w.message)); });
            previewWarnings.appendChild(list);
            if (data.guidelines_url && data.guidelines_url.charAt(0) === "/" && data.guidelines_url.charAt(1) !== "/") {
              var a = el("a", null, t("guidelines"));
              a.href = data.guidelines_url;
              previewWarnings.appendChild(a);
            }
          })
          .catch(function () { previewWarnings.hidden = true; });
      };
      writeTab.addEventListener("click", function () { showPreview(false); box.focus(); });
      previewTab.addEventListener("click", function () { showPreview(true); });
      tabs.addEventListener("keydown", function (event) {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") { return; }
        event.preventDefault();
        var toPreview = document.activeElement === writeTab;
        showPreview(toPreview);
        (toPreview ? previewTab : writeTab).focus();
      });
      if (form) { form.addEventListener("submit", function () { if (box.hidden) { showPreview(false); } }); }
    }

    box.addEventListener("keydown", function (event) {
      if (!toolbarWanted || !(event.ctrlKey || event.metaKey) || event.altKey || mentionsOpen()) { return; }
      var key = event.key.toLowerCase();
      if (key === "b") { event.preventDefault(); wrap("**", t("boldSample")); }
      else if (key === "i") { event.preventDefault(); wrap("*", t("italicSample")); }
    });

    /* --- drafts saved as you type ------------------------------------------------------- */
    var draftsUrl = root.getAttribute("data-drafts-url");
    var lastSaved = box.value, saveTimer = null, draftsOn = !!draftsUrl, typed = false;

    function saveDraft(keepalive) {
      window.clearTimeout(saveTimer);
      var body = box.value;
      if (!draftsOn || body === lastSaved) { return; }
      call("PUT", draftsUrl, { body: body }, { keepalive: keepalive })
        .then(function (r) {
          if (r.status === 204) {
            lastSaved = body;
            savedNote.textContent = body.trim() ? t("saved") : "";
          } else if (r.status === 401 || r.status === 403) {
            draftsOn = false;
          }
        })
        .catch(function () {});
    }

    function dropDraft(keepalive) {
      window.clearTimeout(saveTimer);
      if (!draftsOn) { return; }
      lastSaved = "";
      savedNote.textContent = "";
      call("DELETE", draftsUrl, undefined, { keepalive: keepalive }).catch(function () {});
    }

    if (draftsOn) {
      box.addEventListener("input", function () {
        typed = true;
        window.clearTimeout(saveTimer);
        saveTimer = window.setTimeout(function () { saveDraft(false); }, 1000);
      });
      call("GET", draftsUrl)
        .then(function (r) {
          if (r.status === 401 || r.status === 403) { draftsOn = false; }
          return r.status === 200 ? r.json() : null;
        })
        .then(function (draft) {
          if (!draft || typeof draft.body !== "string" || draft.body === box.value) { return; }
          if (!box.value.trim() && !typed) {
            var before = box.value;
            box.value = draft.body;
            lastSaved = draft.body;
            say(t("restored"), [{ label: t("discard"), run: function () {
              box.value = before;
              dropDraft(false);
              say(t("discarded"));
              box.focus();
            } }]);
            return;
          }
          say(t("older"), [
            { label: t("restore"), run: function () {
              box.value = draft.body;
              lastSaved = draft.body;
              say(t("restored"));
              box.focus();
            } },
            { label: t("discard"), run: function () { dropDraft(false); say(t("discarded")); box.focus(); } }
          ]);
        })
        .catch(function () {});
      var lastSubmit = null;
      if (form) {
        // Sent: the draft has done its job (keepalive lets the request outlive the page).
        form.addEventListener("submit", function (event) { lastSubmit = event; dropDraft(true); say(""); });
      }
      window.addEventListener("pagehide", function () {
        // Leaving because the form was sent the ordinary way: nothing to keep. Sent by script
        // (live.js prevents the navigation) and still in the box: it was not posted, keep it.
        if (lastSubmit && !lastSubmit.defaultPrevented) { return; }
        if (typed && box.value !== lastSaved) { saveDraft(true); }
      });
    }

    /* --- @mentions ---------------------------------------------------------------------- */
    var mentionsUrl = root.getAttribute("data-mentions-url");
    var listbox = el("ul", "composer-mentions");
    listbox.id = cid + "-mentions";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", t("suggestions"));
    listbox.hidden = true;
    status.parentNode.insertBefore(listbox, status);
    var people = [], active = -1, token = null, mentionTimer = null, asked = 0;
    if (mentionsUrl) {
      box.setAttribute("aria-autocomplete", "list");
      box.setAttribute("aria-controls", listbox.id);
    }

    function mentionsOpen() { return !listbox.hidden; }

    function closeMentions() {
      listbox.hidden = true;
      listbox.textContent = "";
      people = [];
      active = -1;
      box.removeAttribute("aria-activedescendant");
    }

    function currentToken() {
      if (box.selectionStart !== box.selectionEnd) { return null; }
      var before = box.value.slice(0, box.selectionStart);
      var match = /(^|[\s(>])@([^\s@\[\]()]{1,40})$/.exec(before);
      if (!match) { return null; }
      return { start: before.length - match[2].length - 1, end: box.selectionStart, q: match[2] };
    }

    function highlight(index) {
      var options = listbox.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
      active = (index + options.length) % options.length;
      options[active].setAttribute("aria-selected", "true");
      box.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var person = people[index];
      if (!person || !token) { return; }
      var name = person.name.replace(/[\[\]\n]/g, "");
      var at = token;
      closeMentions();
      replaceRange(at.start, at.end, "@[" + name + "] ");
    }

    function showPeople(found) {
      listbox.textContent = "";
      people = found;
      active = -1;
      found.forEach(function (person, i) {
        var option = el("li", "composer-mention", person.name);  // text, never HTML
        option.id = listbox.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        listbox.appendChild(option);
      });
      listbox.hidden = found.length === 0;
      if (found.length) {
        highlight(0);
        announce(found.length === 1 ? t("foundOne") : t("found", found.length));
      } else {
        box.removeAttribute("aria-activedescendant");
      }
    }

    function lookUp() {
      token = currentToken();
      if (!token) { closeMentions(); return; }
      var ticket = ++asked, q = token.q;
      fetch(mentionsUrl + "?q=" + encodeURIComponent(q) + "&place=" + encodeURIComponent(place || ""),
            { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { people: [] }; })
        .then(function (data) {
          var now = currentToken();
          if (ticket !== asked || !now || now.q !== q) { return; }
          token = now;
          showPeople(data.people || []);
        })
        .catch(closeMentions);
    }

    if (mentionsUrl) {
      box.addEventListener("input", function () {
        window.clearTimeout(mentionTimer);
        if (!currentToken()) { closeMentions(); return; }
        mentionTimer = window.setTimeout(lookUp, 150);
      });
      box.addEventListener("keydown", function (event) {
        if (!mentionsOpen()) { return; }
        if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
        else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
        else if ((event.key === "Enter" || event.key === "Tab") && active >= 0 && !event.ctrlKey && !event.metaKey) {
          event.preventDefault();
          event.stopImmediatePropagation();
          choose(active);
        } else if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          closeMentions();
        }
      });
      box.addEventListener("blur", function () { window.setTimeout(closeMentions, 150); });
      box.addEventListener("click", function () { if (mentionsOpen() && !currentToken()) { closeMentions(); } });
    }

    /* --- media: picker, uploads, alt text ----------------------------------------------- */
    var uploadUrl = root.getAttribute("data-upload-url");
    var mediaUrl = root.getAttribute("data-media-url");
    if (!uploadUrl) { return; }

    var fileInput = el("input", "visually-hidden");
    fileInput.type = "file";
    fileInput.multiple = true;
    fileInput.tabIndex = -1;
    fileInput.setAttribute("aria-hidden", "true");
    fileInput.addEventListener("change", function () {
      Array.prototype.forEach.call(fileInput.files || [], upload);
      fileInput.value = "";
      closeMedia();
    });
    status.appendChild(fileInput);

    function isImage(item) { return item.kind ? item.kind === "image" : /^image\//.test(item.content_type || ""); }
    function isVideo(item) { return item.kind ? item.kind === "video" : /^video\//.test(item.content_type || ""); }
    function clean(text) { return String(text || "").replace(/[\[\]\r\n]+/g, " ").trim(); }

    function markdownFor(item, alt) {
      var target = "(/media/" + encodeURIComponent(item.id) + ")";
      if (isImage(item)) { return "![" + clean(alt) + "]" + target; }
      var title = clean(item.title) || t("untitled");
      return (isVideo(item) ? "!" : "") + "[" + title + "]" + target;
    }

    function placeText(text, placeholder) {
      var at = placeholder ? box.value.indexOf(placeholder) : -1;
      if (at >= 0) { replaceRange(at, at + placeholder.length, text); }
      else if (text) { insertBlock(text); }
    }

    /* Alt text: asked in a small inline field, one image at a time. */
    var altQueue = [], altBusy = false;
    var altBox = el("div", "composer-alt");
    altBox.hidden = true;
    var altThumb = el("img", "composer-alt-thumb");
    altThumb.alt = "";
    var altLabel = el("label", null, t("altLabel"));
    var altInput = el("input");
    altInput.type = "text";
    altInput.id = cid + "-alt";
    altInput.maxLength = 300;
    altLabel.htmlFor = altInput.id;
    var altHint = el("p", "hint", t("altHint"));
    altHint.id = cid + "-alt-hint";
    var altError = el("p", "error");
    altError.id = cid + "-alt-error";
    altError.setAttribute("role", "alert");
    altInput.setAttribute("aria-describedby", altHint.id + " " + altError.id);
    var altInsert = button(t("insert"), "button-small");
    var altCancel = button(t("cancel"), "button-small button-secondary");
    var altActions = el("div", "composer-alt-actions");
    altActions.appendChild(altInsert);
    altActions.appendChild(altCancel);
    [altThumb, altLabel, altInput, altHint, altError, altActions].forEach(function (n) { altBox.appendChild(n); });
    status.parentNode.insertBefore(altBox, status.nextSibling);

    function askAlt(item, placeholder) {
      altQueue.push({ item: item, placeholder: placeholder });
      if (!altBusy) { nextAlt(); }
    }

    function nextAlt() {
      var job = altQueue.shift();
      if (!job) { altBusy = false; altBox.hidden = true; return; }
      altBusy = true;
      altBox.job = job;
      altThumb.src = job.item.thumbnail_url || job.item.url || "";
      altThumb.hidden = !altThumb.src;
      altInput.value = "";
      altInput.removeAttribute("aria-invalid");
      altError.textContent = "";
      altBox.hidden = false;
      altInput.focus();
    }

    function finishAlt() {
      var job = altBox.job;
      var alt = altInput.value.trim();
      if (!alt) {
        altError.textContent = t("altNeeded");
        altInput.setAttribute("aria-invalid", "true");
        altInput.focus();
        return;
      }
      altInsert.disabled = true;
      call("PATCH", mediaUrl.replace(/\/$/, "") + "/" + encodeURIComponent(job.item.id), { alt: alt })
        .then(function (r) { if (!r.ok) { throw new Error("alt " + r.status); } return r.json(); })
        .then(function (item) {
          altBox.hidden = true;
          placeText(markdownFor(job.item, (item && item.alt) || alt), job.placeholder);
          nextAlt();
        })
        .catch(function () { altError.textContent = t("altFailed"); altInput.focus(); })
        .then(function () { altInsert.disabled = false; });
    }

    function cancelAlt() {
      var job = altBox.job;
      altBox.hidden = true;
      if (job && job.placeholder) { placeText("", job.placeholder); }
      box.focus();
      nextAlt();
    }

    altInsert.addEventListener("click", finishAlt);
    altCancel.addEventListener("click", cancelAlt);
    altInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); finishAlt(); }  // not the outer form
      else if (event.key === "Escape") { event.preventDefault(); cancelAlt(); }
    });

    function insertItem(item, placeholder) {
      if (isImage(item) && !clean(item.alt)) { askAlt(item, placeholder); return; }
      placeText(markdownFor(item, item.alt), placeholder);
    }

    /* Uploads: XMLHttpRequest, because fetch cannot report upload progress. */
    function upload(file) {
      var name = file.name || "image.png";
      var placeholder = "![" + clean(t("uploading", name)) + "](#upload-" + (++uploads) + ")";
      insertBlock(placeholder);
      var row = el("li", "composer-upload");
      var label = el("span", null, t("uploading", name));
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", t("uploading", name));
      row.appendChild(label);
      row.appendChild(bar);
      uploadList.appendChild(row);
      uploadList.hidden = false;
      announce(t("uploading", name));

      function failed(reason) {
        placeText("", placeholder);
        bar.remove();
        row.classList.add("error");
        label.textContent = t("uploadFailed", name, reason);
        row.setAttribute("role", "alert");
        var dismiss = button(t("close"), "link-button");
        dismiss.addEventListener("click", function () { row.remove(); uploadList.hidden = !uploadList.children.length; });
        row.appendChild(document.createTextNode(" "));
        row.appendChild(dismiss);
      }

      var xhr = new XMLHttpRequest();
      xhr.open("POST", uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.value = Math.round(event.loaded * 100 / event.total); }
      });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status === 201 && data && data.id !== undefined) {
          bar.value = 100;
          label.textContent = t("uploaded", name);
          announce(t("uploaded", name));
          window.setTimeout(function () { row.remove(); uploadList.hidden = !uploadList.children.length; }, 4000);
          insertItem(data, placeholder);
          return;
        }
        var reason = data && data.error ? (typeof data.error === "string" ? data.error : data.error.message) : "";
        failed(reason || (xhr.status === 413 ? t("tooLarge") : String(xhr.status)));
      });
      xhr.addEventListener("error", function () { failed(t("offline")); });
      var body = new FormData();
      body.append("file", file, name);
      if (group) { body.append("group", group); }
      xhr.send(body);
    }

    function filesOf(transfer) {
      if (!transfer) { return []; }
      var files = Array.prototype.slice.call(transfer.files || []);
      if (!files.length && transfer.items) {
        Array.prototype.forEach.call(transfer.items, function (item) {
          if (item.kind === "file") { var f = item.getAsFile(); if (f) { files.push(f); } }
        });
      }
      return files;
    }

    box.addEventListener("paste", function (event) {
      var data = event.clipboardData;
      var files = filesOf(data).filter(function (f) { return /^image\//.test(f.type); });
      if (!files.length || (data.getData && data.getData("text/plain"))) { return; }  // text pastes as text
      event.preventDefault();
      files.forEach(upload);
    });

    var depth = 0;
    function hasFiles(event) {
      var types = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.types || []) : [];
      return types.indexOf("Files") >= 0;
    }
    root.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) { return; }
      depth += 1;
      root.classList.add("is-dropping");
    });
    root.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    root.addEventListener("dragleave", function (event) {
      if (!hasFiles(event)) { return; }
      depth = Math.max(0, depth - 1);
      if (!depth) { root.classList.remove("is-dropping"); }
    });
    root.addEventListener("drop", function (event) {
      var files = filesOf(event.dataTransfer);
      depth = 0;
      root.classList.remove("is-dropping");
      if (!files.length) { return; }
      event.preventDefault();
      box.focus();
      files.forEach(upload);
    });
    root.setAttribute("data-drop-hint", t("dropHere"));

    /* My media: a grid of what I uploaded before, newest first. */
    var picker = null, pickerGrid = null, pickerMore = null, pickerStatus = null, pickerPage = 0;

    function buildPicker() {
      picker = el("section", "composer-media");
      picker.id = cid + "-media";
      picker.setAttribute("aria-labelledby", cid + "-media-title");
      var head = el("div", "composer-media-head");
      var title = el("h3", "composer-media-title", t("myMedia"));
      title.id = cid + "-media-title";
      var uploadButton = button(t("upload"), "button-small");
      uploadButton.addEventListener("click", function () { fileInput.click(); });
      var close = button(t("close"), "button-small button-secondary");
      close.addEventListener("click", function () { closeMedia(); box.focus(); });
      head.appendChild(title);
      head.appendChild(uploadButton);
      head.appendChild(close);
      pickerStatus = el("p", "small");
      pickerStatus.setAttribute("role", "status");
      pickerGrid = el("ul", "composer-media-grid");
      pickerMore = button(t("more"), "button-small button-secondary");
      pickerMore.hidden = true;
      pickerMore.addEventListener("click", loadMedia);
      picker.appendChild(head);
      picker.appendChild(pickerStatus);
      picker.appendChild(pickerGrid);
      picker.appendChild(pickerMore);
      picker.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { event.preventDefault(); closeMedia(); box.focus(); }
      });
      status.parentNode.insertBefore(picker, altBox);
    }

    function mediaTile(item) {
      var li = el("li");
      // An image is best known by what it shows; a document by its title.
      var label = (isImage(item) ? clean(item.alt) || clean(item.title) : clean(item.title) || clean(item.alt)) || t("untitled");
      var b = button(t("insertItem", label), "composer-media-item", "");
      if (item.thumbnail_url && (isImage(item) || isVideo(item))) {
        var img = el("img");
        img.src = item.thumbnail_url;
        img.alt = "";
        img.loading = "lazy";
        b.appendChild(img);
      }
      b.appendChild(el("span", "composer-media-name", label));
      b.addEventListener("click", function () { closeMedia(); box.focus(); insertItem(item); });
      li.appendChild(b);
      return li;
    }

    function loadMedia() {
      pickerMore.hidden = true;
      pickerStatus.textContent = t("loadingMedia");
      fetch(mediaUrl + "?page=" + (pickerPage + 1), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("media " + r.status); } return r.json(); })
        .then(function (data) {
          pickerPage += 1;
          (data.items || []).forEach(function (item) { pickerGrid.appendChild(mediaTile(item)); });
          pickerStatus.textContent = pickerGrid.children.length ? "" : t("noMedia");
          pickerMore.hidden = !data.has_next;
        })
        .catch(function () { pickerStatus.textContent = t("mediaFailed"); });
    }

    function openMedia() {
      pickerGrid.textContent = "";
      pickerPage = 0;
      picker.hidden = false;
      if (mediaButton) { mediaButton.setAttribute("aria-expanded", "true"); }
      loadMedia();
      picker.querySelector("button").focus();
    }

    function closeMedia() {
      if (picker) { picker.hidden = true; }
      if (mediaButton) { mediaButton.setAttribute("aria-expanded", "false"); }
    }

    buildPicker();  // built up front (hidden), so the Image button's aria-controls always points somewhere
    picker.hidden = true;
    if (mediaButton) {
      mediaButton.setAttribute("aria-expanded", "false");
      mediaButton.setAttribute("aria-controls", cid + "-media");
    }
  }

  document.querySelectorAll(".composer[data-place]").forEach(setup);
}());
