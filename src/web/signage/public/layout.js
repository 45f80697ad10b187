// Text that fits a sign whatever the language or the data: lines break only between words, and a box
// whose content would overflow has its type scaled down (CSS `--fit`) until nothing does.

/**
 * `text` with line-break opportunities (<wbr>) only before words, for boxes styled
 * `word-break: keep-all`: CJK text then wraps between words (避難 and 武雄温泉 stay whole), never
 * after an opening bracket (【訓練】), before punctuation (no line starts with 、) or before a
 * one-character Han word, mostly a name's suffix (物産|館, 公|園).
 */
export function wordWrapped(text, lang) {
  const parts = [];
  let previous = '';
  for (const { segment, isWordLike } of new Intl.Segmenter(lang, { granularity: 'word' }).segment(text)) {
    const breakable = isWordLike && !/^\p{sc=Han}$/u.test(segment);
    if (breakable && previous && !/[\p{Ps}\p{Pi}\s]$/u.test(previous))
      parts.push(document.createElement('wbr'));
    parts.push(segment);
    previous = segment;
  }
  return parts;
}

/** Replaces `node`'s text, wrapped between words only. */
export function setWrapped(node, text, lang) {
  node.replaceChildren(...wordWrapped(text, lang));
}

/** True when `child` is drawn within `parent`'s box (content pushed out upwards shows in no scroll size). */
function within(child, parent) {
  const c = child.getBoundingClientRect();
  const p = parent.getBoundingClientRect();
  if (c.width === 0 && c.height === 0) return true;
  return c.left >= p.left - 1 && c.top >= p.top - 1 && c.right <= p.right + 1 && c.bottom <= p.bottom + 1;
}

/** True when neither `box` nor anything in it has content larger than its own box. */
function fits(box) {
  return [box, ...box.querySelectorAll('*')].every(
    (n) =>
      n.scrollWidth <= n.clientWidth + 1 &&
      n.scrollHeight <= n.clientHeight + 1 &&
      (n === box || within(n, n.parentElement)),
  );
}

/**
 * Sets `--fit` on `box` to the largest scale in [min, 1] at which everything in it fits (its sizes
 * are in em of a font size multiplied by --fit). A binary search: a few synchronous layouts.
 */
export function shrinkToFit(box, min = 0.4) {
  box.style.setProperty('--fit', '1');
  if (fits(box)) return;
  let [lo, hi] = [min, 1];
  for (let i = 0; i < 7; i++) {
    const mid = (lo + hi) / 2;
    box.style.setProperty('--fit', String(mid));
    if (fits(box)) lo = mid;
    else hi = mid;
  }
  box.style.setProperty('--fit', String(lo));
}
