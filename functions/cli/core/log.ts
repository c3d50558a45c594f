import { format } from "node:util";

/**
 * Diagnostics go to stderr, and only with --verbose: stdout carries the answer
 * alone. The service's logger (firebase-functions/logger) writes through the
 * console methods it captures when first loaded, so routing the console here
 * before any service module loads routes its JSON lines too.
 */
let verbose = false;

export function routeDiagnostics(enabled: boolean): void {
  verbose = enabled;
  const sink = (...args: unknown[]): void => {
    if (verbose) process.stderr.write(`${format(...args)}\n`);
  };
  console.log = sink;
  console.info = sink;
  console.debug = sink;
  console.warn = sink;
  console.error = sink;
  // Node's own warnings (deprecations from dependencies) are diagnostics too.
  if (!enabled) process.removeAllListeners("warning");
}

export function debug(message: string, ...args: unknown[]): void {
  if (verbose) process.stderr.write(`[salts] ${format(message, ...args)}\n`);
}

export const isVerbose = (): boolean => verbose;
