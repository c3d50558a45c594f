import { initializeApp, type FirebaseApp } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  type Auth,
} from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, type Functions } from "firebase/functions";
import type { ConsoleConfig } from "./config";

export interface FirebaseHandles {
  app: FirebaseApp;
  auth: Auth;
  functions: Functions;
  config: ConsoleConfig;
}

/**
 * Auth + Functions only: the console never touches Firestore (the rules stay closed).
 * initializeAuth without a popup resolver keeps the bundle small; Google sign-in loads it on demand.
 */
export function connectFirebase(config: ConsoleConfig): FirebaseHandles {
  const app = initializeApp(config.firebase);
  const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
  const functions = getFunctions(app, config.region);
  if (config.emulators) {
    // The SDK's own emulator banner is an injected element; the console shows its own badge instead.
    connectAuthEmulator(auth, config.emulators.auth, { disableWarnings: true });
    connectFunctionsEmulator(functions, config.emulators.functions.host, config.emulators.functions.port);
  }
  return { app, auth, functions, config };
}
