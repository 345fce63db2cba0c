// Behaviour shared by every dashboard page: the snippet's copy button, the
// install check of the site settings page, confirmation prompts on
// destructive forms and local-time titles on dates. Each part does nothing on
// a page without its elements.

import { relativeTime } from './time';

const POLL_INTERVAL_MS = 5000;
const COPIED_FOR_MS = 2000;

// copyText puts text on the clipboard. The asynchronous clipboard needs a
// secure context (https or localhost); elsewhere the old selection command
// still works from a click.
async function copyText(text: string, source: Element): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
  const ok = document.execCommand('copy');
  selection?.removeAllRanges();
  if (!ok) throw new Error('the browser refused to copy');
}

function setupCopyButton(): void {
  const button = document.getElementById('copy-snippet');
  const snippet = document.getElementById('snippet');
  if (!button || !snippet) return;
  const label = button.textContent;
  let timer = 0;
  button.addEventListener('click', () => {
    copyText(snippet.textContent || '', snippet).then(
      () => {
        button.textContent = 'Copied';
        button.dataset.state = 'copied';
      },
      (err: unknown) => {
        button.textContent = 'Copy failed';
        button.dataset.state = 'error';
        button.title = String(err instanceof Error ? err.message : err);
      },
    ).then(() => {
      clearTimeout(timer);
      timer = window.setTimeout(() => {
        button.textContent = label;
        delete button.dataset.state;
      }, COPIED_FOR_MS);
    });
  });
}

interface InstallStatus {
  last_event_at: string | null;
  sessions?: number;
}

// setupInstallStatus polls the site's status every few seconds so that a
// person pasting the snippet sees the first event arrive.
function setupInstallStatus(): void {
  const box = document.getElementById('install-status');
  const url = box?.dataset.url;
  if (!box || !url) return;
  box.setAttribute('aria-live', 'polite');

  const show = (state: string, text: string) => {
    box.dataset.state = state;
    box.textContent = text;
  };
  const poll = async () => {
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const status = (await res.json()) as InstallStatus;
      const at = status.last_event_at ? new Date(status.last_event_at) : null;
      if (!at || isNaN(at.getTime())) {
        show('waiting', 'Waiting for the first event…');
      } else {
        show('received', `Last event received ${relativeTime(at, new Date())}`);
        box.title = at.toLocaleString();
      }
    } catch (err) {
      show('error', `Could not check: ${err instanceof Error ? err.message : String(err)}`);
    }
    window.setTimeout(poll, POLL_INTERVAL_MS);
  };
  void poll();
}

function setupConfirmations(): void {
  document.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) ev.preventDefault();
  });
}

function setupTimes(): void {
  document.querySelectorAll<HTMLTimeElement>('time[datetime]').forEach((el) => {
    const at = new Date(el.dateTime);
    if (!isNaN(at.getTime())) el.title = at.toLocaleString();
  });
}

setupCopyButton();
setupInstallStatus();
setupConfirmations();
setupTimes();
