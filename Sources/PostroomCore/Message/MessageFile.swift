import Glibc

/// Reading messages from files and standard input, for filters and tools.
public enum MessageFile {
    /// Reads a whole file.
    public static func read(_ path: String) throws(PostroomError) -> [UInt8] {
        try FileSystem.readFile(path)
    }

    /// Reads standard input to its end.
    public static func readStandardInput() throws(PostroomError) -> [UInt8] {
        try FileSystem.readAll(STDIN_FILENO, path: "standard input")
    }
}
