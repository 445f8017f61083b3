// Admins: plans (create, edit, archive), this month's usage over every user, and the users list.
import { api, every } from './api.js';
import { confirmButton, errorBox, field, h, money, showError, toast, tokens } from './dom.js';
import { byModel, cost, costs, modelTable, replies, table, totals } from './usage.js';

export async function adminPage() {
  const rows = h('tbody');
  const users = h('tbody');
  const usage = h('section', { class: 'card', 'aria-labelledby': 'all-usage' });
  const nicknames = new Map();
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More users');
  const problem = errorBox();
  const legend = h('legend', null, 'New plan');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create plan');
  const cancel = h('button', { type: 'button', class: 'quiet', hidden: true, onclick: () => edit(null) }, 'Cancel edit');
  const form = h(
    'form',
    { class: 'stack', onsubmit: save },
    h(
      'fieldset',
      null,
      legend,
      h('div', { class: 'row' }, field('Title', { required: true, maxlength: 120 }), field('Price', { type: 'number', min: 0, step: 'any', required: true })),
      h(
        'div',
        { class: 'row' },
        field('Currency', { value: 'USD', maxlength: 3, required: true }),
        field('Duration (days)', { name: 'duration', type: 'number', min: 1, max: 3660, value: 30, required: true }),
        field('Token quota', { name: 'token_quota', type: 'number', min: 0, placeholder: 'unlimited' }),
        field('Money quota', { name: 'cost_quota', type: 'number', min: 0, step: 'any', placeholder: 'none' }),
      ),
      field('Models', { placeholder: 'every configured model; or comma-separated names' }),
      field('Description', { rows: 2, maxlength: 2000 }, 'textarea'),
      problem,
      h('div', { class: 'buttons' }, cancel, submit),
    ),
  );
  let editing = null;
  let cursor = null;

  function edit(plan) {
    editing = plan;
    form.reset();
    legend.textContent = plan ? `Edit ${plan.title}` : 'New plan';
    submit.textContent = plan ? 'Save plan' : 'Create plan';
    cancel.hidden = !plan;
    problem.hidden = true;
    if (!plan) return;
    const values = { ...plan, models: plan.models ? plan.models.join(', ') : '', token_quota: plan.token_quota ?? '', cost_quota: plan.cost_quota ?? '' };
    for (const name of ['title', 'price', 'currency', 'duration', 'token_quota', 'cost_quota', 'models', 'description']) {
      form.elements[name].value = values[name];
    }
    form.scrollIntoView({ block: 'start' });
  }

  async function save(event) {
    event.preventDefault();
    const value = (name) => form.elements[name].value.trim();
    const body = {
      title: value('title'),
      price: Number(value('price')),
      currency: value('currency').toUpperCase(),
      duration: Number(value('duration')),
      token_quota: value('token_quota') === '' ? null : Number(value('token_quota')),
      cost_quota: value('cost_quota') === '' ? null : Number(value('cost_quota')),
      models: value('models') === '' ? null : value('models').split(',').map((m) => m.trim()).filter(Boolean),
      description: value('description'),
    };
    try {
      const answer = editing
        ? await api('PATCH', `/subscriptions/plans/${editing.plan_id}`, body)
        : await api('POST', '/subscriptions/plans', body);
      toast(`${answer.message}: ${answer.plan.title}.`);
      edit(null);
      await drawPlans();
    } catch (error) {
      showError(problem, error);
    }
  }

  async function drawPlans() {
    const plans = await every('/subscriptions/plans', 'plans');
    rows.replaceChildren(
      ...plans.map((plan) =>
        h(
          'tr',
          null,
          h('td', null, plan.title),
          h('td', null, money(plan.price, plan.currency)),
          h('td', null, `${plan.duration} d`),
          h('td', null, tokens(plan.token_quota), plan.cost_quota != null ? ` · ${money(plan.cost_quota, plan.currency)}` : null),
          h('td', null, plan.models ? plan.models.join(', ') : 'all'),
          h('td', null, h('span', { class: `badge ${plan.status}` }, plan.status)),
          h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', class: 'quiet', 'aria-label': `Edit ${plan.title}`, onclick: () => edit(plan) }, 'Edit'),
            plan.status === 'active'
              ? confirmButton('Archive', `Archive ${plan.title}`, async () => {
                  const answer = await api('DELETE', `/subscriptions/plans/${plan.plan_id}`).catch((e) => toast(e.message));
                  if (answer) toast(`${answer.message}: ${plan.title}.`);
                  await drawPlans();
                })
              : null,
          ),
        ),
      ),
    );
    if (!plans.length) rows.append(h('tr', null, h('td', { colspan: 7, class: 'muted' }, 'No plans yet.')));
  }

  async function drawUsers() {
    const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
    const page = await api('GET', `/users?${query}`);
    for (const user of page.users) nicknames.set(user.user_id, user.nickname);
    users.append(
      ...page.users.map((user) =>
        h('tr', null, h('td', null, user.nickname), h('td', null, `${user.name} ${user.surname}`), h('td', null, user.email)),
      ),
    );
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  more.addEventListener('click', drawUsers);

  /** This month's replies over every user (GET /usage): totals, by model, and the costliest users. */
  async function drawUsage() {
    const heading = h('h2', { id: 'all-usage' }, 'Usage this month');
    try {
      const answer = await api('GET', '/usage');
      const sums = byModel(answer.usage);
      const all = totals(sums);
      const top = answer.users.slice(0, 10).map((u) => [
        nicknames.get(u.user_id) ?? u.user_id,
        tokens(u.prompt_tokens + u.completion_tokens),
        tokens(u.replies),
        cost(u.cost, u.currency),
      ]);
      usage.replaceChildren(
        heading,
        h('p', { class: 'muted' }, `${answer.from} – ${answer.to} (UTC days) · ${tokens(all.tokens)} tokens · ${replies(all.replies)} · ${costs(all.costs)}`),
        h('div', { class: 'row top' }, modelTable(sums), table('Costliest users', ['User', 'Tokens', 'Replies', 'Cost'], top, 'Nobody yet.')),
      );
    } catch (error) {
      usage.replaceChildren(heading, h('p', { class: 'error' }, error.message));
    }
  }

  await Promise.all([drawPlans(), drawUsers().then(drawUsage)]);
  const grid = (heads, body) =>
    h('table', null, h('thead', null, h('tr', null, ...heads.map((c) => h('th', { scope: 'col' }, c)))), body);
  const page = h(
    'div',
    { class: 'page' },
    h('h1', null, 'Admin'),
    h('section', { class: 'card' }, h('h2', null, 'Plans'), grid(['Title', 'Price', 'Duration', 'Quota', 'Models', 'Status', ''], rows), form),
    usage,
    h('section', { class: 'card' }, h('h2', null, 'Users'), grid(['Nickname', 'Full name', 'Email'], users), more),
  );
  page.dataset.title = 'Admin';
  return page;
}
