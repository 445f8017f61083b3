// Plans, the user's plan and usage against its quota, buying and the user's contracts. Buying goes to Stripe's
// Checkout (POST /subscriptions/checkout, then back here with the session id, then buy with it); a server that
// takes no payments (409 payments_not_configured: trust mode) gets the payment's transaction id typed instead.
import { api, every } from './api.js';
import { confirmButton, errorBox, field, h, money, showError, toast, tokens, when } from './dom.js';
import { byModel, cost, costs, gauge, modelTable, replies, totals } from './usage.js';

const PENDING = 'kiroshi.checkout'; // {session, plan}: the Checkout Session this tab went to pay
const TRUSTED = 'kiroshi.payments'; // 'trust' once the server said it takes no payments
const DAY = 86400000;

export async function billingPage(context) {
  const current = h('section', { class: 'card', 'aria-labelledby': 'current-plan' });
  const usage = h('section', { class: 'card', 'aria-labelledby': 'usage' });
  const plans = h('div', { class: 'plans' });
  const contracts = h('tbody');
  const problem = errorBox();
  const choice = h('select', { name: 'plan_id', required: true });
  const transaction = field('Transaction id', { name: 'transaction_id', required: true, maxlength: 200, pattern: '[!-~]+' });
  const trustNote = h('p', { class: 'muted note' }, 'This server takes no payments (trust mode): a purchase records the transaction id you give.');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Buy plan');
  const planField = h('label', { class: 'field' }, h('span', null, 'Plan'), choice);
  const buy = h('form', { class: 'row buy', onsubmit: purchase }, planField, transaction, button);
  const page = h(
    'div',
    { class: 'page' },
    h('h1', null, 'Plans & usage'),
    current,
    usage,
    h('section', { class: 'card' }, h('h2', null, 'Plans on sale'), plans, h('h3', null, 'Buy a plan'), buy, trustNote, problem),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'contracts' },
      h('h2', { id: 'contracts' }, 'Your contracts'),
      h(
        'table',
        null,
        h('thead', null, h('tr', null, ...['Plan', 'Period', 'Price', 'Status', 'Refunded', ''].map((c) => h('th', { scope: 'col' }, c)))),
        contracts,
      ),
    ),
  );
  page.dataset.title = 'Plans & usage';

  /** Show the transaction id field (trust mode) or not (Stripe's Checkout, or not known yet). */
  function trusted(yes) {
    transaction.hidden = trustNote.hidden = !yes;
    transaction.querySelector('input').disabled = !yes; // a hidden field must not block the form
  }

  async function purchase(event) {
    event.preventDefault();
    problem.hidden = true;
    button.disabled = true;
    let leaving = false;
    try {
      if (transaction.hidden) {
        leaving = await checkout(choice.value);
        if (leaving) {
          addEventListener('pageshow', () => (button.disabled = false), { once: true }); // back from Stripe (bfcache)
        } else {
          trusted(true);
          transaction.querySelector('input').focus();
        }
        return;
      }
      const { contract } = await api('POST', '/subscriptions/buy', {
        plan_id: choice.value,
        transaction_id: buy.elements.transaction_id.value.trim(),
      });
      toast(`Subscription bought: ${contract.plan_title}.`);
      buy.elements.transaction_id.value = newTransactionId();
      await refresh();
    } catch (error) {
      showError(problem, error);
    } finally {
      button.disabled = leaving; // on the way to Stripe: no second session
    }
  }

  /** Back from Stripe's Checkout (`?checkout=success&session_id=...`): buy with the session this tab paid (refresh shows it). */
  async function returned() {
    const query = new URLSearchParams(location.search);
    const outcome = query.get('checkout');
    if (!outcome) return;
    history.replaceState(null, '', `${location.pathname}#/plans`); // a reload does not come back here
    const pending = readPending();
    sessionStorage.removeItem(PENDING);
    const sessionId = query.get('session_id');
    if (outcome !== 'success' || !sessionId) {
      toast('Checkout cancelled: nothing was bought.');
    } else if (pending?.session !== sessionId) {
      toast('Back from Stripe: the contract appears here once Stripe confirms the payment.'); // the webhook buys it
    } else {
      try {
        const { contract } = await api('POST', '/subscriptions/buy', { plan_id: pending.plan, transaction_id: sessionId });
        toast(`Subscription bought: ${contract.plan_title}.`);
      } catch (error) {
        showError(problem, error);
      }
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
    button.disabled = !active.length;
    contracts.replaceChildren(...own.contracts.map((contract) => contractRow(contract, refresh)));
    if (!own.contracts.length) contracts.append(h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'None yet.')));
    const subscription = me.metadata.subscription;
    let plan = subscription ? onSale.find((p) => p.plan_id === subscription.plan_id) : null;
    if (subscription && !plan) plan = await api('GET', `/subscriptions/plans/${subscription.plan_id}`).catch(() => null);
    const contract = subscription ? own.contracts.find((c) => c.contract_id === subscription.contract_id) : null;
    await Promise.all([drawCurrent(current, subscription, plan), drawUsage(usage, context.me.user_id, plan, contract)]);
  }

  trusted(sessionStorage.getItem(TRUSTED) === 'trust');
  buy.elements.transaction_id.value = newTransactionId();
  await returned();
  await refresh();
  return page;
}

/** Go to Stripe's Checkout for the plan: true when on the way there, false when the server takes no payments. */
async function checkout(planId) {
  const back = `${location.origin}${location.pathname}`; // the console's page; `{CHECKOUT_SESSION_ID}` is Stripe's to fill
  try {
    const session = await api('POST', '/subscriptions/checkout', {
      plan_id: planId,
      success_url: `${back}?checkout=success&session_id={CHECKOUT_SESSION_ID}#/plans`,
      cancel_url: `${back}?checkout=cancelled#/plans`,
    });
    sessionStorage.setItem(PENDING, JSON.stringify({ session: session.session_id, plan: planId }));
    location.assign(session.url);
    return true;
  } catch (error) {
    if (error.code !== 'payments_not_configured') throw error;
    sessionStorage.setItem(TRUSTED, 'trust');
    return false;
  }
}

function readPending() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  } catch {
    return null;
  }
}

async function drawCurrent(section, subscription, plan) {
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
      plan?.cost_quota != null ? [h('dt', null, 'Money quota'), h('dd', null, `${money(plan.cost_quota, plan.currency)} per period`)] : null,
      h('dt', null, 'Models'),
      h('dd', null, models.data.map((m) => m.id).join(', ') || '—'),
    ),
  );
}

/**
 * What the user spent against the quota: with a plan, since its contract began (the quota is per contract
 * period); on the free tier, this calendar month (the server's default range).
 */
async function drawUsage(section, userId, plan, contract) {
  const query = new URLSearchParams();
  if (contract) {
    const earliest = new Date(Date.now() - 364 * DAY).toISOString().slice(0, 10); // a range holds at most 366 days
    const start = new Date(contract.starts_at).toISOString().slice(0, 10);
    query.set('from', start > earliest ? start : earliest);
  }
  let answer;
  try {
    answer = await api('GET', `/users/${userId}/usage${query.toString() ? `?${query}` : ''}`);
  } catch (error) {
    section.replaceChildren(h('h2', { id: 'usage' }, 'Usage'), h('p', { class: 'error' }, error.message));
    return;
  }
  const sums = byModel(answer.usage);
  const all = totals(sums);
  const currency = plan?.currency ?? sums[0]?.currency ?? 'USD';
  const spent = all.costs.get(currency) ?? '0';
  const free = plan ? null : h('p', { class: 'muted' }, 'The free tier’s token quota applies, per calendar month.');
  section.replaceChildren(
    h('h2', { id: 'usage' }, plan ? 'Usage this period' : 'Usage this month'),
    h('p', { class: 'muted' }, `${answer.from} – ${answer.to} (UTC days) · ${replies(all.replies)} · ${costs(all.costs, currency)}`),
    h(
      'div',
      { class: 'gauges' },
      gauge('Tokens', all.tokens, plan ? plan.token_quota : null, tokens),
      plan?.cost_quota != null ? gauge('Money', spent, plan.cost_quota, (v) => cost(v, currency)) : null,
    ),
    ...(free ? [free] : []),
    modelTable(sums),
  );
}

function planCard(plan) {
  const quota = `${tokens(plan.token_quota)} tokens${plan.cost_quota != null ? ` (or ${money(plan.cost_quota, plan.currency)})` : ''}`;
  return h(
    'article',
    { class: 'plan' },
    h('h3', null, plan.title),
    h('p', { class: 'price' }, money(plan.price, plan.currency), h('span', { class: 'muted' }, ` / ${plan.duration} days`)),
    plan.description ? h('p', null, plan.description) : null,
    h('p', { class: 'muted' }, `${quota} · ${plan.models ? plan.models.join(', ') : 'every model'}`),
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
