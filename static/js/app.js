// tlsposture's own script (the Content-Security-Policy allows no inline script).
// Copy buttons: <button data-copy-target="ID"> copies the text of the element ID.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy-target]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy-target"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent).then(function () {
    button.textContent = "Copied";
  }, function () {
    button.textContent = "Copy failed: select the text";
  });
});

// "Save this view" (partials/my_views.html) keeps the list's query string in a hidden field
// rendered with the page; HTMX filter changes push a new address without reloading it, so
// the field takes the address bar's query at the moment the form is sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form.save-view, .my-views form.inline")) return;
  var query = form.querySelector("input[name=query]");
  if (query) query.value = window.location.search.replace(/^\?/, "");
});
