import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';

// The active context (what openid-client's fetch reads to parent its IdP span) kept in an
// AsyncLocalStorage that is on only while some `with` scope is open. On Node 20 an enabled
// AsyncLocalStorage runs a hook on every promise of the process; the SDK's context manager
// enables it for good with the first scope, which cost a proxied call about 14 µs and 0.06
// of the traced ladder ratio (bench/README.md, "Traces"). Here the hot path never opens a
// scope (its spans take their parent explicitly): scopes are opened around a refresh, a
// token exchange and the rare auth handlers, and when the last one settles the storage is
// disabled, which takes the hook off again.
//
// Surprising but harmless: an async callback that outlives every scope (a timer set inside
// one) finds no active context and makes root spans.

export class ScopedContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  private open = 0;

  active(): Context {
    return this.open === 0 ? ROOT_CONTEXT : (this.storage.getStore() ?? ROOT_CONTEXT);
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.open += 1;
    let result: ReturnType<F>;
    try {
      result = this.storage.run(context, () => fn.apply(thisArg, args));
    } catch (e) {
      this.close();
      throw e;
    }
    if (result instanceof Promise) {
      // the scope lasts as long as the work it started (an async handler, a refresh)
      return result.finally(() => this.close()) as ReturnType<F>;
    }
    this.close();
    return result;
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function bound(this: unknown, ...args: unknown[]) {
      return manager.with(context, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.open = 0;
    this.storage.disable();
    return this;
  }

  private close(): void {
    this.open -= 1;
    if (this.open === 0) this.storage.disable();
  }
}
