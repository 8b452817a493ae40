/// Facts about this build that the daemon reports (`--version`, `vipps_webhookd_build_info`).
public enum BuildInfo {
    /// The release version: the one place it is written (`scripts/package-deb.sh` reads it from here).
    public static let version = "0.9.0"
}
