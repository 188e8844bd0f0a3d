/* Forum topic page: mark the page read with a small POST once it is shown (no write happens on the
   GET itself), and let "Quote" fill the reply box in place. Both work without this file: the page
   has a "Mark as read" button and the Quote link reloads the page with ?quote=<id>. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : null;
  if (!token || !window.fetch) { return; }

  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: JSON.stringify(data)
    });
  }

  var list = document.querySelector("[data-mark-read]");
  if (list) {
    var number = parseInt(list.getAttribute("data-number"), 10);
    if (number > 0) { post(list.getAttribute("data-mark-read"), { number: number }).catch(function () {}); }
  }

  var box = document.getElementById("body");
  var quoteField = document.getElementById("quote_of");
  if (!box || !quoteField) { return; }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.quote-link") : null;
    if (!link) { return; }
    event.preventDefault();
    var id = link.getAttribute("data-post");
    fetch("/api/posts/" + encodeURIComponent(id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error("quote"); } return response.json(); })
      .then(function (data) {
        if (!data.post || data.post.body === null) { return; }
        var quoted = data.post.body.split("\n").map(function (line) { return "> " + line; }).join("\n") + "\n\n";
        box.value = (box.value ? box.value.replace(/\s*$/, "\n\n") : "") + quoted;
        quoteField.value = id;
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      })
      .catch(function () { window.location.href = link.href; });
  });
}());
