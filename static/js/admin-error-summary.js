/* The error summary at the top of a translated change form
   (templates/admin/translated_change_form.html): following a link opens the
   field's language tab (and a collapsed section) before moving to the field. */
document.getElementById("error-summary").addEventListener("click", function (event) {
  var link = event.target.closest("a[href^='#']");
  if (!link) return;
  var field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  var panel = field.closest(".ui-tabs-panel");
  if (panel) {
    var tab = document.querySelector("a[href='#" + panel.id + "']");
    if (tab) tab.click();
  }
  var collapsed = field.closest("details:not([open])");
  if (collapsed) collapsed.open = true;
  event.preventDefault();
  // A rich-text field's textarea is hidden behind its editor: show its row.
  var visible = field.offsetParent ? field : field.closest(".form-row, td") || field;
  visible.scrollIntoView({block: "center"});
  field.focus();
});
