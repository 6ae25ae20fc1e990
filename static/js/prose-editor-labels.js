/*
 * The rich-text editor (django-prose-editor) in the admin's language.
 *
 * The editor writes its menu in English: its buttons' tooltips ("bold", "insert
 * link") and the block types ("Heading 2") are fixed words, and its dialogs ask
 * window.gettext, which only knows the admin's own words. This script carries the
 * translations, made on the server with gettext (clinic/fields.py), in its
 * data-labels attribute. It runs before the editor (a classic script before the
 * editor's modules), so that:
 *  - the words the editor asks gettext for are in Django's JavaScript catalogue
 *    (without replacing the admin's own translations), and
 *  - every menu the editor builds, and every button it copies into the block-type
 *    picker later, gets its tooltip, label and option text translated.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var labels = {};
  try {
    labels = JSON.parse((script && script.dataset.labels) || "{}");
  } catch (error) {
    return;
  }

  // The dialogs' words: through gettext.
  if (window.django && window.django.catalog) {
    Object.keys(labels).forEach(function (word) {
      if (!(word in window.django.catalog)) {
        window.django.catalog[word] = labels[word];
      }
    });
  }
  if (typeof window.gettext !== "function") {
    window.gettext = function (word) {
      return word in labels ? labels[word] : word;
    };
  }

  function translated(text) {
    return Object.prototype.hasOwnProperty.call(labels, text) ? labels[text] : null;
  }

  function translateAttribute(element, name) {
    var value = element.getAttribute(name);
    var label = value && translated(value);
    if (label) element.setAttribute(name, label);
  }

  // Buttons keep their text (the icon's name); options are words.
  function translateMenu(root) {
    root.querySelectorAll(".prose-menubar__button").forEach(function (button) {
      translateAttribute(button, "title");
      translateAttribute(button, "aria-label");
    });
    root.querySelectorAll(".prose-menubar__option > *").forEach(function (option) {
      var label = translated(option.textContent);
      if (label) option.textContent = label;
    });
  }

  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      mutation.addedNodes.forEach(function (node) {
        if (node.nodeType !== Node.ELEMENT_NODE) return;
        var menu = node.closest(".prose-menubar") || (node.matches(".prose-menubar") && node);
        if (menu) translateMenu(menu);
        else if (node.querySelector(".prose-menubar")) translateMenu(node);
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
