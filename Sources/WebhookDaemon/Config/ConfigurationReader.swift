import Delivery
import HTTP1
import POSIX
import VippsWebhooks
import YAML

/// Walks a composed YAML tree into a `DaemonConfiguration`, recording problems with their key paths.
struct ConfigurationReader {
    let file: String
    let secretResolver: SecretResolver
    private(set) var problems: [ConfigurationProblem] = []
    private(set) var warnings: [ConfigurationProblem] = []
    /// Where `server.max_buffered_bytes` was set (checked against the head and body limits once all are read).
    private var bufferedBytesNode: YAMLNode?
    /// The `exec:` node of each exec sink (for the line of placeholder problems).
    private var execNodes: [String: YAMLNode] = [:]

    init(file: String, secretResolver: SecretResolver) {
        self.file = file
        self.secretResolver = secretResolver
    }

    static let reservedPaths: Set<String> = ["/healthz", "/metrics"]

    /// Most `dedup_max_ids` the service's `MemoryMax=1G` is meant to hold: the dedup index takes about 26 bytes per id
    /// (`DedupIndex`), a little more while its table doubles, and the first start after an upgrade from webhook-id
    /// ids holds up to three indexes at once; the journal, HTTP buffers and hooks need the rest.
    static let dedupIDsWithinMemoryMax = 6_000_000

    mutating func problem(_ keyPath: String, _ node: YAMLNode?, _ message: String) {
        problems.append(
            ConfigurationProblem(
                file: file,
                line: node?.line,
                keyPath: keyPath,
                message: message
            )
        )
    }

    /// A problem at `line` that no node describes (a YAML syntax error).
    mutating func problemAt(line: Int?, _ message: String) {
        problems.append(ConfigurationProblem(file: file, line: line, keyPath: "", message: message))
    }

    mutating func warning(_ keyPath: String, _ node: YAMLNode?, _ message: String) {
        warnings.append(
            ConfigurationProblem(
                file: file,
                line: node?.line,
                keyPath: keyPath,
                message: message
            )
        )
    }

    func result(_ configuration: DaemonConfiguration?) -> ConfigurationLoader.Result {
        ConfigurationLoader.Result(
            configuration: problems.isEmpty ? configuration : nil,
            problems: problems,
            warnings: warnings
        )
    }

    // MARK: - Root

    mutating func readRoot(_ root: YAMLNode) -> DaemonConfiguration? {
        guard let mapping = mapping(root, at: "") else { return nil }
        var configuration = DaemonConfiguration()
        var endpointsNode: YAMLNode?
        var sinksNode: YAMLNode?
        for (key, value, keyNode) in entries(mapping, at: "") {
            switch key {
            case "listen":
                if let text = string(value, at: key) {
                    if let address = ListenAddress(text) {
                        switch address.literal().flatMap(ListenAddress.isLocal) {
                        case .success: break
                        case .failure(let failure):
                            problem(key, value, "cannot listen on \(text): \(failure.message)")
                        }
                    } else {
                        problem(key, value, "expected host:port (IPv6 as [::1]:8080) with a port from 0 to 65535")
                    }
                    configuration.listen = text
                }
            case "public_url":
                if let text = string(value, at: key) {
                    do { _ = try SignedTarget(publicBaseURL: text, endpointPath: "/") } catch {
                        problem(key, value, "\(error)")
                    }
                    configuration.publicURL = text
                }
            case "state_dir": configuration.stateDirectory = path(value, at: key) ?? configuration.stateDirectory
            case "clock_skew_seconds":
                configuration.clockSkewSeconds =
                    integer(value, at: key, in: 0...86_400) ?? configuration.clockSkewSeconds
            case "max_body_bytes":
                configuration.maxBodyBytes =
                    integer(value, at: key, in: 1...DaemonConfiguration.largestBody) ?? configuration.maxBodyBytes
            case "dedup_max_ids":
                configuration.dedupMaxIDs = integer(value, at: key, in: 1000...50_000_000) ?? configuration.dedupMaxIDs
                if configuration.dedupMaxIDs > Self.dedupIDsWithinMemoryMax {
                    let mebibytes = configuration.dedupMaxIDs * 26 * 3 >> 20
                    problem(
                        key,
                        value,
                        """
                        \(configuration.dedupMaxIDs) ids need about \(mebibytes) MiB (26 bytes each, three times over on the first start after an upgrade) and do not fit \
                        the service's MemoryMax=1G (systemd/vipps-webhookd.service); at most \
                        \(Self.dedupIDsWithinMemoryMax)
                        """
                    )
                }
            case "server": configuration.server = readServer(value)
            case "log": configuration.log = readLog(value)
            case "endpoints": endpointsNode = value
            case "sinks": sinksNode = value
            case "vipps_api": configuration.vippsAPI = readVippsAPI(value)
            default:
                problem(
                    key,
                    keyNode,
                    "unknown key (known: listen, public_url, state_dir, clock_skew_seconds, "
                        + "max_body_bytes, dedup_max_ids, server, log, endpoints, sinks, vipps_api)"
                )
            }
        }
        let minimumBuffered = configuration.minimumBufferedBytes
        if let explicit = configuration.server.maxBufferedBytes, explicit < minimumBuffered {
            let message = "must be at least 8 × (server.max_header_bytes + max_body_bytes) = \(minimumBuffered)"
            problem("server.max_buffered_bytes", bufferedBytesNode, message)
        }
        if let sinksNode { configuration.sinks = readSinks(sinksNode) } else { problem("sinks", root, "missing") }
        let sinkNames = Set(configuration.sinks.map(\.name))
        if let endpointsNode {
            configuration.endpoints = readEndpoints(
                endpointsNode,
                publicURL: configuration.publicURL,
                sinkNames: sinkNames
            )
        } else {
            problem("endpoints", root, "missing")
        }
        for conflict in CrossEndpointRouting.conflicts(configuration.endpoints) {
            let first = configuration.endpoints[conflict.first].path
            let second = configuration.endpoints[conflict.second].path
            warning(
                "endpoints[\(conflict.second)]",
                nil,
                "\(first) and \(second) route \(conflict.type) to different sinks "
                    + "(\(conflict.firstSinks.joined(separator: ", ")) / \(conflict.secondSinks.joined(separator: ", "))); "
                    + "events are deduplicated across endpoints, so one delivered to both reaches only the sinks of "
                    + "the endpoint it reaches first"
            )
        }
        for sink in configuration.sinks {
            guard case .exec(let argv, _, _, _) = sink.kind else { continue }
            for message in RoutedFieldCheck.problems(sink: sink.name, argv: argv, endpoints: configuration.endpoints) {
                problem("sinks.\(sink.name).exec", execNodes[sink.name], message)
            }
        }
        let used = Set(configuration.endpoints.flatMap { $0.routes.flatMap(\.sinks) })
        for sink in configuration.sinks where !used.contains(sink.name) {
            warning("sinks.\(sink.name)", nil, "no route sends events to this sink")
        }
        return configuration
    }

    // MARK: - server, log

    private mutating func readServer(_ node: YAMLNode) -> DaemonConfiguration.ServerLimits {
        var limits = DaemonConfiguration.ServerLimits()
        guard let mapping = mapping(node, at: "server") else { return limits }
        for (key, value, keyNode) in entries(mapping, at: "server") {
            let path = "server.\(key)"
            switch key {
            case "header_timeout_seconds":
                limits.headerTimeoutSeconds = integer(value, at: path, in: 1...3600) ?? limits.headerTimeoutSeconds
            case "body_timeout_seconds":
                limits.bodyTimeoutSeconds = integer(value, at: path, in: 1...3600) ?? limits.bodyTimeoutSeconds
            case "idle_timeout_seconds":
                limits.idleTimeoutSeconds = integer(value, at: path, in: 1...86_400) ?? limits.idleTimeoutSeconds
            case "max_header_bytes":
                limits.maxHeaderBytes = integer(value, at: path, in: 1024...(1 << 20)) ?? limits.maxHeaderBytes
            case "max_header_count":
                limits.maxHeaderCount = integer(value, at: path, in: 1...10_000) ?? limits.maxHeaderCount
            case "max_buffered_bytes":
                limits.maxBufferedBytes = integer(value, at: path, in: (1 << 20)...(1 << 34))
                bufferedBytesNode = value
            case "max_connections":
                limits.maxConnections = integer(value, at: path, in: 1...1_000_000) ?? limits.maxConnections
            case "max_requests_per_connection":
                limits.maxRequestsPerConnection =
                    integer(value, at: path, in: 1...100_000_000) ?? limits.maxRequestsPerConnection
            case "shutdown_grace_seconds":
                limits.shutdownGraceSeconds = integer(value, at: path, in: 0...3600) ?? limits.shutdownGraceSeconds
            default: problem(path, keyNode, "unknown key")
            }
        }
        return limits
    }

    private mutating func readLog(_ node: YAMLNode) -> DaemonConfiguration.LogSettings {
        var settings = DaemonConfiguration.LogSettings()
        guard let mapping = mapping(node, at: "log") else { return settings }
        for (key, value, keyNode) in entries(mapping, at: "log") {
            switch key {
            case "format":
                if let text = string(value, at: "log.format") {
                    if let format = DaemonConfiguration.LogSettings.Format(rawValue: text) {
                        settings.format = format
                    } else {
                        problem("log.format", value, "expected auto, json or text")
                    }
                }
            case "level":
                if let text = string(value, at: "log.level") {
                    if LogSettingsLevel.isValid(text) {
                        settings.level = text
                    } else {
                        problem("log.level", value, "expected trace, debug, info, notice, warning, error or critical")
                    }
                }
            default: problem("log.\(key)", keyNode, "unknown key")
            }
        }
        return settings
    }

    // MARK: - sinks

    private mutating func readSinks(_ node: YAMLNode) -> [DaemonConfiguration.Sink] {
        guard let mapping = mapping(node, at: "sinks") else { return [] }
        var sinks: [DaemonConfiguration.Sink] = []
        // File sinks by their path without empty and "." parts (the daemon also compares the files it opens).
        var fileWriters: [String: String] = [:]
        for (name, value, keyNode) in entries(mapping, at: "sinks") {
            let path = "sinks.\(name)"
            guard SinkName.isValid(name) else {
                problem(path, keyNode, "a sink name may hold letters, digits, '-', '_' and '.' (1 to 64 characters)")
                continue
            }
            guard let sinkMapping = self.mapping(value, at: path) else { continue }
            var file: String?
            var argv: [String]?
            var timeout = 30
            var attempts = 8
            var concurrency = 4
            for (key, item, itemKey) in entries(sinkMapping, at: path) {
                switch key {
                case "file": file = string(item, at: "\(path).file")
                case "exec":
                    argv = stringList(item, at: "\(path).exec")
                    execNodes[name] = item
                case "timeout_seconds": timeout = integer(item, at: "\(path).\(key)", in: 1...86_400) ?? timeout
                case "max_attempts": attempts = integer(item, at: "\(path).\(key)", in: 1...1000) ?? attempts
                case "concurrency": concurrency = integer(item, at: "\(path).\(key)", in: 1...256) ?? concurrency
                default:
                    problem(
                        "\(path).\(key)",
                        itemKey,
                        "unknown key (known: file, exec, timeout_seconds, "
                            + "max_attempts, concurrency)"
                    )
                }
            }
            switch (file, argv) {
            case (let file?, nil):
                if let why = Self.pathProblem(file) {
                    problem("\(path).file", value, why)
                } else {
                    for identity in SinkFileIdentity.identities(of: file) {
                        if let other = fileWriters.updateValue(name, forKey: identity), other != name {
                            problem(
                                "\(path).file",
                                value,
                                "the same file as sink \(other); give each file sink its own file"
                            )
                            break
                        }
                    }
                }
                for key in ["timeout_seconds", "max_attempts", "concurrency"] where sinkMapping[key] != nil {
                    problem("\(path).\(key)", value, "applies to exec sinks only")
                }
                sinks.append(.init(name: name, kind: .file(path: file)))
            case (nil, let argv?):
                if argv.isEmpty {
                    problem("\(path).exec", value, "needs at least the program")
                } else if argv[0].contains("{") {
                    problem("\(path).exec[0]", value, "the program cannot be a {placeholder}")
                } else if argv.contains(where: { $0.utf8.contains(0) }) {
                    problem("\(path).exec", value, "arguments cannot contain NUL")
                } else if ProcessRunner.resolveExecutable(
                    argv[0],
                    searchPath: ExecSinkConfiguration.defaultSearchPath
                ) == nil {
                    // A warning: the hook may be installed after the configuration.
                    warning(
                        "\(path).exec[0]",
                        value,
                        "no executable file \(argv[0]) (hooks' PATH: \(ExecSinkConfiguration.defaultSearchPath)); "
                            + "until there is one, every event for this sink fails to start its hook and ends as a "
                            + "dead letter"
                    )
                }
                sinks.append(
                    .init(
                        name: name,
                        kind: .exec(
                            argv: argv,
                            timeoutSeconds: timeout,
                            maxAttempts: attempts,
                            concurrency: concurrency
                        )
                    )
                )
            case (.some, .some): problem(path, value, "give either file or exec, not both")
            case (nil, nil): problem(path, value, "needs file: PATH or exec: [PROGRAM, ARG…]")
            }
        }
        return sinks
    }

    // MARK: - endpoints

    private mutating func readEndpoints(
        _ node: YAMLNode,
        publicURL: String?,
        sinkNames: Set<String>
    ) -> [DaemonConfiguration.Endpoint] {
        guard let sequence = sequence(node, at: "endpoints") else { return [] }
        if sequence.isEmpty { problem("endpoints", node, "needs at least one endpoint") }
        var endpoints: [DaemonConfiguration.Endpoint] = []
        var seenPaths: Set<String> = []
        for (index, item) in sequence.enumerated() {
            let path = "endpoints[\(index)]"
            guard let mapping = mapping(item, at: path) else { continue }
            var endpointPath: String?
            var ownURL: String?
            var secrets: [WebhookSecret] = []
            var sawSecret = false
            var routes: [Route] = []
            for (key, value, keyNode) in entries(mapping, at: path) {
                let keyPath = "\(path).\(key)"
                switch key {
                case "path": endpointPath = string(value, at: keyPath)
                case "public_url": ownURL = string(value, at: keyPath)
                case "secret_file", "secret_env", "secret_credential", "secret", "secrets":
                    sawSecret = true
                    secrets += readSecrets(key: key, value: value, at: keyPath)
                case "routes": routes = readRoutes(value, at: keyPath, sinkNames: sinkNames)
                default:
                    problem(
                        keyPath,
                        keyNode,
                        "unknown key (known: path, public_url, secret_file, secret_env, "
                            + "secret_credential, secrets, secret, routes)"
                    )
                }
            }
            guard let endpointPath else {
                problem("\(path).path", item, "missing")
                continue
            }
            if !endpointPath.hasPrefix("/") || endpointPath.contains("?") || endpointPath.contains("#")
                || endpointPath.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F })
            {
                problem("\(path).path", item, "must start with / and hold no query, fragment, space or control")
            } else if Self.reservedPaths.contains(endpointPath) {
                problem("\(path).path", item, "\(endpointPath) is the daemon's own")
            } else if !seenPaths.insert(endpointPath).inserted {
                problem("\(path).path", item, "\(endpointPath) is configured twice")
            }
            if !sawSecret {
                problem(path, item, "needs a secret: secret_file, secret_env, secret_credential or secrets")
            }
            if routes.isEmpty { problem("\(path).routes", item, "needs at least one route") }
            var target: SignedTarget?
            do {
                if let ownURL {
                    target = try SignedTarget(url: ownURL)
                } else if let publicURL {
                    target = try SignedTarget(publicBaseURL: publicURL, endpointPath: endpointPath)
                }
            } catch {
                problem(ownURL != nil ? "\(path).public_url" : "public_url", item, "\(error)")
            }
            if ownURL == nil && publicURL == nil {
                let message =
                    "no public_url: the signed host and path of \(endpointPath) are taken from each request's Host "
                    + "header and target, so a delivery signed for another URL with the same secret is accepted; "
                    + "set public_url to the URL registered with Vipps MobilePay"
                warning(path, item, message)
            }
            endpoints.append(.init(path: endpointPath, signedTarget: target, secrets: secrets, routes: routes))
        }
        return endpoints
    }

    private mutating func readSecrets(key: String, value: YAMLNode, at path: String) -> [WebhookSecret] {
        var sources: [(SecretSource, String, YAMLNode)] = []
        switch key {
        case "secret_file": string(value, at: path).map { sources.append((.file($0), path, value)) }
        case "secret_env": string(value, at: path).map { sources.append((.environment($0), path, value)) }
        case "secret_credential": string(value, at: path).map { sources.append((.credential($0), path, value)) }
        case "secret":
            if let text = string(value, at: path) {
                warning(path, value, "an inline secret is readable by whoever reads this file; prefer secret_file")
                sources.append((.inline(text), path, value))
            }
        default:
            guard let list = sequence(value, at: path) else { return [] }
            if list.isEmpty { problem(path, value, "empty list") }
            for (index, item) in list.enumerated() {
                let itemPath = "\(path)[\(index)]"
                if let file = item.scalar?.text, item.tag == .str {
                    sources.append((.file(file), itemPath, item))
                } else if let map = item.mapping, map.count == 1, let (entryKey, entryValue) = map.first.map({ $0 }),
                    let kind = entryKey.string, let text = entryValue.string
                {
                    switch kind {
                    case "file": sources.append((.file(text), itemPath, item))
                    case "env": sources.append((.environment(text), itemPath, item))
                    case "credential": sources.append((.credential(text), itemPath, item))
                    default:
                        problem(itemPath, item, "expected a file path, {file: PATH}, {env: NAME} or {credential: NAME}")
                    }
                } else {
                    problem(itemPath, item, "expected a file path, {file: PATH}, {env: NAME} or {credential: NAME}")
                }
            }
        }
        var secrets: [WebhookSecret] = []
        for (source, sourcePath, node) in sources {
            switch secretResolver.resolve(source) {
            case .success(let resolved):
                secrets.append(resolved.secret)
                if let concern = resolved.warning { warning(sourcePath, node, concern) }
            case .failure(let failure):
                problem(sourcePath, node, failure.message)
            }
        }
        return secrets
    }

    private mutating func readRoutes(_ node: YAMLNode, at path: String, sinkNames: Set<String>) -> [Route] {
        guard let list = sequence(node, at: path) else { return [] }
        var routes: [Route] = []
        for (index, item) in list.enumerated() {
            let routePath = "\(path)[\(index)]"
            guard let mapping = mapping(item, at: routePath) else { continue }
            var events: [EventPattern] = []
            var filters: [RouteFilter] = []
            var sinks: [String] = []
            for (key, value, keyNode) in entries(mapping, at: routePath) {
                switch key {
                case "events":
                    let patterns = stringList(value, at: "\(routePath).events") ?? []
                    if patterns.isEmpty {
                        problem("\(routePath).events", value, "needs at least one event type or glob")
                    }
                    events = patterns.map(EventPattern.init)
                    for (patternIndex, pattern) in patterns.enumerated() {
                        if let message = RoutedFieldCheck.problem(pattern: pattern) {
                            problem("\(routePath).events[\(patternIndex)]", value, message)
                        }
                    }
                case "where": filters = readFilters(value, at: "\(routePath).where")
                case "sinks":
                    sinks = stringList(value, at: "\(routePath).sinks") ?? []
                    if sinks.isEmpty { problem("\(routePath).sinks", value, "needs at least one sink") }
                    for (sinkIndex, sink) in sinks.enumerated() where !sinkNames.contains(sink) {
                        problem("\(routePath).sinks[\(sinkIndex)]", value, "no sink named \"\(sink)\" under sinks:")
                    }
                default: problem("\(routePath).\(key)", keyNode, "unknown key (known: events, where, sinks)")
                }
            }
            if mapping["events"] == nil { problem("\(routePath).events", item, "missing") }
            if mapping["sinks"] == nil { problem("\(routePath).sinks", item, "missing") }
            for filter in filters {
                guard let concern = RoutedFieldCheck.concern(whereField: filter.field, events: events) else { continue }
                if concern.isProblem {
                    problem("\(routePath).where.\(filter.field)", mapping["where"], concern.message)
                } else {
                    warning("\(routePath).where.\(filter.field)", mapping["where"], concern.message)
                }
            }
            routes.append(Route(events: events, filters: filters, sinks: sinks))
        }
        return routes
    }

    private mutating func readFilters(_ node: YAMLNode, at path: String) -> [RouteFilter] {
        guard let mapping = mapping(node, at: path) else { return [] }
        var filters: [RouteFilter] = []
        for (field, value, _) in entries(mapping, at: path) {
            let fieldPath = "\(path).\(field)"
            guard let scalar = value.scalar else {
                problem(fieldPath, value, "expected a string, number or boolean")
                continue
            }
            switch value.tag {
            case .str: filters.append(RouteFilter(field: field, value: .string(scalar.text)))
            case .bool:
                if let bool = value.bool { filters.append(RouteFilter(field: field, value: .bool(bool))) }
            case .int, .float:
                if let number = JSONNumber(scalar.text) {
                    filters.append(RouteFilter(field: field, value: .number(number)))
                } else {
                    problem(fieldPath, value, "write the number in decimal (e.g. 49900 or 12.5), or quote it")
                }
            default: problem(fieldPath, value, "expected a string, number or boolean")
            }
        }
        return filters
    }

    // MARK: - YAMLNode helpers

    mutating func mapping(_ node: YAMLNode, at path: String) -> YAMLMapping? {
        guard let mapping = node.mapping else {
            problem(path, node, "expected a mapping (key: value)")
            return nil
        }
        return mapping
    }

    private mutating func sequence(_ node: YAMLNode, at path: String) -> [YAMLNode]? {
        guard let sequence = node.sequence else {
            problem(path, node, "expected a list")
            return nil
        }
        return Array(sequence)
    }

    /// The string keys of `mapping` with their values (the parser refuses a repeated key); a non-string key is a
    /// problem.
    mutating func entries(_ mapping: YAMLMapping, at path: String) -> [(String, YAMLNode, YAMLNode)] {
        var result: [(String, YAMLNode, YAMLNode)] = []
        for (key, value) in mapping {
            guard let name = key.string, key.tag == .str else {
                problem(path, key, "keys must be strings")
                continue
            }
            result.append((name, value, key))
        }
        return result
    }

    mutating func string(_ node: YAMLNode, at path: String) -> String? {
        guard let scalar = node.scalar, node.tag == .str else {
            problem(path, node, "expected a string")
            return nil
        }
        return scalar.text
    }

    /// A file or directory path: a string, not empty, without NUL (`open(2)` would take the path cut at it).
    private mutating func path(_ node: YAMLNode, at path: String) -> String? {
        guard let text = string(node, at: path) else { return nil }
        if let why = Self.pathProblem(text) {
            problem(path, node, why)
            return nil
        }
        return text
    }

    /// Why `text` cannot be a path (empty, or holding a NUL), or nil.
    private static func pathProblem(_ text: String) -> String? {
        if text.isEmpty { return "empty path" }
        return text.utf8.contains(0) ? "a path cannot contain NUL" : nil
    }

    private mutating func integer(_ node: YAMLNode, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, node.tag == .int, let value = node.int else {
            problem(path, node, "expected a whole number")
            return nil
        }
        let digits = scalar.text.utf8.drop { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }.filter {
            $0 != UInt8(ascii: "_")  // YAML 1.1 separators: 0_10 is octal too
        }
        if digits.count > 1, digits.first == UInt8(ascii: "0"), digits.allSatisfy(ASCII.isDigit) {
            // YAML 1.1 (as libyaml) reads 010 as octal 8: surely not what was meant.
            problem(path, node, "a leading 0 makes the number octal in YAML; write it without (or as 0o… for octal)")
            return nil
        }
        guard range.contains(value) else {
            problem(path, node, "must be from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    private mutating func stringList(_ node: YAMLNode, at path: String) -> [String]? {
        guard let list = sequence(node, at: path) else { return nil }
        var strings: [String] = []
        for (index, item) in list.enumerated() {
            guard let scalar = item.scalar else {
                problem("\(path)[\(index)]", item, "expected a string")
                continue
            }
            // Unquoted YAML numbers and booleans are taken as written: argv and globs are text.
            strings.append(scalar.text)
        }
        return strings
    }
}

/// Valid sink names.
enum SinkName {
    static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                ASCII.isLetterOrDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: ".")
            }
    }
}

/// Valid `log.level` names (swift-log's).
enum LogSettingsLevel {
    static func isValid(_ name: String) -> Bool {
        ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(name)
    }
}
