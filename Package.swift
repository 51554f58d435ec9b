// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "postroom",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Postroom", targets: ["Postroom"]),
        .executable(name: "postroom", targets: ["postroom"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CMagic",
            pkgConfig: "libmagic",
            providers: [.apt(["libmagic-dev"])]
        ),
        .target(
            name: "Postroom",
            dependencies: ["CCurl", "CMagic"]
        ),
        // Command-line glue shared by every executable: options and exit codes.
        .target(
            name: "PostroomCLI",
            dependencies: [
                "Postroom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "postroom",
            dependencies: ["Postroom", "PostroomCLI"]
        ),
        // Test-only worker that exercises the spool from separate processes.
        .executableTarget(
            name: "spool-worker",
            dependencies: ["Postroom"],
            path: "Tests/Helpers/spool-worker"
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postroom"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "PostroomTests",
            dependencies: ["Postroom", "TestSupport"]
        ),
        // Runs the built executables over temporary spools.
        .testTarget(
            name: "CommandTests",
            dependencies: ["Postroom", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
