// The booking form's progressive enhancement: only the fields the chosen kind of participant
// uses are shown, the identification choices follow the kind, and the routine's rules are
// explained while typing (the server checks them again; the form works without this script).
// The booking form, or the meeting page's form that adds one participant to a booked meeting.
const form = document.querySelector<HTMLFormElement>('#booking-form, #add-participant-form');

const allowed: Record<string, string[]> = {
  patient: ['bankid', 'sms'],
  patient_proxy: ['bankid', 'sms'],
  colleague: ['siths'],
  guest: ['none', 'sms', 'bankid', 'siths'],
};

/**
 * The method a new participant of each kind starts with, as the server's form offers it: a guest
 * by e-mail (the school, the social services) needs none, and SMS would refuse them.
 */
const startsWith: Record<string, string> = { patient: 'sms', patient_proxy: 'sms', colleague: 'siths', guest: 'none' };

/** The fields of the participant being added (cleared when a refused one is replaced by another kind). */
const participantFields = [
  'p_name',
  'p_mobile',
  'p_email',
  'p_personalNumber',
  'p_proxyName',
  'p_proxyMobile',
  'p_proxyEmail',
  'p_proxyPersonalNumber',
  'p_staffEmail',
];

function field(name: string): HTMLInputElement | HTMLSelectElement {
  return form!.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)!;
}

function kind(): string {
  return form!.querySelector<HTMLInputElement>('input[name="p_kind"]:checked')?.value ?? 'patient';
}

function showFieldsFor(chosen: string, fresh = false): void {
  for (const el of form!.querySelectorAll<HTMLElement>('[data-for]')) {
    el.hidden = !(el.dataset.for ?? '').split(' ').includes(chosen);
  }
  const select = field('p_identification') as HTMLSelectElement;
  // A kind the page does not know (an altered form) allows no method.
  const methods = allowed[chosen] ?? [];
  // Methods the appliance cannot use (no identity provider) stay visible but not choosable.
  const usable = (option: HTMLOptionElement) =>
    methods.includes(option.value) && (chosen === 'colleague' || !option.hasAttribute('data-unavailable'));
  for (const option of select.options) {
    option.hidden = !methods.includes(option.value);
    option.disabled = !usable(option);
  }
  const first = [...select.options].find((o) => o.value === startsWith[chosen] && !o.disabled);
  if (fresh && first) select.value = first.value;
  else if (select.selectedOptions[0]?.disabled)
    select.value =
      [...select.options].find((o) => !o.disabled && (chosen !== 'guest' || o.value === 'none'))?.value ??
      [...select.options].find((o) => !o.disabled)?.value ??
      '';
}

/** The first rule the typed values break, as the server would say it, and the fields it is about. */
function brokenRule(): { message: string; fields: string[] } {
  const data = form!.dataset;
  const chosen = kind();
  const mobile = field('p_mobile').value.trim();
  const email = field('p_email').value.trim();
  const identification = field('p_identification').value;
  if (chosen === 'guest' && mobile && email) return { message: data.hintBoth ?? '', fields: ['p_mobile', 'p_email'] };
  // With a proxy, the SMS goes to the proxy: the patient needs no phone of their own.
  const smsField = chosen === 'patient_proxy' ? 'p_proxyMobile' : 'p_mobile';
  const typed =
    chosen === 'patient_proxy'
      ? field('p_proxyName').value.trim() || field('p_proxyEmail').value.trim()
      : email || field('p_name').value.trim();
  if (chosen !== 'colleague' && identification === 'sms' && !field(smsField).value.trim() && typed)
    return { message: data.hintSms ?? '', fields: [smsField] };
  return { message: '', fields: [] };
}

function explain(): void {
  const hint = form!.querySelector<HTMLElement>('#contact-hint')!;
  const { message, fields } = brokenRule();
  if (hint.textContent !== message) hint.textContent = message;
  // Only the fields the rule is about are marked (never the mobile for a personal-number problem).
  for (const name of ['p_mobile', 'p_email', 'p_proxyMobile']) {
    const input = field(name);
    if (fields.includes(name)) input.setAttribute('aria-invalid', 'true');
    else if (!input.hasAttribute('data-server-error')) input.removeAttribute('aria-invalid');
  }
}

/** After a refused "Lägg till", choosing another kind starts a new participant: no old name, no old error. */
function forgetRefused(): void {
  const problem = form!.querySelector('#participant-problem');
  if (!problem) return;
  problem.remove();
  for (const name of participantFields) {
    const input = field(name);
    input.value = '';
    input.removeAttribute('aria-invalid');
    input.removeAttribute('data-server-error');
  }
}

/** The documentation plan is asked for when the field is left empty, not only at "Boka mötet". */
function checkDocumentation(): void {
  const plan = form!.querySelector<HTMLTextAreaElement>('#documentationPlan');
  if (!plan) return;
  const note = form!.querySelector<HTMLElement>('#documentation-note')!;
  const missing = plan.value.trim() === '';
  note.textContent = missing ? (note.dataset.message ?? '') : '';
  if (missing) plan.setAttribute('aria-invalid', 'true');
  else plan.removeAttribute('aria-invalid');
}

if (form) {
  showFieldsFor(kind());
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.setAttribute('data-server-error', '');
  form.addEventListener('change', (event) => {
    if ((event.target as HTMLInputElement).name === 'p_kind') {
      forgetRefused();
      showFieldsFor(kind(), true);
    }
    explain();
  });
  form.addEventListener('input', (event) => {
    if ((event.target as HTMLElement).id === 'documentationPlan' && (event.target as HTMLTextAreaElement).value.trim())
      checkDocumentation();
    explain();
  });
  form.querySelector('#documentationPlan')?.addEventListener('blur', checkDocumentation);
}
