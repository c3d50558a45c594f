import { RuntimePepperSource, SecretManagerPepperSource } from "../adapters/secretManager/pepperSources";
import type { ServiceConfig } from "../config/settings";
import { parseEncryptionKey, SaltCipher } from "../domain/encryption";
import type { PepperSource } from "../ports/pepperSource";
import { secretManagerClient } from "./firebase";

/** A bound secret's value as the Functions runtime injects it (`.secret.local` in the emulator). */
export const injectedSecret = (name: string): string => process.env[name] ?? "";

/**
 * Secret Manager in production; the value the Functions runtime provides under
 * the emulator or when PEPPER_SOURCE=runtime.
 */
export function pepperSourceFor(config: ServiceConfig): PepperSource {
  const useRuntime = config.emulator || !config.projectId;
  const mode =
    config.pepperSource ?? (useRuntime && !config.secretManagerHost ? "runtime" : "secret-manager");
  if (mode === "runtime") {
    return new RuntimePepperSource(
      () => injectedSecret("PSEUDONYM_PEPPER"),
      Number(config.runtimePepperVersion),
    );
  }
  return new SecretManagerPepperSource(
    secretManagerClient(config.secretManagerHost),
    config.projectId ?? "",
    "PSEUDONYM_PEPPER",
    config.pepperSecretVersion,
  );
}

/** The encryption key is read per use (the runtime may inject it late), parsed once per distinct value. */
export function cipherFromSecret(read: () => string = () => injectedSecret("SALT_ENCRYPTION_KEY")) {
  let lastRaw: string | null = null;
  let cipher: SaltCipher | null = null;
  return (): SaltCipher => {
    const raw = read();
    if (raw !== lastRaw || !cipher) {
      cipher = new SaltCipher(parseEncryptionKey(raw));
      lastRaw = raw;
    }
    return cipher;
  };
}
