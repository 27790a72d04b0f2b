// dom.js: the only way the UI makes nodes.
//
// Everything the API returns (command lines, host names, domains, users, notes,
// explanations...) is attacker-controlled, so no module of the UI parses HTML:
// nodes are built here with createElement / createElementNS, strings become text
// nodes and values go through attribute setters; `on*` attributes and non-local
// links are refused. No innerHTML, no insertAdjacentHTML, no inline style or
// handler (the Content-Security-Policy forbids them anyway). Keep it that way.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setProps(node, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(key)) throw new Error('refusing event-handler attribute ' + key);
    if (key === 'text') {
      node.textContent = String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else if (key === 'value' || key === 'checked' || key === 'disabled') {
      node[key] = value;
    } else if (key === 'href') {
      // Links are only ever built here, from local routes or a fixed ATT&CK prefix.
      const href = String(value);
      if (href.startsWith('#') || href.startsWith('https://attack.mitre.org/')) {
        node.setAttribute('href', href);
      }
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendAll(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  return appendAll(node, children);
}

export function svg(tag, props, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setProps(node, props);
  return appendAll(node, children);
}

export const $ = (id) => document.getElementById(id);
