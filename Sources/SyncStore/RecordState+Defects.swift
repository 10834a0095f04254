import SyncCore

extension RecordState {
    /// The state with every register cut down to its winner: the lost-update bug of
    /// last-writer-wins stores, kept only as a defect for the harness to catch.
    func keepingOnlyWinners() -> RecordState {
        let fields = fields.map { Field(name: $0.name, register: MultiValueRegister($0.register.winner)) }
        return (try? RecordState(validatingFields: fields, context: context)) ?? self
    }
}
