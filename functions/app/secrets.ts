import {
  RuntimeSecret,
  SecretManagerSecret,
  type SecretValidator,
} from "../adapters/secretManager/secretVersions";
import { aesKeyText, pepperText, auditKeyText } from "../adapters/secretManager/validators";
import type { ServiceConfig } from "../config/settings";
import type { VersionedSecret } from "../ports/secrets";
import { secretManagerClient } from "./firebase";

/** A bound secret's value as the Functions runtime injects it (`.secret.local` in the emulator). */
export const injectedSecret = (name: string): string => process.env[name] ?? "";

/** The service's secrets, by their Secret Manager names. */
export interface ServiceSecrets {
  pepper: VersionedSecret;
  keys: VersionedSecret;
  auditKey: VersionedSecret;
}

/**
 * Secret Manager in production (and wherever SECRET_MANAGER_EMULATOR_HOST names a
 * local server); the values the Functions runtime injects under the emulator
 * otherwise, or when PEPPER_SOURCE=runtime.
 */
export function secretsFor(config: ServiceConfig): ServiceSecrets {
  const useRuntime = config.emulator || !config.projectId;
  const mode =
    config.pepperSource ?? (useRuntime && !config.secretManagerHost ? "runtime" : "secret-manager");
  const declared = (v: string) => (/^[0-9]+$/.test(v) ? Number(v) : 1);
  if (mode === "runtime") {
    const runtime = (name: string, version: number, validate: SecretValidator) =>
      new RuntimeSecret(name, () => injectedSecret(name), version, validate);
    return {
      pepper: runtime("PSEUDONYM_PEPPER", Number(config.runtimePepperVersion), pepperText),
      keys: runtime("SALT_ENCRYPTION_KEY", declared(config.keyVersion), aesKeyText),
      auditKey: runtime("AUDIT_KEY", 1, auditKeyText),
    };
  }
  const client = secretManagerClient(config.secretManagerHost);
  const project = config.projectId ?? "";
  return {
    // The pepper version is resolved once per instance: pseudonyms must not change under a running instance.
    pepper: new SecretManagerSecret(client, project, "PSEUDONYM_PEPPER", {
      pinned: config.pepperSecretVersion,
      validate: pepperText,
      refuseAboveNewest: true,
    }),
    keys: new SecretManagerSecret(client, project, "SALT_ENCRYPTION_KEY", {
      pinned: config.keyVersion,
      validate: aesKeyText,
      refreshMs: config.keyRefreshSeconds * 1000,
    }),
    auditKey: new SecretManagerSecret(client, project, "AUDIT_KEY", { validate: auditKeyText }),
  };
}
