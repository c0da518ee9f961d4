// The guest pages' small script (no framework): keeps the link's token out of the browser's
// history, offers the link to copy where the browser will not do, counts down before another SMS
// code may be asked for, and moves the waiting room on when the room opens.

// The link page: the token stays in the form, not in the address bar or history.
if (/^\/j\/[\w-]+$/.test(location.pathname)) history.replaceState(null, '', '/j');

// A browser the meeting does not work in: the link, for pasting into one that does.
const copyLink = document.querySelector<HTMLElement>('[data-copy-link]');
if (copyLink) {
  const field = copyLink.querySelector<HTMLInputElement>('input')!;
  const button = copyLink.querySelector<HTMLButtonElement>('[data-copy]')!;
  const status = copyLink.querySelector<HTMLElement>('[data-copy-status]')!;
  field.addEventListener('focus', () => field.select());
  button.hidden = false;
  button.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      // Older browsers, or no permission: the selected field still copies with the keyboard.
      document.execCommand('copy');
    }
    status.textContent = button.dataset.copied ?? '';
  });
}

const resend = document.querySelector<HTMLButtonElement>('button[data-wait]');
if (resend) {
  const text = document.querySelector<HTMLElement>('[data-countdown-text]');
  let left = Number(resend.dataset.wait ?? 0);
  const tick = () => {
    resend.disabled = left > 0;
    if (text) text.textContent = left > 0 ? (resend.dataset.countdown ?? '').replace('{seconds}', String(left)) : '';
    if (left-- > 0) setTimeout(tick, 1000);
  };
  tick();
}

const waiting = document.querySelector<HTMLElement>('[data-waiting]');
if (waiting) {
  // "The meeting has a new time" is said once: a later reload shows the page without it.
  if (location.search) history.replaceState(null, '', location.pathname);
  const closed = waiting.querySelector<HTMLElement>('[data-room-closed]')!;
  const open = waiting.querySelector<HTMLElement>('[data-room-open]')!;
  const announce = waiting.querySelector<HTMLElement>('[data-room-announce]')!;
  const countdown = waiting.querySelector<HTMLElement>('[data-countdown]')!;
  const timeLeft = waiting.querySelector<HTMLElement>('[data-time-left]')!;
  const opensAt = new Date(waiting.dataset.opensAt ?? '').getTime();
  const showCountdown = () => {
    const seconds = Math.max(0, Math.round((opensAt - Date.now()) / 1000));
    // Only the last hour is counted down: further off, the opening time in words says enough.
    timeLeft.hidden = seconds > 3600;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    countdown.textContent = `${h > 0 ? `${h}:` : ''}${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  };
  showCountdown();
  const timer = setInterval(showCountdown, 1000);
  const events = new EventSource('/entry/waiting/events');
  const ended = waiting.querySelector<HTMLElement>('[data-room-ended]')!;
  events.addEventListener('room', (event) => {
    const {
      open: isOpen,
      ended: isEnded,
      cancelled,
      moved,
    } = JSON.parse(String(event.data)) as {
      open: boolean;
      ended?: boolean;
      cancelled?: boolean;
      moved?: boolean;
    };
    if (cancelled || moved) {
      // Cancelled, this person taken off the meeting, or moved: the page itself says so, in its words.
      clearInterval(timer);
      events.close();
      if (moved) location.replace('/entry/waiting?moved=true');
      else location.reload();
      return;
    }
    if (isEnded) {
      // Ended before this person got in: no countdown, no room, only what is left to do.
      clearInterval(timer);
      events.close();
      closed.hidden = true;
      open.hidden = true;
      // Nor what only fits while waiting: the test's verdict, "wait here", the test to take again.
      for (const part of waiting.querySelectorAll<HTMLElement>('[data-verdict], [data-room-waiting]'))
        part.hidden = true;
      ended.hidden = false;
      announce.textContent = ended.querySelector('p')?.textContent?.trim() ?? '';
      return;
    }
    if (!isOpen) return;
    clearInterval(timer);
    events.close();
    if (open.hidden) {
      closed.hidden = true;
      open.hidden = false;
      announce.textContent = open.textContent?.trim() ?? '';
    }
    // The routine: once the room opens, the waiting room moves on to the meeting by itself.
    setTimeout(() => location.assign('/entry/meeting'), 1500);
  });
}
