// The cluster definition form without round trips: "Add another service row" copies the
// empty row of <template id="row-template"> in place, and each row gets a Remove button.
// Without this script the same buttons submit the form and the server does the same.
(() => {
  const rows = document.getElementById('rows');
  const template = document.getElementById('row-template');
  const add = document.getElementById('add-row');
  if (!rows || !template || !add) return;
  let next = rows.querySelectorAll('fieldset.svc-row').length;
  const renumber = () =>
    rows.querySelectorAll('fieldset.svc-row .row-no').forEach((n, i) => {
      n.textContent = String(i + 1);
    });
  const withRemove = (fieldset) => {
    const p = fieldset.querySelector('.row-remove');
    if (!p) return;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'remove-row';
    b.textContent = 'Remove this service';
    b.addEventListener('click', () => {
      const focusAfter = fieldset.nextElementSibling?.querySelector('input') ?? add;
      fieldset.remove();
      renumber();
      focusAfter.focus();
    });
    p.replaceChildren(b);
  };
  rows.querySelectorAll('fieldset.svc-row').forEach(withRemove);
  add.addEventListener('click', (e) => {
    e.preventDefault();
    const i = next++;
    const copy = template.content.cloneNode(true);
    for (const el of copy.querySelectorAll('[id], [name], [for], [aria-describedby], [data-row]'))
      for (const a of ['id', 'name', 'for', 'aria-describedby', 'data-row']) {
        const v = el.getAttribute(a);
        if (v) el.setAttribute(a, v.replaceAll('__i__', String(i)));
      }
    const fieldset = copy.querySelector('fieldset');
    rows.append(copy);
    withRemove(fieldset);
    renumber();
    fieldset.querySelector('input')?.focus();
  });
})();
