import type { Services } from "../usecases/deps";
import { readConfig } from "../config/config";
import { composeServices, type CompositionOptions } from "./compose";

let instance: Services | null = null;

/** A test hooks module: composition options (a clock tests drive) and a decoration of the services. */
interface TestHooks {
  options?: CompositionOptions;
  decorate: (s: Services) => Services;
}

/**
 * This instance's services, built on first use (or in `onInit`). Under the
 * Functions emulator only, `EMULATOR_TEST_HOOKS` may name a module whose
 * `options` are composed in (a test clock) and whose `decorate(services)` wraps
 * them (the tests' fault injection); it is never consulted anywhere else, and no
 * such module is deployed.
 */
export function services(): Services {
  if (!instance) {
    const hooksPath = process.env.EMULATOR_TEST_HOOKS;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hooks = hooksPath && readConfig().emulator ? (require(hooksPath) as TestHooks) : null;
    const built = composeServices(hooks?.options ?? {});
    instance = hooks ? hooks.decorate(built) : built;
  }
  return instance;
}
