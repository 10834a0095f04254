import SyncCore

extension ReplicaRenaming {
    /// Renamings as the wire carries them: an array of `{"old", "after", "through", "new"}`
    /// (`through` when known).
    static func json(_ renamings: [ReplicaRenaming]) -> JSONValue {
        .array(
            renamings.map {
                var members: [JSONValue.Member] = [
                    .init("old", .string($0.old.rawValue)), .init("after", .integer($0.after)),
                ]
                if let through = $0.through { members.append(.init("through", .integer(through))) }
                members.append(.init("new", .string($0.new.rawValue)))
                return .object(members)
            })
    }
}

extension MessageFields {
    /// An optional array of renamings (`{"old","after","through","new"}`), at most `maximum`.
    func optionalRenamings(_ key: String, maximum: Int) throws(ProtocolError) -> [ReplicaRenaming]? {
        guard let objects = try optionalObjects(key, maximum: maximum) else { return nil }
        var renamings: [ReplicaRenaming] = []
        for entry in objects {
            let names = (old: try entry.string("old"), new: try entry.string("new"))
            guard let old = try? ReplicaID(names.old), let new = try? ReplicaID(names.new) else {
                throw invalid("\(type).\(key) names a replica id that is not 1-64 characters of A-Z a-z 0-9 _ . -")
            }
            guard old != new else { throw invalid("\(type).\(key) renames replica \(old) to itself") }
            let after = try entry.integer("after", in: 0...Dot.maximumCounter)
            let through = try entry.optionalInteger("through", in: after...Dot.maximumCounter)
            renamings.append(ReplicaRenaming(old: old, new: new, after: after, through: through))
        }
        return renamings
    }
}
