import { defineBoolean, defineInt, defineSecret, defineString } from "firebase-functions/params";
import { SETTINGS, type Setting } from "./settings";

/**
 * The deploy-time params, declared from the settings table so `firebase deploy`
 * prompts for each with its default and description. The values the code uses
 * come from `readConfig` (the same variables, parsed once); nothing here is
 * read at run time.
 */
function declare(s: Setting): void {
  const options = { description: s.description };
  switch (s.type) {
    case "int":
      defineInt(s.env, { ...options, default: s.default });
      return;
    case "bool":
      defineBoolean(s.env, { ...options, default: s.default });
      return;
    case "enum":
      defineString(s.env, {
        ...options,
        ...(s.default !== null ? { default: s.default } : {}),
        input: { select: { options: s.options.map((value) => ({ value })) } },
      });
      return;
    default:
      defineString(s.env, { ...options, ...(s.default !== null ? { default: String(s.default) } : {}) });
  }
}

for (const s of Object.values(SETTINGS)) if (s.scope === "param") declare(s);

/** App Check enforcement is an SDK option; the param object lets the SDK resolve it at deploy. */
export const ENFORCE_APP_CHECK = defineBoolean(SETTINGS.enforceAppCheck.env, {
  default: false,
  description: SETTINGS.enforceAppCheck.description,
});

export const PSEUDONYM_PEPPER = defineSecret("PSEUDONYM_PEPPER", {
  description: "HMAC key of every pseudonym: at least 32 random bytes.",
});
export const SALT_ENCRYPTION_KEY = defineSecret("SALT_ENCRYPTION_KEY", {
  description: "AES-256 key (32 bytes, hex or base64) encrypting salts at rest.",
});
export const AUDIT_KEY = defineSecret("AUDIT_KEY", {
  description:
    "HMAC key of the audit trail's hash chains and of keyed id hashes in receipts: at least 32 random bytes.",
});
export const METRICS_TOKEN = defineSecret("METRICS_TOKEN", {
  description: "Bearer token a Prometheus scraper presents to salts-metrics.",
});
