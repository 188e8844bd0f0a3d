/* My media and a group's files: upload several files at once with a progress bar per file.
   Without JavaScript the same form posts to /media/upload. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-media-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var list = form.querySelector(".upload-progress");
  var token = form.querySelector("input[name=csrf_token]").value;

  function row(name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", name);
    var status = document.createElement("span");
    status.className = "upload-status";
    li.appendChild(label); li.appendChild(bar); li.appendChild(status);
    list.appendChild(li);
    return { bar: bar, status: status, li: li };
  }

  function send(file, shown) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("file", file, file.name);
      ["alt", "licence", "group"].forEach(function (name) {
        var input = form.elements[name];
        if (input && input.value) { data.append(name, input.value); }
      });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.api);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { shown.bar.value = Math.round(100 * event.loaded / event.total); }
      });
      xhr.addEventListener("load", function () {
        var ok = xhr.status === 201, message = "";
        try { var body = JSON.parse(xhr.responseText); message = ok ? "" : body.error.message; } catch (e) { message = String(xhr.status); }
        shown.bar.value = 100;
        shown.status.textContent = ok ? " " + form.dataset.done : " " + form.dataset.failed + ": " + message;
        shown.li.className = ok ? "upload-ok" : "upload-failed";
        resolve(ok);
      });
      xhr.addEventListener("error", function () {
        shown.status.textContent = " " + form.dataset.failed;
        shown.li.className = "upload-failed";
        resolve(false);
      });
      xhr.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input.files.length) { return; }
    event.preventDefault();
    list.textContent = "";
    var files = Array.prototype.slice.call(input.files);
    var jobs = files.map(function (file) { return send(file, row(file.name)); });
    Promise.all(jobs).then(function (results) {
      if (results.every(Boolean)) { window.location.reload(); }
    });
  });
})();
