// The language switch keeps what was typed: the header's link (layouts/layout.hbs) reloads the page
// in the other language, which would lose the page's forms as typed (the meeting page has four).
// With this script, following the link takes what was typed into the page's forms along, and the
// page it comes back to (the link's `next`) fills it in again, in the other language. Without it
// the switch is the plain link it always was. A page whose whole form the switch sends (the
// booking form: the switch is that form's button) has no link, and nothing to do here.
//
// What was typed waits in this tab's sessionStorage for the one page load that follows, and is
// taken out of it on the next load whatever that page is: it is never kept longer. Passwords and
// the forms' hidden fields (the crumb, the meeting's version) are not taken.

const key = 'samverka.typed';
/** How long the typed values wait for the page they were taken to: a reload, not a later visit. */
const waitMs = 60_000;

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
interface Typed {
  /** The page the switch leads back to (its `next`). */
  page: string;
  at: number;
  forms: { action: string; fields: { name: string; value: string; checked?: boolean }[] }[];
}

const skipped = new Set(['hidden', 'password', 'file', 'submit', 'button', 'reset', 'image']);

/**
 * What the person typed or chose into the form: the fields that differ from what the page came
 * with, or every field of a form the server sent back refused (what it came with is what they typed).
 */
function typedIn(form: HTMLFormElement): Typed['forms'][number]['fields'] {
  const refused = form.querySelector('[aria-invalid="true"], [role="alert"]') !== null;
  const fields: Typed['forms'][number]['fields'] = [];
  for (const el of form.elements) {
    const field = el as Field;
    if (!field.name || (field instanceof HTMLInputElement && skipped.has(field.type))) continue;
    if (field instanceof HTMLInputElement && (field.type === 'radio' || field.type === 'checkbox')) {
      if (refused || field.checked !== field.defaultChecked)
        fields.push({ name: field.name, value: field.value, checked: field.checked });
    } else if (field instanceof HTMLSelectElement) {
      if (refused || [...field.options].some((o) => o.selected !== o.defaultSelected))
        fields.push({ name: field.name, value: field.value });
    } else if (refused || field.value !== field.defaultValue) fields.push({ name: field.name, value: field.value });
  }
  return fields;
}

function remember(link: HTMLAnchorElement): void {
  const page = new URL(link.href).searchParams.get('next');
  if (!page) return;
  const forms = [...document.forms]
    .map((form) => ({ action: form.getAttribute('action') ?? '', fields: typedIn(form) }))
    .filter((form) => form.action && form.fields.length > 0);
  if (forms.length === 0) return;
  const typed: Typed = { page, at: Date.now(), forms };
  try {
    sessionStorage.setItem(key, JSON.stringify(typed));
  } catch {
    // Storage refused (full, or switched off): the switch is the plain link it was.
  }
}

const changed = (field: Field, type: 'input' | 'change') => field.dispatchEvent(new Event(type, { bubbles: true }));

/** Fills in what was typed, the choices first (a kind shows its fields and starts its method), then the rest. */
function fillIn(typed: Typed): void {
  for (const { action, fields } of typed.forms) {
    const form = [...document.forms].find((f) => f.getAttribute('action') === action);
    if (!form) continue;
    const named = (name: string) => [...form.elements].filter((el) => (el as Field).name === name) as Field[];
    for (const { name, value, checked } of fields.filter((f) => f.checked !== undefined)) {
      const box = named(name).find((el) => el instanceof HTMLInputElement && el.value === value) as
        HTMLInputElement | undefined;
      if (box && box.checked !== checked) {
        box.checked = checked!;
        changed(box, 'change');
      }
    }
    for (const { name, value } of fields.filter((f) => f.checked === undefined)) {
      const [field] = named(name);
      if (!field || field.value === value) continue;
      field.value = value;
      changed(field, field instanceof HTMLSelectElement ? 'change' : 'input');
    }
  }
}

function restore(): void {
  let saved: string | null = null;
  try {
    saved = sessionStorage.getItem(key);
    sessionStorage.removeItem(key);
  } catch {
    return;
  }
  if (!saved) return;
  const typed = JSON.parse(saved) as Typed;
  if (Date.now() - typed.at > waitMs || `${location.pathname}${location.search}` !== typed.page) return;
  fillIn(typed);
}

restore();
const link = document.querySelector<HTMLAnchorElement>('a[data-lang-switch]');
link?.addEventListener('click', (event) => {
  // A new tab or window (a modifier, the middle button) leaves this page and its forms as they are.
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  remember(link);
});
