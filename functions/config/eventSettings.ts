import type { StringSetting } from "./settingTypes";

/** The settings of events on Pub/Sub (API.md "Events"), spread into SETTINGS. */
export const EVENT_SETTINGS = {
  eventsTopic: {
    env: "EVENTS_TOPIC",
    type: "string",
    default: "salts-events",
    // Pub/Sub topic ids: a letter, then 2 to 254 of these.
    pattern: /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/,
    scope: "param",
    description:
      "Pub/Sub topic, in the function's project, that every salt created, rotated or erased and every finished job is published to.",
  },
  eventsDrainSchedule: {
    env: "EVENTS_DRAIN_SCHEDULE",
    type: "string",
    default: "every 1 minutes",
    scope: "env",
    description:
      "Schedule (UTC) of `salts-drainEvents`, the backstop that publishes events left in the outbox; read from `.env` when deploying.",
  },
  pubsubEmulatorHost: {
    env: "PUBSUB_EMULATOR_HOST",
    type: "string",
    default: null,
    pattern: /^[A-Za-z0-9.-]+:[0-9]{1,5}$/,
    scope: "env",
    description:
      "host:port of the Pub/Sub emulator (tests, local stack). Under the Functions emulator without it, events stay in the outbox.",
  },
} as const satisfies Record<string, StringSetting>;
