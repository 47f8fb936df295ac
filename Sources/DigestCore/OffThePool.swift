import Foundation

/// Runs blocking work (libcurl, libpq, a child process, a socket read) on a thread of its own and waits for it
/// without holding a thread of Swift's cooperative pool. That pool has one thread per core, two on a small
/// server: two tasks blocked on the network would stall every other task of `digest serve` (and, in the tests,
/// every other test) for as long.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
