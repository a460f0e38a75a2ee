import type { BrowserContext } from 'playwright-core';

/** A client logo served in place of any https:// image, so the browser never leaves this machine. */
const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">
<rect width="96" height="96" rx="18" fill="#ff7a45"/><path d="M24 62 L48 28 L72 62 Z" fill="#fff"/>
<rect x="34" y="62" width="28" height="10" rx="3" fill="#fff"/></svg>`;

export async function serveLogosLocally(context: BrowserContext): Promise<void> {
  await context.route(/^https:\/\//, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
}
