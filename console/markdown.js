// Model output becomes HTML only here: Markdown rendered by marked, then sanitised by DOMPurify, whose Trusted
// Types policy is the only one the page's CSP allows (`require-trusted-types-for 'script'`).
import { marked } from './marked.esm.js';
import './purify.min.js';

const purify = globalThis.DOMPurify;
const OPTIONS = {
  RETURN_TRUSTED_TYPE: true,
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'video', 'audio', 'svg'],
  FORBID_ATTR: ['style', 'class', 'id', 'srcset'],
};

purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

marked.use({ gfm: true, breaks: true });

/** Put `text`, as sanitised Markdown, inside `element`. */
export function renderMarkdown(element, text) {
  element.innerHTML = purify.sanitize(marked.parse(text), OPTIONS);
}
