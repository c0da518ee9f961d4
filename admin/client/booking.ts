// The booking form's progressive enhancement: only the fields the chosen kind of participant
// uses are shown, the identification choices follow the kind, and the routine's rules are
// explained while typing (the server checks them again; the form works without this script).
const form = document.querySelector<HTMLFormElement>('#booking-form');

const allowed: Record<string, string[]> = {
  patient: ['bankid', 'sms'],
  patient_proxy: ['bankid', 'sms'],
  colleague: ['siths'],
  guest: ['none', 'sms', 'bankid', 'siths'],
};

function field(name: string): HTMLInputElement | HTMLSelectElement {
  return form!.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)!;
}

function kind(): string {
  return form!.querySelector<HTMLInputElement>('input[name="p_kind"]:checked')?.value ?? 'patient';
}

function showFieldsFor(chosen: string): void {
  for (const el of form!.querySelectorAll<HTMLElement>('[data-for]')) {
    el.hidden = !(el.dataset.for ?? '').split(' ').includes(chosen);
  }
  const select = field('p_identification') as HTMLSelectElement;
  for (const option of select.options) option.hidden = option.disabled = !allowed[chosen]!.includes(option.value);
  if (select.selectedOptions[0]?.disabled) select.value = chosen === 'guest' ? 'none' : allowed[chosen]![0]!;
}

/** The first rule the typed values break, as the server would say it; '' when none. */
function brokenRule(): string {
  const data = form!.dataset;
  const chosen = kind();
  const mobile = field('p_mobile').value.trim();
  const email = field('p_email').value.trim();
  const personalNumber = field('p_personalNumber').value.trim();
  const identification = field('p_identification').value;
  if (chosen === 'guest' && mobile && email) return data.hintBoth ?? '';
  // With a proxy, the SMS goes to the proxy: the patient needs no phone of their own.
  const smsMobile = chosen === 'patient_proxy' ? field('p_proxyMobile').value.trim() : mobile;
  const typed = chosen === 'patient_proxy' ? field('p_proxyName').value.trim() || field('p_proxyEmail').value.trim() : email || field('p_name').value.trim();
  if (chosen !== 'colleague' && identification === 'sms' && !smsMobile && typed) return data.hintSms ?? '';
  if ((chosen === 'patient' || chosen === 'patient_proxy') && personalNumber && identification !== 'bankid') return data.hintPnBankid ?? '';
  return '';
}

function explain(): void {
  const hint = form!.querySelector<HTMLElement>('#contact-hint')!;
  const message = brokenRule();
  if (hint.textContent !== message) hint.textContent = message;
  for (const name of ['p_mobile', 'p_email']) {
    const input = field(name);
    if (message) input.setAttribute('aria-invalid', 'true');
    else if (!input.closest('[data-server-error]')) input.removeAttribute('aria-invalid');
  }
}

if (form) {
  showFieldsFor(kind());
  form.addEventListener('change', (event) => {
    if ((event.target as HTMLInputElement).name === 'p_kind') showFieldsFor(kind());
    explain();
  });
  form.addEventListener('input', explain);
}
