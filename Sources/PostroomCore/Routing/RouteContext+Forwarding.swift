extension RouteContext {
    /// The envelope sender for an alias copy of `message` to `target`.
    func forwardingSender(_ message: IncomingMessage, to target: String) throws(PostroomError) -> String? {
        message.sender
    }
}
