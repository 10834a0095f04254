import SyncCore

/// Which records of one collection a reader may see, so a change scan can read them through
/// an index instead of reading everything and filtering: all, none, or those whose `field`
/// holds `value`. A scope only narrows the scan; the caller's own filter still decides each
/// change.
public enum ReadScope: Sendable, Hashable {
    case all
    case none
    case matching(field: String, value: FieldValue)
}
