// @ts-check
// A tiny DOM builder: text always goes in as text, never as HTML.

/** @typedef {string | Node | null | undefined | false} Child */

/**
 * An element with `props` (attributes; `on*` listeners; `class`; `dataset`; DOM properties
 * for non-string values) and `children` (text or nodes; null, undefined and false are left out).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node && typeof value !== "string") /** @type {any} */ (node)[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(.../** @type {Array<string | Node>} */ (children.flat().filter((c) => c !== null && c !== undefined && c !== false)));
  return node;
}

/**
 * The element of the page's own markup that `selector` names (under `root`).
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export const $ = (selector, root = document) => /** @type {HTMLElement} */ (root.querySelector(selector));

/**
 * Every element `selector` names (under `root`).
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement[]}
 */
export const $$ = (selector, root = document) => /** @type {HTMLElement[]} */ ([...root.querySelectorAll(selector)]);

/**
 * The values of the form controls `selector` names (the checked boxes, the selected options).
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {string[]}
 */
export const values = (selector, root = document) => $$(selector, root).map((el) => /** @type {HTMLInputElement} */ (el).value);

/**
 * The form control `selector` names: an input, a select or a textarea.
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement}
 */
export const field = (selector, root = document) => /** @type {HTMLInputElement} */ ($(selector, root));
