// axe-core in the page, as WCAG 2.1 AA checks: the rule ids and the elements they fail on.
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer-core';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Violations on the page as it is now. The page's CSP must let the injected script run (setBypassCSP). */
export async function axe(page: Page): Promise<string[]> {
  // Checked again on the same page (after each step): inject once.
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    // @ts-expect-error axe is injected above
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map(
      (v: { id: string; nodes: { target: string[] }[] }) =>
        `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  });
}
