// The full library builds on the Foundation-free core and the DKIM module; its users see all three.
@_exported import PostroomCore
@_exported import PostroomDKIM
