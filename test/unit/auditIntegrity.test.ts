import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../functions/domain/audit";
import {
  bindings,
  entryProblem,
  headProblem,
  linkEntry,
  linkProblem,
  sealHead,
} from "../../functions/domain/auditChain";
import {
  checkpointId,
  ledgerLinkProblem,
  pageProblem,
  sealPage,
  sealSummary,
  summaryProblem,
} from "../../functions/domain/auditLedger";
import { openSalt, saltAad, sealSalt, shredAad } from "../../functions/domain/encryption";

const v1 = { version: 1, bytes: randomBytes(32) };
const v2 = { version: 2, bytes: randomBytes(32) };
const draft = {
  actor: { uid: "a", via: "cli" as const },
  operation: "rotate_user",
  target: { kind: "user" as const, id: "alice" },
  result: "success" as const,
  correlation_id: "c",
};
const CHAIN = "salt:user:YWxpY2U:inc1";

/** A chain of `n` entries under `key`, and its sealed heads after each. */
function chainOf(n: number, key = v1) {
  const entries: AuditEntry[] = [];
  const heads = [];
  let head = null;
  for (let i = 0; i < n; i++) {
    const bound = bindings.live({ version: i + 1, rotation_count: i });
    const linked = linkEntry(draft, { id: `e${i}`, at: new Date(1000 * i) }, CHAIN, head, key, bound);
    entries.push(linked.entry);
    heads.push(linked.head);
    head = linked.head;
  }
  return { entries, heads };
}

describe("chain heads are authenticated and bound to what they follow", () => {
  it("when a head is sealed, then it verifies as the head of its chain bound to the salt's version", () => {
    const { heads } = chainOf(3);
    expect(
      headProblem(CHAIN, heads[2]!, bindings.live({ version: 3, rotation_count: 2 }), v1.bytes),
    ).toBeNull();
  });

  it("when a head is rewound to an earlier entry by copying that entry's seq and mac, then it does not verify", () => {
    const { entries, heads } = chainOf(3);
    const rewound = { ...heads[2]!, seq: 2, mac: entries[1]!.integrity!.mac };
    expect(headProblem(CHAIN, rewound, bindings.live({ version: 3, rotation_count: 2 }), v1.bytes)).toMatch(
      /changed, rewound or moved/,
    );
  });

  it("when an earlier sealed head is put back beside a salt that moved on, then its binding does not match", () => {
    const { heads } = chainOf(3);
    // The head sealed at version 2, kept by someone who copied the document then, beside version 3.
    expect(headProblem(CHAIN, heads[1]!, bindings.live({ version: 3, rotation_count: 2 }), v1.bytes)).toMatch(
      /rewound/,
    );
    expect(headProblem(CHAIN, heads[2]!, bindings.erased, v1.bytes)).toMatch(/rewound/);
    expect(
      headProblem(
        "salt:user:YWxpY2U:other",
        heads[2]!,
        bindings.live({ version: 3, rotation_count: 2 }),
        v1.bytes,
      ),
    ).toMatch(/moved/);
  });

  it("when a head carries no authentication, or one made without the key, then it is reported", () => {
    const { heads } = chainOf(1);
    const bound = bindings.live({ version: 1, rotation_count: 0 });
    expect(headProblem(CHAIN, { seq: 1, mac: heads[0]!.mac }, bound, v1.bytes)).toBe(
      "the chain's head is not authenticated",
    );
    const forged = sealHead(CHAIN, heads[0]!, bound, { version: 1, bytes: randomBytes(32) });
    expect(headProblem(CHAIN, forged, bound, v1.bytes)).toMatch(/does not match/);
    expect(headProblem(CHAIN, heads[0]!, bound, null)).toMatch(/key version 1 .* not available/);
  });
});

describe("entries on their own", () => {
  it("when an entry is genuine, then it verifies; unlinked, changed or linked without the key, then it does not", () => {
    const { entries } = chainOf(2);
    expect(entryProblem(entries[1]!, v1.bytes)).toBeNull();
    const { integrity: _drop, ...unlinked } = entries[1]!;
    expect(entryProblem(unlinked, v1.bytes)).toMatch(/no chain link/);
    expect(entryProblem({ ...entries[1]!, reason: "forged" }, v1.bytes)).toMatch(/changed/);
    const forged = { ...entries[1]!, integrity: { ...entries[1]!.integrity!, mac: "x".repeat(43) } };
    expect(entryProblem(forged, v1.bytes)).toMatch(/forged/);
    // A copy under another id keeps the original's mac, which then does not check.
    expect(entryProblem({ ...entries[1]!, id: "copy" }, v1.bytes)).toMatch(/changed/);
  });

  it("when entries are swapped or one is removed, then the link check names it", () => {
    const { entries } = chainOf(4);
    const prev = (i: number) => ({ seq: i + 1, mac: entries[i]!.integrity!.mac });
    expect(linkProblem(entries[2]!, prev(1), v1.bytes)).toBeNull();
    expect(linkProblem(entries[3]!, prev(1), v1.bytes)).toBe("entries 3..3 are missing");
    expect(linkProblem(entries[1]!, prev(2), v1.bytes)).toBe("entry 2 is out of order or repeated");
  });
});

describe("the ledger of checkpoints", () => {
  const heads = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ chain: `log:user:${from + i}`, seq: i + 1, mac: `m${from + i}` }));

  it("when pages are chained and MACed, then each verifies after the one before, and an edit, a reorder or a swap does not", () => {
    const id = checkpointId(7);
    const p0 = sealPage(id, 0, heads(3), "", v1);
    const p1 = sealPage(id, 1, heads(3, 3), p0.digest, v1);
    expect(pageProblem(id, 0, p0, "", v1.bytes)).toBeNull();
    expect(pageProblem(id, 1, p1, p0.digest, v1.bytes)).toBeNull();
    const edited = { ...p1, heads: p1.heads.map((h, i) => (i === 0 ? { ...h, seq: 99 } : h)) };
    expect(pageProblem(id, 1, edited, p0.digest, v1.bytes)).toBe("page 1 was changed");
    expect(pageProblem(id, 1, p1, "", v1.bytes)).toBe("page 1 does not follow page 0");
    expect(pageProblem(id, 0, p1, "", v1.bytes)).toBe("page 0 holds page 1");
    expect(pageProblem(checkpointId(8), 1, p1, p0.digest, v1.bytes)).toBe("page 1 was changed");
    // The digest a page carries is what the summary's digest must be after the last page.
    expect(p1.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("when checkpoints are chained, then each follows the one before; a gap, a fork or a forged one is named", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    const now = new Date("2026-02-01T00:00:00Z");
    const c1 = sealSummary(
      { id: checkpointId(1), seq: 1, prev: null, at, chains: 3, pages: 1, digest: "d1" },
      v1,
    );
    const c2 = sealSummary(
      { id: checkpointId(2), seq: 2, prev: c1.mac, at, chains: 3, pages: 1, digest: "d2" },
      v1,
    );
    const c3 = sealSummary(
      { id: checkpointId(3), seq: 3, prev: c2.mac, at, chains: 3, pages: 1, digest: "d3" },
      v1,
    );
    for (const c of [c1, c2, c3]) expect(summaryProblem(c, v1.bytes, now)).toBeNull();
    expect(ledgerLinkProblem(c2, c1)).toBeNull();
    expect(ledgerLinkProblem(c3, c1)).toBe("checkpoint 2 is missing (removed)");
    const fork = sealSummary(
      { id: checkpointId(2), seq: 2, prev: "other", at, chains: 3, pages: 1, digest: "x" },
      v1,
    );
    expect(ledgerLinkProblem(fork, c1)).toBe("checkpoint 2 does not follow checkpoint 1");
    expect(summaryProblem({ ...c2, chains: 2 }, v1.bytes, now)).toMatch(/bad mac/);
    expect(summaryProblem({ ...c2, id: checkpointId(9) }, v1.bytes, now)).toMatch(/bad mac/);
    expect(summaryProblem(c2, v1.bytes, new Date("2025-12-31T00:00:00Z"))).toMatch(/future/);
  });

  it("when the audit key is rotated, then checkpoints made under v1 still verify with v1's bytes and chain on under v2", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    const now = new Date("2026-02-01T00:00:00Z");
    const old = sealSummary(
      { id: checkpointId(1), seq: 1, prev: null, at, chains: 0, pages: 0, digest: "" },
      v1,
    );
    const next = sealSummary(
      { id: checkpointId(2), seq: 2, prev: old.mac, at, chains: 0, pages: 0, digest: "" },
      v2,
    );
    expect(old.key_version).toBe(1);
    expect(next.key_version).toBe(2);
    expect(summaryProblem(old, v1.bytes, now)).toBeNull();
    expect(summaryProblem(old, v2.bytes, now)).toMatch(/bad mac/);
    expect(summaryProblem(next, v2.bytes, now)).toBeNull();
    expect(ledgerLinkProblem(next, old)).toBeNull();
  });
});

describe("ciphertexts are bound to the salt's incarnation", () => {
  const key = { version: 1, bytes: randomBytes(32) };
  const a = { location: "salts_user/YWxpY2U", incarnation: "incA" };
  const b = { location: "salts_user/YWxpY2U", incarnation: "incB" };
  const salt = randomBytes(32);

  it("when a ciphertext of one incarnation is put in another's document, then it does not open", () => {
    const enc = sealSalt(key, salt, saltAad(a, 1));
    expect(enc.aad_version).toBe(2);
    expect(openSalt(key, enc, saltAad(a, 1)).equals(salt)).toBe(true);
    expect(() => openSalt(key, enc, saltAad(b, 1))).toThrow(/authentication failed/);
    expect(() => openSalt(key, sealSalt(key, salt, shredAad(a)), shredAad(b))).toThrow(
      /authentication failed/,
    );
  });

  it("when a ciphertext from before incarnations were bound is read, then it opens, and a changed claim does not", () => {
    const legacy = sealSalt(key, salt, { legacy: saltAad(a, 1).legacy, bound: null });
    expect(legacy.aad_version).toBeUndefined();
    // Read in a document that names an incarnation (the sweep binds it later): the v1 form still opens it.
    expect(openSalt(key, legacy, saltAad(b, 1)).equals(salt)).toBe(true);
    // Claiming the bound form for it, or stripping the claim from a bound one, fails authentication.
    expect(() => openSalt(key, { ...legacy, aad_version: 2 }, saltAad(a, 1))).toThrow(
      /authentication failed/,
    );
    const bound = sealSalt(key, salt, saltAad(a, 1));
    const { aad_version: _drop, ...stripped } = bound;
    expect(() => openSalt(key, stripped, saltAad(a, 1))).toThrow(/authentication failed/);
  });
});
