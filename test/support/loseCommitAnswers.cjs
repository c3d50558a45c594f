// Preloaded (node --require) into a CLI child by tests: the first LOSE_COMMIT_ANSWERS commits (batches and
// transactions) reach Firestore and are applied, but their answers are lost on the way back (the client
// sees gRPC DEADLINE_EXCEEDED), as when a connection drops after the server committed. Nothing else changes.
const { Transaction, WriteBatch } = require("@google-cloud/firestore");

let left = Number(process.env.LOSE_COMMIT_ANSWERS ?? 0);
const lossy = (commit) =>
  async function lossyCommit(...args) {
    const out = await commit.apply(this, args);
    if (left > 0) {
      left--;
      throw Object.assign(new Error("4 DEADLINE_EXCEEDED: the commit's answer was lost (test)"), { code: 4 });
    }
    return out;
  };
if (left > 0) {
  WriteBatch.prototype.commit = lossy(WriteBatch.prototype.commit);
  Transaction.prototype.commit = lossy(Transaction.prototype.commit);
}
