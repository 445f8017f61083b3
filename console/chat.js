// Chats: the list (newest first, rename, delete), a chat's messages, and its reply streaming in, drawn once per
// animation frame however fast the deltas come.
import { api } from './api.js';
import { confirmButton, errorBox, h, showError, toast, when } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { ChatSession, savedReply } from './session.js';

const STALL_MS = 3000; // no frame for this long while resuming: ask the server whether the turn is stored

export async function chatsPage(context, chatId) {
  const userId = context.me.user_id;
  const list = h('ul', { class: 'chat-list' });
  const models = h('select', { name: 'model' });
  const newChat = h(
    'form',
    { class: 'new-chat', onsubmit: create },
    h('label', { class: 'field compact' }, h('span', null, 'Model'), models),
    h('button', { type: 'submit', class: 'primary' }, 'New chat'),
  );
  const pane = h('section', { class: 'chat-pane' });
  const page = h(
    'div',
    { class: 'chat-layout' },
    h('aside', { class: 'sidebar' }, newChat, h('nav', { 'aria-label': 'Chats' }, list)),
    pane,
  );
  page.dataset.title = 'Chats';

  async function create(event) {
    event.preventDefault();
    try {
      const { chat_id: id } = await api('POST', `/chats/${userId}`, { model: models.value });
      context.go(`#/chats/${id}`);
    } catch (error) {
      toast(error.message);
    }
  }

  async function drawList() {
    const { chats } = await api('GET', `/chats/${userId}?limit=100`);
    list.replaceChildren(...chats.map((chat) => chatItem(chat)));
    if (!chats.length) list.append(h('li', { class: 'muted' }, 'No chats yet.'));
    return chats;
  }

  function chatItem(chat) {
    const title = chat.title || 'Untitled chat';
    const item = h('li', { class: chat.chat_id === chatId ? 'current' : null });
    const link = h(
      'a',
      { href: `#/chats/${chat.chat_id}`, 'aria-current': chat.chat_id === chatId ? 'page' : null },
      h('span', { class: 'title' }, title),
      h('span', { class: 'sub' }, `${chat.model} · ${chat.message_count} messages`),
    );
    const rename = h('button', { type: 'button', class: 'quiet icon', 'aria-label': `Rename ${title}`, title: 'Rename' }, '✎');
    const remove = confirmButton('Delete', `Delete ${title}`, async () => {
      await api('DELETE', `/chats/${userId}/${chat.chat_id}`);
      toast('Chat deleted.');
      if (chat.chat_id === chatId) context.go('#/chats');
      else drawList();
    });
    rename.addEventListener('click', () => {
      const input = h('input', { name: 'title', value: chat.title, maxlength: 200, required: true, 'aria-label': 'Chat title' });
      const form = h(
        'form',
        { class: 'rename', onsubmit: save },
        input,
        h('button', { type: 'submit', class: 'quiet' }, 'Save'),
        h('button', { type: 'button', class: 'quiet', onclick: () => drawList() }, 'Cancel'),
      );
      async function save(event) {
        event.preventDefault();
        try {
          await api('PATCH', `/chats/${userId}/${chat.chat_id}`, { title: input.value.trim() });
          await drawList();
          if (chat.chat_id === chatId) pane.querySelector('h1').textContent = input.value.trim();
        } catch (error) {
          toast(error.message);
        }
      }
      item.replaceChildren(form);
      input.focus();
    });
    item.append(link, h('span', { class: 'actions' }, rename, remove));
    return item;
  }

  const [chats, available] = await Promise.all([drawList(), api('GET', '/v1/models').catch(() => ({ data: [] }))]);
  models.replaceChildren(...available.data.map((model) => h('option', { value: model.id }, model.id)));
  if (!available.data.length) newChat.querySelector('button').disabled = true;
  if (!chatId) {
    pane.append(emptyState(chats.length));
    return page;
  }
  const chat = await api('GET', `/chats/${userId}/${chatId}`);
  const view = chatView(userId, chat, drawList);
  pane.append(view.element);
  context.onLeave(view.leave);
  page.leave = view.leave;
  page.dataset.title = chat.title || 'New chat';
  return page;
}

function emptyState(count) {
  return h(
    'div',
    { class: 'empty' },
    h('h1', null, count ? 'Pick a chat' : 'Start a conversation'),
    h('p', null, 'Choose a model and press New chat. Replies stream in as the model writes them; Stop ends one early.'),
  );
}

function chatView(userId, chat, drawList) {
  const messages = h('ol', { class: 'messages' });
  const input = h('textarea', { name: 'message', rows: 3, 'aria-label': 'Message', placeholder: 'Message (Enter sends, Shift+Enter: new line)', required: true });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const stop = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Stop');
  const problem = errorBox();
  const status = h('p', { class: 'status muted', role: 'status' });
  const form = h('form', { class: 'composer', onsubmit: submit }, input, h('div', { class: 'buttons' }, stop, send));
  const element = h(
    'div',
    { class: 'chat' },
    h('header', { class: 'chat-head' }, h('h1', null, chat.title || 'New chat'), h('span', { class: 'badge' }, chat.model)),
    messages,
    problem,
    status,
    form,
  );
  let history = chat.messages;
  let stored = history.length;
  let live = null; // the assistant bubble being streamed into
  let frame = 0;
  let lastFrameAt = Date.now();

  const saved = savedReply(chat.chat_id);
  if (saved && stored > saved.stored) sessionStorage.removeItem(`kiroshi.session.${chat.chat_id}`); // stored since
  const session = new ChatSession(userId, chat.chat_id, {
    delta() {
      lastFrameAt = Date.now();
      frame ||= requestAnimationFrame(draw);
    },
    end() {
      settle();
    },
    error(error) {
      showError(problem, { message: `${error.message} (${error.code})` });
      if (!session.replying) settle();
    },
    state(open) {
      lastFrameAt = Date.now();
      status.textContent = open || !session.replying ? '' : 'Reconnecting…';
    },
  });

  function draw() {
    frame = 0;
    if (live && session.reply) {
      renderMarkdown(live.body, session.reply.text);
      live.scrollIntoView({ block: 'end' });
    }
  }

  function drawMessages(list) {
    messages.replaceChildren(...list.map((message) => bubble(message)));
    if (session.reply) {
      messages.append(bubble({ role: 'user', content: session.reply.question, status: 'complete' }));
      live = bubble({ role: 'assistant', content: session.reply.text, status: 'streaming' });
      messages.append(live);
    } else {
      live = null;
    }
    replying(session.replying);
    messages.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  function replying(on) {
    send.disabled = on;
    stop.disabled = !on;
    element.classList.toggle('replying', on);
  }

  /** The reply ended: show the turn as the server stored it. */
  async function settle() {
    cancelAnimationFrame(frame);
    frame = 0;
    const fresh = await api('GET', `/chats/${userId}/${chat.chat_id}`);
    history = fresh.messages;
    stored = history.length;
    element.querySelector('h1').textContent = fresh.title || 'New chat';
    drawMessages(fresh.messages);
    drawList();
  }

  async function submit(event) {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || session.replying) return;
    problem.hidden = true;
    replying(true);
    try {
      await session.send(content, stored);
      input.value = '';
      lastFrameAt = Date.now();
      drawMessages(history);
    } catch (error) {
      showError(problem, error);
      replying(false);
    }
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener('click', () => session.stop());

  // A resumed reply whose end this page missed (the server forgot it): the stored turn says it is over.
  const watchdog = setInterval(async () => {
    if (!session.replying || Date.now() - lastFrameAt < STALL_MS) return;
    lastFrameAt = Date.now();
    const fresh = await api('GET', `/chats/${userId}/${chat.chat_id}`).catch(() => null);
    if (fresh && session.replying && fresh.messages.length > session.reply.stored) {
      session.finish();
      settle();
    }
  }, 1000);

  drawMessages(chat.messages);
  session.connect().catch((error) => showError(problem, error));
  queueMicrotask(() => input.focus());
  return {
    element,
    leave() {
      clearInterval(watchdog);
      cancelAnimationFrame(frame);
      session.close();
    },
  };
}

function bubble(message) {
  const body = h('div', { class: 'body' });
  if (message.role === 'assistant') renderMarkdown(body, message.content);
  else body.textContent = message.content;
  const meta = [];
  if (message.status === 'stopped') meta.push('stopped');
  if (message.status === 'error') meta.push('failed');
  if (message.usage) meta.push(`${message.usage.prompt_tokens + message.usage.completion_tokens} tokens`);
  if (message.created_at) meta.push(when(message.created_at));
  const item = h(
    'li',
    { class: `message ${message.role} ${message.status}` },
    h('span', { class: 'visually-hidden' }, message.role === 'user' ? 'You:' : 'Assistant:'),
    body,
    meta.length ? h('span', { class: 'meta' }, meta.join(' · ')) : null,
  );
  item.body = body;
  return item;
}
