import Logging

/// A logger for tests that build a store, a sink or a dispatcher: errors only, so that a failing test shows what went
/// wrong without the noise of every passing one.
public let testLogger: Logger = {
    var logger = Logger(label: "tests")
    logger.logLevel = .error
    return logger
}()
