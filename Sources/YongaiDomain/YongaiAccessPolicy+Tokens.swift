extension YongaiAccessPolicy.Role {
    /// How long a token of this role stays valid unless `yongai-syncd token --expires` says
    /// otherwise: the wider its rights, the shorter. A rider's phone a season, a station
    /// kiosk a year (it is set up once), hotline staff a month, an admin a week.
    public var defaultTokenLifetime: String {
        switch self {
        case .rider: "90d"
        case .station: "365d"
        case .staff: "30d"
        case .admin: "7d"
        }
    }
}
