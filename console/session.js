// The chat session as the protocol wants it (docs/API.md, Chats): a one-time ticket per connection, never
// the JWT in a URL; resume after a drop or a reload with `session_token` and `last_index`; 4401 ends it.
import { api, auth } from './api.js';

const REVOKED = 4401;
const stateKey = (chatId) => `kiroshi.session.${chatId}`;

/**
 * The reply in progress, kept in sessionStorage so that a reload resumes it: `question` (the user's message,
 * not stored by the server until the turn ends), `text` (every delta up to `lastIndex`, never more or less),
 * `stored` (how many messages the chat had when it was sent: more later means the turn was stored).
 */
export function savedReply(chatId) {
  try {
    return JSON.parse(sessionStorage.getItem(stateKey(chatId)) ?? 'null');
  } catch {
    return null;
  }
}

export class ChatSession {
  /** `on`: {delta(reply), end(frame), error(frame), state(open: boolean)}. */
  constructor(userId, chatId, on) {
    this.userId = userId;
    this.chatId = chatId;
    this.on = on;
    this.reply = savedReply(chatId);
    this.socket = null;
    this.closed = false;
    this.retries = 0;
    this.saving = 0;
    this.persist = () => this.save();
    addEventListener('pagehide', this.persist);
  }

  get replying() {
    return this.reply !== null;
  }

  /** Open the socket (once at a time); with a reply in progress, resume it from the last delta shown. */
  connect() {
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async open() {
    const { ticket } = await api('POST', `/chats/${this.userId}/${this.chatId}/ticket`);
    if (this.closed) return;
    const query = new URLSearchParams({ auth_token: ticket });
    if (this.reply?.token) {
      query.set('session_token', this.reply.token);
      query.set('last_index', String(this.reply.lastIndex));
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/chats/${this.userId}/${this.chatId}/session?${query}`);
    this.socket = socket;
    this.ready = new Promise((resolve) => {
      socket.addEventListener('message', (event) => this.receive(JSON.parse(event.data), resolve));
    });
    socket.addEventListener('close', (event) => this.dropped(socket, event.code));
  }

  receive(frame, ready) {
    switch (frame.type) {
      case 'session':
        this.token = frame.session_token;
        if (this.reply) this.reply.token = frame.session_token;
        this.retries = 0;
        this.on.state(true);
        ready();
        return;
      case 'delta':
        if (!this.reply || frame.index <= this.reply.lastIndex) return; // already shown: never twice
        this.reply.text += frame.content;
        this.reply.lastIndex = frame.index;
        this.scheduleSave();
        this.on.delta(this.reply);
        return;
      case 'done':
        this.finish();
        this.on.end(frame);
        return;
      case 'error':
        if (this.reply && frame.code !== 'nothing_to_stop') this.finish();
        this.on.error(frame);
        return;
      default:
    }
  }

  async send(content, stored) {
    if (this.connecting) await this.connecting;
    if (!this.socket || this.socket.readyState > WebSocket.OPEN) await this.connect();
    await this.ready;
    this.reply = { question: content, text: '', lastIndex: -1, token: this.token, stored };
    this.save();
    this.socket.send(JSON.stringify({ type: 'message', content }));
  }

  stop() {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'stop' }));
  }

  /** The reply ended, or turned out to be stored already (`stored` grew while the page was away). */
  finish() {
    this.reply = null;
    sessionStorage.removeItem(stateKey(this.chatId));
  }

  scheduleSave() {
    if (!this.saving) this.saving = requestAnimationFrame(this.persist);
  }

  save() {
    this.saving = 0;
    if (this.reply) sessionStorage.setItem(stateKey(this.chatId), JSON.stringify(this.reply));
  }

  dropped(socket, code) {
    if (socket !== this.socket) return;
    this.on.state(false);
    if (code === REVOKED) {
      this.close();
      auth.expired();
      return;
    }
    if (this.closed || !this.reply) return; // idle: the next message reconnects
    // Reconnect (resuming a reply in progress), sooner at first, then at most every 10 s.
    const wait = Math.min(10000, 300 * 2 ** this.retries++);
    setTimeout(() => this.closed || this.connect().catch(() => this.dropped(socket, 1006)), wait);
  }

  close() {
    this.save();
    this.closed = true;
    removeEventListener('pagehide', this.persist);
    cancelAnimationFrame(this.saving);
    this.socket?.close(1000);
  }
}
