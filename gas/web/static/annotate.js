// The upload form: fetch an S3 form for the chosen file's name; stop Free users' oversize files.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("file");
  var submit = document.getElementById("upload-submit");
  var message = document.getElementById("upload-message");
  var fieldsBox = document.getElementById("s3-fields");
  var limit = parseInt(form.getAttribute("data-limit"), 10);
  var plan = form.getAttribute("data-plan");
  var formUrl = form.getAttribute("data-form-url");

  function say(text, link) {
    message.textContent = text;
    if (link) {
      message.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      message.appendChild(a);
    }
    message.hidden = false;
  }

  function setFields(upload) {
    form.action = upload.url;
    while (fieldsBox.firstChild) { fieldsBox.removeChild(fieldsBox.firstChild); }
    Object.keys(upload.fields).forEach(function (name) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = name;
      hidden.value = upload.fields[name];
      fieldsBox.appendChild(hidden);
    });
  }

  input.addEventListener("change", function () {
    message.hidden = true;
    var file = input.files && input.files[0];
    if (!file) { submit.disabled = false; return; }
    if (plan === "free" && file.size > limit) {
      submit.disabled = true;
      say("This file is " + Math.ceil(file.size / 1024) + " KiB; the Free plan accepts up to " +
          Math.floor(limit / 1024) + " KiB.", { href: "/subscribe", text: "Subscribe to Premium to annotate larger files." });
      return;
    }
    submit.disabled = true;
    fetch(formUrl + "?filename=" + encodeURIComponent(file.name), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || "The upload could not be prepared."); }
        return body;
      });
    }).then(function (upload) {
      setFields(upload);
      submit.disabled = false;
    }).catch(function (error) {
      say(error.message || "The upload could not be prepared; please reload the page.");
    });
  });
})();
