/**
 * A handler that loads on its function's first call, then stays loaded. Only the trigger
 * declarations (with their deploy options) load with the module, so an instance loads the
 * code of the one function it serves, when it first serves it (firebase-functions runs an
 * `onInit` callback at the same moment: inside the first call). A failed load is tried
 * again on the next call.
 */
export function loadOnFirstCall<A extends unknown[], R>(
  load: () => Promise<(...args: A) => R | Promise<R>>,
): (...args: A) => Promise<R> {
  let loading: Promise<(...args: A) => R | Promise<R>> | null = null;
  return async (...args) => {
    loading ??= load().catch((e: unknown) => {
      loading = null;
      throw e;
    });
    return await (
      await loading
    )(...args);
  };
}
