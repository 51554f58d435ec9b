/// When to try a deferred message again, and when to give up.
///
/// The defaults are Postfix's: first retry after 5 minutes, doubling, at most 4,000 s
/// apart, give up after 5 days. Each delay gets up to 10% of jitter so that a queue
/// deferred at once does not come back at once.
public struct RetryPolicy: Sendable {
    /// Seconds before the first retry.
    public var firstDelay = 300
    /// The longest wait between attempts.
    public var maximumDelay = 4_000
    /// Seconds after which a message that still cannot be delivered fails.
    public var lifetime = 5 * 86_400

    /// The default policy.
    public init() {}

    /// The wait after `attempts` failed attempts.
    public func delay(afterAttempts attempts: Int) -> Int {
        let doublings = min(max(attempts - 1, 0), 20)
        let base = min(maximumDelay, firstDelay << doublings)
        return base + Int.random(in: 0...max(base / 10, 0))
    }
}
