// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy && navigator.clipboard) {
    event.preventDefault();
    navigator.clipboard.writeText(copy.dataset.copy).then(() => {
      const label = copy.textContent;
      copy.textContent = copy.dataset.copied || "✓";
      setTimeout(() => { copy.textContent = label; }, 1500);
    });
  }
});
// Share buttons appear only where the browser can share (the Web Share API, mostly phones).
if (navigator.share) {
  document.querySelectorAll("[data-share]").forEach((b) => { b.hidden = false; });
}
document.addEventListener("click", (event) => {
  const share = event.target.closest("[data-share]");
  if (share && navigator.share) {
    event.preventDefault();
    navigator.share({
      title: share.dataset.shareTitle || document.title,
      text: share.dataset.shareText || "",
      url: share.dataset.share,
    }).catch(() => {});
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset && form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
// An empty time zone field takes this browser's zone, for the owner to check and save.
document.querySelectorAll("[data-prefill-zone]").forEach((input) => {
  if (input.value) return;
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (_) { /* an old browser: the field stays empty (UTC) */ }
});
