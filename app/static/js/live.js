/* Live discussion for topic pages and group live chat pages.

   The pages work without this file (plain forms, reload to see new posts). With it, a Socket.IO
   connection (websocket only, same origin, the session cookie authenticates) joins the page's
   room and then:
   - inserts new posts/messages as they are saved, edits and removals too, in order, once each;
   - after a lost connection, rejoins with the last number it has and the server sends the rest;
   - shows "N new replies" when the reader is elsewhere on the page, who is typing, who is reading;
   - sends the reply/chat form over the socket (falls back to the normal POST when offline);
   - when the posting assistant has warnings (answer code "confirm"), shows them next to the form
     with a "Send anyway" button that sends the same text again with confirm: true.
   Server HTML (body_html) is sanitiser output; everything else is inserted with textContent. */
(function () {
  "use strict";
  var topicList = document.querySelector("[data-live-topic]");
  var chatLog = document.querySelector("[data-live-chat]");
  var host = topicList || chatLog;
  if (!host || typeof window.io !== "function") { return; }

  var strings = {};
  try { strings = JSON.parse(document.getElementById("live-strings").getAttribute("data-strings")); } catch (e) { strings = {}; }
  function t(key, value, second) {
    var text = strings[key] || key;
    return text.replace("%(n)s", value).replace("%(a)s", value).replace("%(b)s", second);
  }

  var isTopic = !!topicList;
  var objectId = parseInt(host.getAttribute(isTopic ? "data-live-topic" : "data-live-chat"), 10);
  var last = parseInt(host.getAttribute(isTopic ? "data-last-number" : "data-last-seq"), 10) || 0;
  var onLastPage = !isTopic || host.getAttribute("data-last-page") === "1";
  var since = host.getAttribute("data-now");
  var viewer = parseInt(host.getAttribute("data-viewer"), 10) || null;
  var moderator = host.getAttribute("data-moderator") === "1";
  var statusEl = document.getElementById("live-status");
  var typingEl = document.getElementById("live-typing");
  var presenceEl = document.getElementById("live-presence");
  var errorEl = document.getElementById("live-error");
  var form = document.getElementById(isTopic ? "reply-form" : "chat-form");
  var box = form ? form.querySelector("textarea") : null;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var stopped = false, everConnected = false, unseen = [], typists = {};

  var socket = window.io({ transports: (host.getAttribute("data-transports") || "websocket").split(","),
                           reconnectionDelayMax: 10000 });

  function say(text, link) {
    if (!statusEl) { return; }
    statusEl.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      statusEl.appendChild(document.createTextNode(" "));
      statusEl.appendChild(a);
    }
  }
  function showError(text) { if (errorEl) { errorEl.textContent = text || ""; } }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function when(iso) {
    var node = el("time");
    node.setAttribute("datetime", iso);
    var d = new Date(iso);
    node.textContent = isNaN(d) ? iso : d.toLocaleString(document.documentElement.lang || "en",
      { timeZone: "UTC", day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false }) + " UTC";
    return node;
  }
  function setBody(container, html) {
    container.innerHTML = html;  // body_html: sanitiser output from app/sanitize.py, never raw input
  }

  /* --- building entries ------------------------------------------------------------------- */
  function avatarNode(author) {  // the same markup as _macros/avatar.html: a picture, or initials
    if (author.avatar) {
      var img = el("img", "avatar");
      img.src = author.avatar; img.alt = ""; img.width = 40; img.height = 40;
      return img;
    }
    var span = el("span", "avatar avatar-initials", author.initials || "?");
    span.setAttribute("aria-hidden", "true");
    return span;
  }
  function postNode(p) {
    var li = el("li", "post is-live");
    li.id = "p" + p.id;
    li.setAttribute("data-number", p.number);
    var article = el("article");
    article.setAttribute("aria-labelledby", "p" + p.id + "-by");
    var header = el("header", "post-header");
    header.appendChild(avatarNode(p.author));
    var h = el("h2", "post-author");
    h.id = "p" + p.id + "-by";
    var who = el("a", null, p.author.name);
    who.href = p.author.url;
    h.appendChild(who);
    header.appendChild(h);
    if (p.author.role) { header.appendChild(el("span", "badge", p.author.role)); }
    if (p.author.verified) {
      var extra = [p.author.profession, p.author.specialty].filter(Boolean).join(", ");
      header.appendChild(document.createTextNode(" "));
      header.appendChild(el("span", "badge badge-verified", t("verified") + (extra ? ": " + extra : "")));
    }
    var meta = el("p", "small post-meta");
    var link = el("a", null, "#" + p.number);
    link.href = p.url;
    meta.appendChild(link);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(when(p.created_at));
    header.appendChild(meta);
    article.appendChild(header);
    article.appendChild(el("div", "prose post-body"));
    li.appendChild(article);
    applyPost(li, p);
    return li;
  }
  function applyPost(li, p) {
    var body = li.querySelector(".post-body, .removed");
    if (p.removed) {
      var gone = el("p", "removed", p.removed_by_author ? t("removedByAuthor") : t("removedByModerator"));
      if (body) { body.parentNode.replaceChild(gone, body); } else { li.querySelector("article").appendChild(gone); }
      var actions = li.querySelector(".post-actions");
      if (actions) { actions.parentNode.removeChild(actions); }
      return;
    }
    if (body && body.classList.contains("post-body")) { setBody(body, p.body_html); }
    var meta = li.querySelector(".post-meta");
    if (p.edited && meta && !meta.querySelector(".edited")) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", "edited", t("edited")));
    }
  }

  function messageNode(m) {
    var li = el("li", "chat-message is-live");
    li.id = "m" + m.seq;
    li.setAttribute("data-seq", m.seq);
    li.setAttribute("data-id", m.id);
    var meta = el("p", "chat-meta");
    var who = el("a", "chat-author", m.author.name);
    who.href = m.author.url;
    var at = el("a", "small chat-time");
    at.href = "#m" + m.seq;
    at.appendChild(when(m.created_at));
    meta.appendChild(avatarNode(m.author));
    meta.appendChild(who);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(at);
    li.appendChild(meta);
    li.appendChild(el("div", "prose chat-body"));
    applyMessage(li, m);
    return li;
  }
  function applyMessage(li, m) {
    var body = li.querySelector(".chat-body, .removed");
    if (m.removed) {
      var gone = el("p", "removed", t("messageRemoved"));
      if (body) { body.parentNode.replaceChild(gone, body); }
      ["chat-actions", "chat-topic"].forEach(function (name) {
        var node = li.querySelector("." + name);
        if (node) { node.parentNode.removeChild(node); }
      });
      li.classList.add("is-removed");
      return;
    }
    if (body) { setBody(body, m.body_html); }
    if (m.topic_url && !li.querySelector(".chat-topic")) {
      var p = el("p", "small chat-topic");
      var a = el("a", null, t("continued"));
      a.href = m.topic_url;
      p.appendChild(a);
      li.insertBefore(p, li.querySelector(".chat-actions"));
      var make = li.querySelector(".chat-make-topic");
      if (make) { make.parentNode.removeChild(make); }
    }
    if (!li.querySelector(".chat-actions") && csrfMeta && viewer && (moderator || m.author.id === viewer)) {
      li.appendChild(messageActions(m));
    }
  }
  function messageActions(m) {
    var div = el("div", "chat-actions");
    var f = el("form", "inline-form");
    f.method = "post";
    f.action = host.getAttribute("data-remove-url").replace("/0/", "/" + m.seq + "/");
    var token = el("input");
    token.type = "hidden"; token.name = "csrf_token"; token.value = csrfMeta.getAttribute("content");
    var button = el("button", "link-button", t("remove"));
    button.type = "submit";
    button.appendChild(el("span", "visually-hidden", " " + t("messageFrom", m.author.name)));
    f.appendChild(token);
    f.appendChild(button);
    div.appendChild(f);
    if (moderator && !m.topic_url) {
      var make = el("a", "chat-make-topic", t("makeTopic"));
      make.href = host.getAttribute("data-topic-url").replace("/0/", "/" + m.seq + "/");
      div.appendChild(document.createTextNode(" "));
      div.appendChild(make);
    }
    return div;
  }

  /* --- placing entries in order, once ------------------------------------------------------ */
  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 250;
  }
  function place(node, number, attr) {
    var items = host.querySelectorAll("[" + attr + "]");
    for (var i = 0; i < items.length; i++) {
      if (parseInt(items[i].getAttribute(attr), 10) > number) { host.insertBefore(node, items[i]); return; }
    }
    host.appendChild(node);
  }
  function receive(item) {
    var number = isTopic ? item.number : item.seq;
    if (item.author && typists[item.author.name]) {  // they sent it: no longer typing
      clearTimeout(typists[item.author.name]);
      delete typists[item.author.name];
      showTyping();
    }
    var existing = document.getElementById((isTopic ? "p" : "m") + (isTopic ? item.id : item.seq));
    if (existing) {
      if (isTopic) { applyPost(existing, item); } else { applyMessage(existing, item); }
      last = Math.max(last, number);
      return;
    }
    if (number <= last && !onLastPage) { return; }
    last = Math.max(last, number);
    if (!onLastPage) { unseen.push(item); banner(); return; }
    var stay = nearBottom();
    var node = isTopic ? postNode(item) : messageNode(item);
    place(node, number, isTopic ? "data-number" : "data-seq");
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.parentNode.removeChild(empty); }
    if (stay) { if (form && box === document.activeElement) { form.scrollIntoView({ block: "end" }); } }
    else { unseen.push(node); banner(); }
  }
  function changed(item) {
    var node = document.getElementById((isTopic ? "p" : "m") + (isTopic ? item.id : item.seq));
    if (!node) { return; }
    if (isTopic) { applyPost(node, item); } else { applyMessage(node, item); }
  }

  var bannerEl = null;
  function banner() {
    if (!unseen.length) { if (bannerEl) { bannerEl.hidden = true; } return; }
    if (!bannerEl) {
      bannerEl = el(onLastPage ? "button" : "a", "live-banner button button-small");
      if (onLastPage) {
        bannerEl.type = "button";
        bannerEl.addEventListener("click", function () {
          var first = unseen[0];
          unseen = [];
          banner();
          if (first && first.scrollIntoView) { first.scrollIntoView({ block: "start" }); var l = first.querySelector("a"); if (l) { l.focus(); } }
        });
      } else {
        bannerEl.href = host.getAttribute("data-latest-url");
      }
      host.parentNode.insertBefore(bannerEl, host.nextSibling);
    }
    bannerEl.hidden = false;
    bannerEl.textContent = t(unseen.length === 1 ? (isTopic ? "newReply" : "newMessage") : (isTopic ? "newReplies" : "newMessages"), unseen.length);
  }
  window.addEventListener("scroll", function () { if (onLastPage && unseen.length && nearBottom()) { unseen = []; banner(); } }, { passive: true });

  /* --- the connection ---------------------------------------------------------------------- */
  function join() {
    var event = isTopic ? "join_topic" : "join_chat";
    var data = { after: last, since: since };
    data[isTopic ? "topic" : "group"] = objectId;
    socket.emit(event, data, function (answer) {
      if (!answer || !answer.ok) { stopped = true; socket.disconnect(); return; }
      since = answer.now;
      (isTopic ? answer.posts : answer.messages).forEach(receive);
      (answer.changed || []).forEach(changed);
      if (answer.truncated) { say(t("reload"), { href: window.location.href, text: t("reloadLink") }); }
      else { say(everConnected ? t("back") : t("live")); }
      everConnected = true;
    });
  }
  socket.on("connect", join);
  socket.on("disconnect", function () { if (!stopped) { say(t("lost")); } });
  socket.on("connect_error", function () { if (!stopped && everConnected) { say(t("lost")); } });
  socket.on("error", function (answer) {
    if (answer && answer.code === "confirm") { return; }  // shown as the warnings box by the sender
    showError(answer && answer.reason);
  });
  socket.on(isTopic ? "post" : "chat_message", function (item) {
    if (item && item[isTopic ? "topic" : "group"] === objectId) { receive(item); }
  });
  ["post_edited", "post_removed", "chat_updated"].forEach(function (name) {
    socket.on(name, function (item) { if (item && item[isTopic ? "topic" : "group"] === objectId) { changed(item); } });
  });
  function stop(text, link) { stopped = true; say(text, link); socket.disconnect(); }
  socket.on("access_changed", function (e) { stop((e && e.reason) || t("gone")); });
  socket.on("topic_removed", function () { stop(t("topicRemoved")); });
  socket.on("topic_moved", function (e) { stop(t("topicMoved"), { href: e.url, text: t("openTopic") }); });
  socket.on("mention", function (e) { say(t("mention", e.by, e.where), { href: e.url, text: t("open") }); });

  socket.on("presence", function (e) {
    if (!presenceEl) { return; }
    var names = (e.names || []).join(", ");
    var text = names ? t("reading", names) : "";
    if (e.more) { text += " " + t("more", e.more); }
    if (e.visitors) { text += (text ? " " : "") + t("visitors", e.visitors); }
    presenceEl.textContent = text;
  });
  socket.on("typing", function (e) {
    if (!typingEl || !e || e.user === viewer) { return; }
    clearTimeout(typists[e.name]);
    typists[e.name] = setTimeout(function () { delete typists[e.name]; showTyping(); }, 6000);
    showTyping();
  });
  function showTyping() {
    if (!typingEl) { return; }
    var names = Object.keys(typists);
    typingEl.textContent = names.length === 0 ? "" : names.length === 1 ? t("typing", names[0])
      : names.length === 2 ? t("typingTwo", names[0], names[1]) : t("typingMany");
  }

  /* --- writing ----------------------------------------------------------------------------- */
  if (form && box) {
    var lastTyping = 0;
    box.addEventListener("input", function () {
      var now = Date.now();
      if (!socket.connected || now - lastTyping < 2500) { return; }
      lastTyping = now;
      var data = {};
      data[isTopic ? "topic" : "group"] = objectId;
      socket.emit(isTopic ? "topic_typing" : "chat_typing", data);
    });
    if (!isTopic) {
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
      });
    }
    var warnEl = null;
    function clearWarnings() {
      if (warnEl && warnEl.parentNode) { warnEl.parentNode.removeChild(warnEl); }
      warnEl = null;
      var served = document.getElementById("assistant-warnings");  // the no-JS box of a re-shown form
      if (served && served.parentNode) { served.parentNode.removeChild(served); }
    }
    function sendAnyway() {
      if (socket.connected && !stopped) { send(true); return; }
      var anyway = el("input");  // offline: the plain POST, with the form's own "publish anyway"
      anyway.type = "hidden"; anyway.name = "publish_anyway"; anyway.value = "1";
      form.appendChild(anyway);
      form.submit();
    }
    function showWarnings(answer) {
      clearWarnings();
      warnEl = el("div", "notice assistant-warnings");
      warnEl.setAttribute("role", "alert");
      var title = el("p");
      title.appendChild(el("strong", null, t("checkFirst")));
      warnEl.appendChild(title);
      var list = el("ul");
      (answer.warnings || []).forEach(function (w) { list.appendChild(el("li", null, w && w.message)); });
      warnEl.appendChild(list);
      var url = answer.guidelines_url;
      if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\") {
        var more = el("p"), link = el("a", null, t("guidelines"));
        link.href = url;
        more.appendChild(link);
        warnEl.appendChild(more);
      }
      warnEl.appendChild(el("p", "small", t("notSentYet")));
      var again = el("button", "button-small button-secondary", t(isTopic ? "postAnyway" : "sendAnyway"));
      again.type = "button";
      again.addEventListener("click", sendAnyway);
      warnEl.appendChild(again);
      form.insertBefore(warnEl, errorEl && errorEl.parentNode === form ? errorEl : form.querySelector("button[type=submit]"));
    }
    function send(confirm) {
      showError("");
      var data = { body: box.value };
      data[isTopic ? "topic" : "group"] = objectId;
      var ticked = form.querySelector('input[name="publish_anyway"]');
      if (confirm || (ticked && ticked.checked)) { data.confirm = true; }
      var quote = form.querySelector("#quote_of");
      if (quote && quote.value) { data.quote_of = quote.value; }
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      socket.timeout(15000).emit(isTopic ? "reply" : "chat", data, function (err, answer) {
        if (button) { button.disabled = false; }
        if (err) { showError(t("notSent")); return; }
        if (answer && answer.code === "confirm") { showWarnings(answer); return; }
        if (!answer || !answer.ok) { return; }  // the "error" event already explained why
        clearWarnings();
        if (box.value === data.body) { box.value = ""; }  // keep whatever was typed meanwhile
        if (quote) { quote.value = ""; }
        if (isTopic && !onLastPage && answer.url) { window.location.href = answer.url; return; }
        say(t(isTopic ? "posted" : "sent"));
        box.focus();
      });
    }
    form.addEventListener("submit", function (e) {
      if (!socket.connected || stopped) { return; }  // the plain POST still works
      e.preventDefault();
      send(false);
    });
  }
}());
