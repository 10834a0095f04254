import SyncStore

/// The pull a client will most likely send next, after a batch with more to come: the
/// driver reads it while the client takes in the last batch, so the reply is ready when the
/// pull arrives (`DaemonSession.handle(line:readAhead:)`).
///
/// The read touches only the store, so it may run beside the connection's turn. A batch
/// read ahead is what the pull would have read at that moment: every later change has a
/// larger sequence number and comes with a later pull.
public struct ReadAhead: Sendable {
    let reader: ScopedReader
    let cursor: Int64
    let limit: Int
    let skipping: Set<Int64>

    /// Reads the batch.
    public func read() -> Batch {
        Batch(
            cursor: cursor, limit: limit,
            result: Result { () throws(StoreError) in try reader.batch(after: cursor, limit: limit, skipping: skipping)
            })
    }

    /// A batch read ahead, for the pull it answers.
    public struct Batch: Sendable {
        let cursor: Int64
        let limit: Int
        let result: Result<ScopedReader.Batch, StoreError>
    }
}
