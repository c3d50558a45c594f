import type { Services } from "../usecases/deps";
import { composeServices } from "./compose";

let instance: Services | null = null;

/**
 * This instance's services, built on first use (or in `onInit`). Under the
 * Functions emulator only, `EMULATOR_TEST_HOOKS` may name a module whose
 * `decorate(services)` wraps them (the tests' fault injection); it is never
 * consulted anywhere else, and no such module is deployed.
 */
export function services(): Services {
  if (!instance) {
    const built = composeServices();
    const hooks = process.env.EMULATOR_TEST_HOOKS;
    if (built.config.emulator && hooks) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { decorate } = require(hooks) as { decorate: (s: Services) => Services };
      instance = decorate(built);
    } else instance = built;
  }
  return instance;
}
