/// The handlers a rule table may name; each is one file under `Handlers/` (or `List/`).
public enum RouteHandlers {
    /// Every handler, by the name used in the table.
    public static let all: [any RouteHandler.Type] = [
        ListHandler.self, RedirectHandler.self, ForwardHandler.self, MaildirHandler.self, RejectHandler.self,
        SRSHandler.self, BounceHandler.self, UnsubscribeHandler.self, LoopbackHandler.self,
    ]
}
