// Knowing when a page has been hydrated (its event handlers attached).
//
// Clicking or typing before hydration is a classic source of flaky end-to-end
// tests: the input lands in server-rendered HTML that the wasm app has not
// taken over yet, so client-side validation and in-place updates do not
// happen (the form may even fall back to a plain POST).
//
// How we know, robustly, without any hook in the app:
// Leptos' inline loader script does
//     import('/pkg/frontend.js').then(mod =>
//         mod.default({module_or_path: '/pkg/frontend_bg.wasm'}).then(() => mod.hydrate()))
// and `mod.default` (wasm-bindgen's init) resolves right after
// `WebAssembly.instantiateStreaming` / `WebAssembly.instantiate` resolves.
// An init script (run in every new document before any page script) wraps
// those two functions and sets `window.__latchkeyWasmReady` when the
// instantiation promise settles successfully. Everything between that moment
// and the end of the synchronous `mod.hydrate()` call is promise callbacks
// (microtasks). `page.waitForFunction` polls in requestAnimationFrame
// callbacks, which run in a later task, after the microtask queue has been
// drained: so once the predicate sees the flag, `hydrate()` has returned.
// A final round trip through setTimeout lets any work Leptos spawned during
// hydration (also microtasks) settle as well.
//
// This beats "wait for network idle" (a timing guess: instantiation happens
// after the last byte arrives) and does not depend on any particular
// page's behaviour.

import type { BrowserContext, Page } from '@playwright/test';

declare global {
  interface Window {
    __latchkeyWasmReady?: boolean;
    /** Set by `/pkg/signin.js`, the sign-in pages' script (they load no app). */
    __latchkeyPageReady?: boolean;
    __latchkeyWasmFailed?: string;
  }
}

/** Installs the instantiation hook in every page of `context`. */
export async function installHydrationProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const W = WebAssembly as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const mark = (p: Promise<unknown>) => {
      p.then(
        () => {
          window.__latchkeyWasmReady = true;
        },
        (e) => {
          window.__latchkeyWasmFailed = String(e);
        },
      );
      return p;
    };
    for (const name of ['instantiateStreaming', 'instantiate']) {
      const original = W[name];
      if (typeof original === 'function') W[name] = (...args: unknown[]) => mark(original.apply(WebAssembly, args));
    }
  });
}

/**
 * Waits until the current document is hydrated (or, on the sign-in pages,
 * which load no app, until their script has run). Call it after the document
 * has loaded (after goto/reload/waitForURL), never while a navigation to a
 * new document is still pending: the old document's flag would answer.
 */
export async function waitForHydration(page: Page, timeout = 20_000): Promise<void> {
  const outcome = await page.waitForFunction(
    () =>
      window.__latchkeyWasmReady || window.__latchkeyPageReady
        ? 'ok'
        : window.__latchkeyWasmFailed
          ? `failed: ${window.__latchkeyWasmFailed}`
          : false,
    undefined,
    { timeout },
  );
  const value = await outcome.jsonValue();
  if (value !== 'ok') throw new Error(`The browser bundle did not start: ${value}`);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
}
