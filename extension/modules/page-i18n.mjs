// Fills the static text of an add-on page: every element with a data-i18n attribute gets the
// message it names as its text content (never as markup), data-i18n-placeholder and
// data-i18n-title fill those attributes; the document gets the UI language.

export function localizePage(root = document) {
  if (root === document) document.documentElement.lang = browser.i18n.getUILanguage();
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = browser.i18n.getMessage(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = browser.i18n.getMessage(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll("[data-i18n-title]")) {
    node.title = browser.i18n.getMessage(node.dataset.i18nTitle);
  }
}
