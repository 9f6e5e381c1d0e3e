// The script run in the page for a snapshot (plain JavaScript: the agent is compiled
// without DOM types, and Playwright sends it as text). It walks the document in order
// and returns its readable text (innerText, capped) and an outline: headings, plus
// every visible actionable element (links, buttons, form fields, ARIA widgets,
// contenteditable) with its role, accessible name, state and a ref. A ref is stamped on
// the element as data-legion-ref and kept for as long as the element lives, so a ref
// the model saw in an earlier snapshot of the same page still means the same element;
// new elements get the next number of the page's counter.
export const REF_ATTRIBUTE = 'data-legion-ref';

export interface SnapshotLine {
  role: string;
  name: string;
  ref: string | null;
  /** Heading level, field value, checked state, link target. */
  extra: string;
}

export interface PageSnapshot {
  text: string;
  textLength: number;
  lines: SnapshotLine[];
}

export function snapshotScript(maxTextChars: number, maxLines: number): string {
  return `(() => {
  const REF = ${JSON.stringify(REF_ATTRIBUTE)};
  const w = window;
  if (typeof w.__legionRefSeq !== 'number') w.__legionRefSeq = 0;
  const implicitRole = (el) => {
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'a' && el.hasAttribute('href')) return 'link';
    if (tag === 'button' || (tag === 'input' && ['button', 'submit', 'reset', 'image'].includes(type))) return 'button';
    if (tag === 'input' && type === 'checkbox') return 'checkbox';
    if (tag === 'input' && type === 'radio') return 'radio';
    if (tag === 'input' && type === 'range') return 'slider';
    if (tag === 'input' && ['hidden', 'file'].includes(type)) return type === 'file' ? 'button' : null;
    if (tag === 'input' && type === 'search') return 'searchbox';
    if (tag === 'input') return 'textbox';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'select') return el.multiple ? 'listbox' : 'combobox';
    if (tag === 'summary') return 'button';
    if (/^h[1-6]$/.test(tag)) return 'heading';
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) return 'textbox';
    return null;
  };
  const ACTIONABLE = new Set(['link', 'button', 'checkbox', 'radio', 'slider', 'textbox', 'searchbox', 'combobox', 'listbox', 'option', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'tab', 'switch', 'spinbutton']);
  const clean = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const nameOf = (el) => {
    const labelled = el.getAttribute('aria-labelledby');
    if (labelled) {
      const text = labelled.split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((n) => n.innerText || n.textContent).join(' ');
      if (clean(text)) return clean(text);
    }
    if (clean(el.getAttribute('aria-label'))) return clean(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length > 0) return clean(Array.from(el.labels).map((l) => l.innerText || l.textContent).join(' '));
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && ['button', 'submit', 'reset'].includes((el.type || '').toLowerCase())) return clean(el.value) || clean(el.type);
    if (tag === 'img' || (tag === 'input' && el.type === 'image')) return clean(el.getAttribute('alt'));
    if (!['input', 'textarea', 'select'].includes(tag)) {
      const text = clean(el.innerText || el.textContent);
      if (text) return text.slice(0, 100);
      const img = el.querySelector('img[alt]');
      if (img) return clean(img.getAttribute('alt'));
    }
    return clean(el.getAttribute('placeholder')) || clean(el.getAttribute('title')) || clean(el.getAttribute('name'));
  };
  const visible = (el) => {
    if (!el.isConnected) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  };
  const lines = [];
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_ELEMENT);
  for (let el = walker.currentNode; el && lines.length < ${maxLines}; el = walker.nextNode()) {
    if (!(el instanceof HTMLElement)) continue;
    const role = clean(el.getAttribute('role')) || implicitRole(el);
    if (!role || el.getAttribute('aria-hidden') === 'true' || el.hasAttribute('disabled') && role !== 'heading') continue;
    if (role !== 'heading' && !ACTIONABLE.has(role)) continue;
    if (!visible(el)) continue;
    let extra = '';
    let ref = null;
    if (role === 'heading') {
      const level = el.getAttribute('aria-level') || (el.tagName.match(/^H([1-6])$/) || [])[1] || '';
      extra = level ? '[level=' + level + ']' : '';
    } else {
      ref = el.getAttribute(REF);
      if (!ref) {
        w.__legionRefSeq += 1;
        ref = 'e' + w.__legionRefSeq;
        el.setAttribute(REF, ref);
      }
      const tag = el.tagName.toLowerCase();
      if (role === 'checkbox' || role === 'radio' || role === 'switch') extra = el.checked || el.getAttribute('aria-checked') === 'true' ? '[checked]' : '[unchecked]';
      else if (tag === 'select') extra = 'value=' + JSON.stringify(clean(el.selectedOptions && el.selectedOptions[0] ? el.selectedOptions[0].textContent : '')) + ' options=' + JSON.stringify(Array.from(el.options).slice(0, 20).map((o) => clean(o.textContent)));
      else if (tag === 'input' || tag === 'textarea') extra = el.type === 'password' ? (el.value ? 'value=<hidden>' : '') : (el.value ? 'value=' + JSON.stringify(el.value.slice(0, 200)) : '');
      else if (role === 'link') extra = '-> ' + (el.getAttribute('href') || '').slice(0, 200);
    }
    lines.push({ role, name: nameOf(el).slice(0, 100), ref, extra });
  }
  const text = clean((document.body && document.body.innerText) || '').length === 0 ? '' : (document.body.innerText || '').replace(/\\n{3,}/g, '\\n\\n').trim();
  return { text: text.slice(0, ${maxTextChars}), textLength: text.length, lines };
})()`;
}

/** The outline the model reads: one line per element, refs as [ref=e12]. */
export function formatOutline(lines: readonly SnapshotLine[]): string {
  return lines
    .map((line) => {
      const parts = [`- ${line.role}`];
      if (line.name) parts.push(JSON.stringify(line.name));
      if (line.extra) parts.push(line.extra);
      if (line.ref) parts.push(`[ref=${line.ref}]`);
      return parts.join(' ');
    })
    .join('\n');
}
