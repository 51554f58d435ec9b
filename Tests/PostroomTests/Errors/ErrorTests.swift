import Glibc
import Postroom
import Testing

@Suite struct ErrorTests {
    @Test func sysexitsNumbersMatchSysexitsH() {
        let expected: [Sysexit: Int32] = [
            .ok: 0, .usage: 64, .dataError: 65, .noInput: 66, .noUser: 67, .unavailable: 69, .software: 70,
            .cantCreate: 73, .ioError: 74, .tempFail: 75, .noPermission: 77, .config: 78,
        ]
        for status in Sysexit.allCases { #expect(status.rawValue == expected[status]) }
    }

    @Test func everyErrorMapsToOneCode() {
        let cases: [(PostroomError, Sysexit)] = [
            (.usage("x"), .usage),
            (.malformed(what: "message", location: nil, reason: "r"), .dataError),
            (.missingInput(path: "/p", reason: "r"), .noInput),
            (.unknownRecipient("a@b"), .noUser),
            (.unavailable("550 no"), .unavailable),
            (.cannotCreate(path: "/p", errno: EACCES), .cantCreate),
            (.cannotCreate(path: "/p", errno: ENOSPC), .tempFail),
            (.io(operation: "write", path: "/p", errno: EIO), .ioError),
            (.io(operation: "write", path: "/p", errno: EDQUOT), .tempFail),
            (.temporary("server down"), .tempFail),
            (.configuration(location: nil, reason: "r"), .config),
        ]
        for (error, status) in cases { #expect(error.exitStatus == status, "\(error)") }
    }

    @Test func messagesSayWhatWhereAndWhatToDo() {
        let full = PostroomError.io(operation: "write", path: "/spool/outgoing/tmp/x", errno: ENOSPC)
        #expect(
            full.description
                == "cannot write /spool/outgoing/tmp/x: No space left on device; free space on the file system, then run the command again"
        )
        let config = PostroomError.configuration(
            location: "/etc/postroom/postroom.conf line 3", reason: "unknown key \"spol\"")
        #expect(config.description == "configuration error: /etc/postroom/postroom.conf line 3: unknown key \"spol\"")
        // A file that cannot be created for want of its directory names the directory.
        let key = PostroomError.cannotCreate(path: "/etc/postroom/dkim/s1.key", errno: ENOENT)
        #expect(
            key.description
                == "cannot create /etc/postroom/dkim/s1.key: No such file or directory; /etc/postroom/dkim does not "
                + "exist: create it (for a spool, 'postroom init'), or check the path")
        #expect(PostroomError.cannotCreate(path: "s1.key", errno: ENOENT).description.contains("; . does not exist"))
    }
}
