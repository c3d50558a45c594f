import { REQUEST_TTL_MS, type RequestStore, type StoredRequest } from "../../ports/requestStore";
import type { MemoryState } from "./memoryState";

export class MemoryRequestStore implements RequestStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
  ) {}

  async get(key: string): Promise<StoredRequest | null> {
    await Promise.resolve();
    const r = this.state.requests.get(key);
    if (!r || r.expiresAt <= this.clock()) return null;
    return { fingerprint: r.fingerprint, answer: JSON.parse(r.answer) };
  }

  async claim(key: string, fingerprint: string, answer: unknown): Promise<StoredRequest> {
    const existing = await this.get(key);
    if (existing) return existing;
    const expiresAt = new Date(this.clock().getTime() + REQUEST_TTL_MS);
    this.state.requests.set(key, { fingerprint, answer: JSON.stringify(answer), expiresAt });
    return { fingerprint, answer };
  }

  async keep(key: string, fingerprint: string, answer: unknown) {
    await Promise.resolve();
    // Decided and stored in one synchronous step: of two concurrent keeps, one is first.
    const r = this.state.requests.get(key);
    if (r && r.expiresAt > this.clock()) {
      return { fingerprint: r.fingerprint, answer: JSON.parse(r.answer) as unknown, first: false };
    }
    const expiresAt = new Date(this.clock().getTime() + REQUEST_TTL_MS);
    this.state.requests.set(key, { fingerprint, answer: JSON.stringify(answer), expiresAt });
    return { fingerprint, answer, first: true };
  }

  async complete(key: string, answer: unknown): Promise<void> {
    await Promise.resolve();
    const r = this.state.requests.get(key);
    if (r) r.answer = JSON.stringify(answer);
  }

  async release(key: string): Promise<void> {
    await Promise.resolve();
    this.state.requests.delete(key);
  }
}
