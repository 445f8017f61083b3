// Plans, the user's plan and quota, buying (trust mode: the payment's transaction id) and the user's contracts.
import { api, every } from './api.js';
import { confirmButton, errorBox, field, h, money, showError, toast, tokens, when } from './dom.js';

export async function billingPage(context) {
  const current = h('section', { class: 'card', 'aria-labelledby': 'current-plan' });
  const plans = h('div', { class: 'plans' });
  const contracts = h('tbody');
  const problem = errorBox();
  const choice = h('select', { name: 'plan_id', required: true });
  const buy = h(
    'form',
    { class: 'row buy', onsubmit: purchase },
    h('label', { class: 'field' }, h('span', null, 'Plan'), choice),
    field('Transaction id', { name: 'transaction_id', required: true, maxlength: 200, pattern: '[!-~]+' }),
    h('button', { type: 'submit', class: 'primary' }, 'Buy plan'),
  );
  const page = h(
    'div',
    { class: 'page' },
    h('h1', null, 'Plans & usage'),
    current,
    h('section', { class: 'card' }, h('h2', null, 'Plans on sale'), plans, h('h3', null, 'Buy a plan'), buy, problem),
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Your contracts'),
      h(
        'table',
        null,
        h('thead', null, h('tr', null, ...['Plan', 'Period', 'Price', 'Status', 'Refunded', ''].map((c) => h('th', { scope: 'col' }, c)))),
        contracts,
      ),
    ),
  );
  page.dataset.title = 'Plans & usage';

  async function purchase(event) {
    event.preventDefault();
    problem.hidden = true;
    try {
      const { contract } = await api('POST', '/subscriptions/buy', {
        plan_id: choice.value,
        transaction_id: buy.elements.transaction_id.value.trim(),
      });
      toast(`Subscription bought: ${contract.plan_title}.`);
      buy.elements.transaction_id.value = newTransactionId();
      await refresh();
    } catch (error) {
      showError(problem, error);
    }
  }

  async function refresh() {
    const [me, onSale, own] = await Promise.all([
      context.refreshMe(),
      every('/subscriptions/plans', 'plans'),
      api('GET', '/subscriptions/contracts?limit=100'),
    ]);
    const active = onSale.filter((plan) => plan.status === 'active');
    plans.replaceChildren(...active.map(planCard));
    if (!active.length) plans.append(h('p', { class: 'muted' }, 'No plan is on sale yet.'));
    choice.replaceChildren(...active.map((plan) => h('option', { value: plan.plan_id }, `${plan.title} — ${money(plan.price, plan.currency)}`)));
    buy.querySelector('button').disabled = !active.length;
    contracts.replaceChildren(...own.contracts.map((contract) => contractRow(contract, refresh)));
    if (!own.contracts.length) contracts.append(h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'None yet.')));
    await drawCurrent(current, me, onSale);
  }

  buy.elements.transaction_id.value = newTransactionId();
  await refresh();
  return page;
}

async function drawCurrent(section, me, plans) {
  const subscription = me.metadata.subscription;
  let plan = subscription ? plans.find((p) => p.plan_id === subscription.plan_id) : null;
  if (subscription && !plan) plan = await api('GET', `/subscriptions/plans/${subscription.plan_id}`).catch(() => null);
  const models = await api('GET', '/v1/models').catch(() => ({ data: [] }));
  section.replaceChildren(
    h('h2', { id: 'current-plan' }, 'Your plan'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Plan'),
      h('dd', null, plan ? plan.title : 'Free tier'),
      h('dt', null, 'Until'),
      h('dd', null, subscription ? when(subscription.ends_at) : '—'),
      h('dt', null, 'Token quota'),
      h('dd', null, plan ? `${tokens(plan.token_quota)} per period` : 'the free tier’s, per calendar month'),
      h('dt', null, 'Models'),
      h('dd', null, models.data.map((m) => m.id).join(', ') || '—'),
    ),
  );
}

function planCard(plan) {
  return h(
    'article',
    { class: 'plan' },
    h('h3', null, plan.title),
    h('p', { class: 'price' }, money(plan.price, plan.currency), h('span', { class: 'muted' }, ` / ${plan.duration} days`)),
    plan.description ? h('p', null, plan.description) : null,
    h('p', { class: 'muted' }, `${tokens(plan.token_quota)} tokens · ${plan.models ? plan.models.join(', ') : 'every model'}`),
  );
}

function contractRow(contract, refresh) {
  const live = contract.status === 'active' || contract.status === 'scheduled';
  const refund = live
    ? confirmButton('Refund', `Refund ${contract.plan_title}`, async () => {
        try {
          const { ex_contract: ended } = await api('POST', '/subscriptions/refund', { contract_id: contract.contract_id });
          toast(`Refunded ${money(ended.refund_amount, ended.currency)}.`);
          await refresh();
        } catch (error) {
          toast(error.message);
        }
      })
    : null;
  return h(
    'tr',
    null,
    h('td', null, contract.plan_title),
    h('td', null, `${when(contract.starts_at)} – ${when(contract.ends_at)}`),
    h('td', null, money(contract.price, contract.currency)),
    h('td', null, h('span', { class: `badge ${contract.status}` }, contract.status)),
    h('td', null, contract.refund_amount === null ? '—' : money(contract.refund_amount, contract.currency)),
    h('td', null, refund),
  );
}

function newTransactionId() {
  return `console-${crypto.randomUUID()}`;
}
