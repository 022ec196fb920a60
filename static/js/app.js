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
