// Usage (GET /users/{user_id}/usage, GET /usage): tokens and exact cost of replies, summed by model. Costs are
// decimal strings ("0.0000195") and are summed as decimals, never as floats.
import { h, tokens } from './dom.js';

/** The exact sum of two non-negative decimal strings. */
export function addDecimal(a, b) {
  const [ai, af = ''] = String(a).split('.');
  const [bi, bf = ''] = String(b).split('.');
  const scale = Math.max(af.length, bf.length);
  const sum = BigInt(ai + af.padEnd(scale, '0')) + BigInt(bi + bf.padEnd(scale, '0'));
  const digits = sum.toString().padStart(scale + 1, '0');
  return scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
}

/** A cost as money, down to millionths (a reply often costs a fraction of a cent). */
export function cost(value, currency) {
  try {
    const format = { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 6 };
    return new Intl.NumberFormat(undefined, format).format(Number(value));
  } catch {
    return `${value} ${currency}`;
  }
}

/** Usage rows (by day and model) summed by model, most tokens first. */
export function byModel(rows) {
  const models = new Map();
  for (const row of rows) {
    const key = `${row.model} ${row.currency}`;
    const sum = models.get(key) ?? { model: row.model, currency: row.currency, prompt: 0, completion: 0, replies: 0, cost: '0' };
    sum.prompt += row.prompt_tokens;
    sum.completion += row.completion_tokens;
    sum.replies += row.replies;
    sum.cost = addDecimal(sum.cost, row.cost);
    models.set(key, sum);
  }
  return [...models.values()].sort((a, b) => b.prompt + b.completion - a.prompt - a.completion);
}

export function replies(count) {
  return `${tokens(count)} ${count === 1 ? 'reply' : 'replies'}`;
}

/** Totals of `byModel` sums: {tokens, replies, costs: Map(currency → decimal string)}. */
export function totals(sums) {
  const costs = new Map();
  let count = 0;
  let replies = 0;
  for (const sum of sums) {
    count += sum.prompt + sum.completion;
    replies += sum.replies;
    costs.set(sum.currency, addDecimal(costs.get(sum.currency) ?? '0', sum.cost));
  }
  return { tokens: count, replies, costs };
}

/** The costs of `totals`, each in its currency ("$0.0012"); none: zero in `currency`. */
export function costs(map, currency = 'USD') {
  return [...map].map(([code, value]) => cost(value, code)).join(' + ') || cost(0, currency);
}

/** A compact table; `heads` name the columns, `rows` are arrays of cells. */
export function table(label, heads, rows, empty) {
  const body = h('tbody', null, rows.map((cells) => h('tr', null, cells.map((cell) => h('td', null, cell)))));
  if (!rows.length) body.append(h('tr', null, h('td', { colspan: heads.length, class: 'muted' }, empty)));
  return h(
    'table',
    { class: 'compact', 'aria-label': label },
    h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
}

export function modelTable(sums) {
  const rows = sums.map((s) => [s.model, tokens(s.replies), tokens(s.prompt), tokens(s.completion), cost(s.cost, s.currency)]);
  return table('Usage by model', ['Model', 'Replies', 'Prompt tokens', 'Completion tokens', 'Cost'], rows, 'No replies yet.');
}

/** "used of quota" with a meter named `label`; without a quota, only what was used. */
export function gauge(label, used, quota, show) {
  const limited = quota !== null && quota !== undefined;
  return h(
    'div',
    { class: 'gauge' },
    h('span', null, label),
    limited
      ? h('meter', { min: 0, max: quota, low: quota * 0.8, high: quota * 0.95, optimum: 0, 'aria-label': `${label} used`, value: Math.min(Number(used), quota) })
      : null,
    h('span', { class: 'muted' }, limited ? `${show(used)} of ${show(quota)}` : `${show(used)} used`),
  );
}
