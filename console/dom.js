// Building DOM without HTML strings: text always goes in as text nodes, never parsed.

/** `h('button', {type: 'button', onclick}, 'Send')`: an element, its attributes and listeners, its children. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A labelled form field: `<label>Email <input name=email></label>`, so that its accessible name is `label`. */
export function field(label, props = {}, tag = 'input') {
  const control = h(tag, { name: props.name ?? label.toLowerCase(), ...props });
  return h('label', { class: 'field' }, h('span', null, label), control);
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

/** Briefly say something in the page's polite live region. */
export function toast(text) {
  const region = document.getElementById('toast');
  region.textContent = text;
  region.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => region.classList.remove('shown'), 3500);
}

export function errorBox() {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

export function showError(box, error) {
  box.textContent = error?.message ?? String(error);
  box.hidden = false;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

export function money(price, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(price);
  } catch {
    return `${price} ${currency}`;
  }
}

export function tokens(count) {
  return count === null || count === undefined ? 'unlimited' : new Intl.NumberFormat().format(count);
}

/** A button that asks once more before it acts: "Delete" becomes "Confirm delete" for a few seconds. */
export function confirmButton(label, accessibleName, act) {
  const button = h('button', { type: 'button', class: 'quiet danger', 'aria-label': accessibleName }, label);
  let armed = null;
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = `Confirm ${label.toLowerCase()}`;
      button.setAttribute('aria-label', `Confirm ${accessibleName.toLowerCase()}`);
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.setAttribute('aria-label', accessibleName);
      }, 4000);
      return;
    }
    clearTimeout(armed);
    button.disabled = true;
    try {
      await act();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
