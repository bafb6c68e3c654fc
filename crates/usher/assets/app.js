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
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset && form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
