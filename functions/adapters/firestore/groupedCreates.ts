import type { DocumentData, DocumentReference, Firestore } from "firebase-admin/firestore";

interface Pending {
  ref: DocumentReference;
  data: DocumentData;
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** One BatchWrite holds at most this many creates (BulkWriter's own batch size) and about this many bytes. */
const GROUP_OPS = 20;
const GROUP_BYTES = 4 * 1024 * 1024;

/**
 * Document creates committed in groups (a group commit): while one BatchWrite is out, the creates that
 * arrive wait and go together in the next. Each create still succeeds or fails on its own (BatchWrite
 * is not atomic: a create that finds its document answers ALREADY_EXISTS alone), and a create that
 * arrives when nothing is out is sent at once, alone as a plain commit, so one caller at a time waits for one round trip as
 * with `ref.create`. Under concurrency an instance so pays one request for several documents: the
 * Firestore client's cost is per request far more than per byte. No retry here: an error is the
 * create's, for its caller to handle as it would a `ref.create` error (same gRPC codes).
 */
export class GroupedCreates {
  private queue: Pending[] = [];
  private sending = false;

  constructor(private readonly db: Firestore) {}

  /** Creates `ref` with `data` (about `bytes` long, to size the group); resolves once committed. */
  create(ref: DocumentReference, data: DocumentData, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Data the client would refuse before sending is refused here, alone: inside a group it would throw
      // from BulkWriter.create, whose close() then never settles (the queue would stall behind it).
      // The check is the client's own (a batch that is never committed): no I/O.
      this.db.batch().create(ref, data);
      this.queue.push({ ref, data, bytes, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < GROUP_OPS && (n === 0 || bytes + this.queue[n]!.bytes <= GROUP_BYTES))
      bytes += this.queue[n++]!.bytes;
    const group = this.queue.splice(0, n);
    // One create alone is a plain commit: a BatchWrite of one costs more, in the client and in Firestore.
    if (group.length === 1) {
      const [p] = group as [Pending];
      void p.ref
        .create(p.data)
        .then(() => p.resolve(), p.reject)
        .finally(() => this.next());
      return;
    }
    const writer = this.db.bulkWriter({ throttling: false });
    writer.onWriteError(() => false);
    for (const p of group) writer.create(p.ref, p.data).then(() => p.resolve(), p.reject);
    // close() settles once every write has (it never rejects); the next group goes then.
    void writer
      .close()
      .catch((e: unknown) => group.forEach((p) => p.reject(e)))
      .finally(() => this.next());
  }

  private next(): void {
    this.sending = false;
    this.send();
  }
}
