// Kehu's small page helpers. htmx sends the CSRF token from <body hx-headers>.
document.addEventListener("DOMContentLoaded", function () {
  // Submit filter forms on change (the form carries hx-get to refresh its list).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () {
      if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
    });
  });
  // Copy-to-clipboard buttons (API token).
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var target = document.querySelector(btn.getAttribute("data-copy"));
      if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
    });
  });
});
