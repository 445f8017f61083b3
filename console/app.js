// The Kiroshi console: a hash-routed page per task; every request goes through api.js, every chat through session.js.
import { adminPage } from './admin.js';
import { api, auth } from './api.js';
import { billingPage } from './billing.js';
import { chatsPage } from './chat.js';
import { errorBox, field, formValues, h, showError, toast } from './dom.js';

const view = document.getElementById('view');
const topbar = document.getElementById('topbar');
let me = null; // GET /auth of the signed-in user
let cleanup = null;
let rendering = 0;
let notice = '';

auth.onUnauthorized(() => {
  auth.clear();
  me = null;
  go('#/login', 'Your session has ended: log in again.');
});

function go(hash, message = '') {
  notice = message;
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  const turn = ++rendering;
  cleanup?.();
  cleanup = null;
  const [, page = '', arg = ''] = location.hash.split('/');
  if (!auth.get()) {
    me = null;
    topbar.hidden = true;
    show(page === 'signup' ? signupPage() : loginPage());
    return;
  }
  try {
    me ??= await api('GET', '/auth');
    const context = { me, go, refreshMe, onLeave: (fn) => (cleanup = fn) };
    const pages = { plans: billingPage, admin: me.metadata.role === 'admin' ? adminPage : null };
    // Ids go into API paths: anything but an id's characters (a `..%2F` say) names no chat.
    const id = /^[A-Za-z0-9_-]{1,64}$/.test(arg) ? arg : '';
    const content = await (pages[page] ?? chatsPage)(context, id);
    if (turn !== rendering) return content.leave?.();
    drawTopbar(page);
    show(content);
  } catch (error) {
    if (turn === rendering && auth.get()) show(h('p', { class: 'error', role: 'alert' }, error.message));
  }
}

async function refreshMe() {
  me = await api('GET', '/auth');
  return me;
}

function show(content) {
  view.replaceChildren(content);
  document.title = `${content.dataset?.title ?? 'Console'} · Kiroshi`;
  if (notice) toast(notice);
  notice = '';
}

function drawTopbar(page) {
  const link = (hash, label) =>
    h('a', { href: hash, 'aria-current': hash === `#/${page || 'chats'}` ? 'page' : null }, label);
  const logout = h('button', { type: 'button', class: 'quiet', onclick: logOut }, 'Log out');
  topbar.replaceChildren(
    h('a', { href: '#/chats', class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'K'), 'Kiroshi'),
    h(
      'nav',
      { 'aria-label': 'Console' },
      link('#/chats', 'Chats'),
      link('#/plans', 'Plans & usage'),
      me.metadata.role === 'admin' ? link('#/admin', 'Admin') : null,
    ),
    h('span', { class: 'who' }, me.nickname, me.metadata.role === 'admin' ? h('span', { class: 'badge' }, 'admin') : null),
    logout,
  );
  topbar.hidden = false;
}

async function logOut() {
  const session = auth.get();
  if (session) await api('POST', `/users/${session.userId}/logout`).catch(() => {});
  auth.clear();
  me = null;
  go('#/login', 'Logged out.');
}

function loginPage(email = '') {
  const problem = errorBox();
  const form = h(
    'form',
    { class: 'stack', onsubmit: submit },
    field('Email', { type: 'email', autocomplete: 'username', required: true, value: email || null }),
    field('Password', { type: 'password', autocomplete: 'current-password', required: true }),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  );
  async function submit(event) {
    event.preventDefault();
    form.querySelector('button').disabled = true;
    try {
      auth.set(await api('POST', '/users/login', formValues(form)));
      go(/^#\/(chats|plans)/.test(location.hash) ? location.hash : '#/chats'); // plans: back from a checkout
    } catch (error) {
      showError(problem, error);
    } finally {
      form.querySelector('button').disabled = false;
    }
  }
  return authCard('Log in', 'Welcome back', form, h('p', null, 'New here? ', h('a', { href: '#/signup' }, 'Sign up')));
}

function signupPage() {
  const problem = errorBox();
  const form = h(
    'form',
    { class: 'stack', onsubmit: submit },
    field('Email', { type: 'email', autocomplete: 'email', required: true }),
    h(
      'div',
      { class: 'row' },
      field('Name', { autocomplete: 'given-name', required: true, maxlength: 64 }),
      field('Surname', { autocomplete: 'family-name', required: true, maxlength: 64 }),
    ),
    field('Nickname', { autocomplete: 'nickname', required: true, maxlength: 64 }),
    field('Password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128 }),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Create account'),
  );
  async function submit(event) {
    event.preventDefault();
    form.querySelector('button').disabled = true;
    try {
      const values = formValues(form);
      await api('POST', '/users/register', values);
      notice = 'Account created: log in.';
      history.replaceState(null, '', '#/login');
      show(loginPage(values.email));
    } catch (error) {
      showError(problem, error);
    } finally {
      form.querySelector('button').disabled = false;
    }
  }
  return authCard('Sign up', 'Create your account', form, h('p', null, 'Have an account? ', h('a', { href: '#/login' }, 'Log in instead')));
}

function authCard(title, heading, form, footer) {
  const card = h(
    'section',
    { class: 'card auth' },
    h('div', { class: 'brand big' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'K'), 'Kiroshi'),
    h('h1', null, heading),
    form,
    footer,
  );
  card.dataset.title = title;
  return card;
}

addEventListener('hashchange', render);
// Back from Stripe's Checkout at the server's default return URL (`/?checkout=...`, no page named): the plans page.
if (new URLSearchParams(location.search).has('checkout') && !location.hash) history.replaceState(null, '', '#/plans');
render();
