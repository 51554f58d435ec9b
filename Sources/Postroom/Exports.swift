// The full library builds on the Foundation-free core; its users see both.
@_exported import PostroomCore
