/** What the browser tests share: the two screens, the width check and the screenshots. */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

export const SCREENS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 375, height: 812 },
] as const;

/**
 * Nothing wider than the screen, once the page's stylesheet is in: before it, a table is as
 * wide as its columns, and a check made then measures the unstyled page.
 */
export async function fitsWidth(page: Page, width: number): Promise<void> {
  await page.waitForLoadState('load');
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= width, `the page is ${w} px wide on a ${width} px screen`);
}

/** The whole page, styled, as docs/web-<screen>-<what>.png (the README shows some of them). */
export async function shot(page: Page, screen: string, what: string): Promise<void> {
  await page.waitForLoadState('load');
  await page.screenshot({ path: `docs/web-${screen}-${what}.png`, fullPage: true });
}
