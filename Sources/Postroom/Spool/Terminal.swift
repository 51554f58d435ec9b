import Glibc

/// Facts about the standard streams.
public enum Terminal {
    /// Whether `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Whether standard input carries data (a pipe or a file), not a terminal or /dev/null.
    public static var standardInputHasData: Bool {
        guard let info = FileSystem.status(fd: STDIN_FILENO) else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFREG || type == S_IFSOCK
    }
}
