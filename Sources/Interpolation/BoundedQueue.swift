import Foundation

/// A blocking first-in first-out queue with a fixed capacity: a producer waits while it is full, so frames in
/// flight, and the memory they take, stay bounded however long the video is.
public final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element?] = []   // popped slots are cleared at once so nothing outlives its turn
    private var head = 0
    private let capacity: Int
    private var closed = false
    private let condition = NSCondition()

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Waits for room; returns false if the queue was closed (the consumer gave up).
    @discardableResult
    public func push(_ item: Element) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count - head >= capacity && !closed { condition.wait() }
        if closed { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for an item; nil once the queue is closed and drained.
    public func pop() -> Element? {
        condition.lock(); defer { condition.unlock() }
        while items.count == head && !closed { condition.wait() }
        if items.count == head { return nil }
        let item = items[head]!
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.broadcast()
        return item
    }

    /// No more pushes; pops drain what is left, then return nil.
    public func close() {
        condition.lock(); closed = true; condition.broadcast(); condition.unlock()
    }

    /// Drops everything and closes: used when a stage fails so that the others stop.
    public func cancel() {
        condition.lock(); closed = true; items.removeAll(); head = 0; condition.broadcast(); condition.unlock()
    }

    /// Most items ever held at once, for tests of the bound.
    public var count: Int { condition.lock(); defer { condition.unlock() }; return items.count - head }
}
