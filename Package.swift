// swift-tools-version:6.0
import PackageDescription

// route and mark start once per message. Loading the shared C++ runtime, libm and libc took two
// thirds of route's start-up, so release builds are one static executable (0 shared objects).
// Debug builds, which the tests run, link only the Swift runtime in, so the crash harness can
// still preload its shim; `make test` also runs route's process tests on the static build.
let startedPerMessage: [LinkerSetting] = [
    .unsafeFlags(["-static-executable"], .when(configuration: .release)),
    .unsafeFlags(["-static-stdlib"], .when(configuration: .debug)),
]

// verify links swift-crypto, whose FoundationEssentials needs these when linked statically.
let verifyLinkerSettings =
    startedPerMessage
    + ["_FoundationCollections", "_FoundationCShims", "swiftSynchronization"].map {
        LinkerSetting.linkedLibrary($0)
    }

let package = Package(
    name: "postroom",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Postroom", targets: ["Postroom"]),
        .library(name: "PostroomCore", targets: ["PostroomCore"]),
        .executable(name: "postroom", targets: ["postroom"]),
        .executable(name: "expand", targets: ["expand"]),
        .executable(name: "render", targets: ["render"]),
        .executable(name: "deliver", targets: ["deliver"]),
        .executable(name: "route", targets: ["route"]),
        .executable(name: "mark", targets: ["mark"]),
        .executable(name: "verify", targets: ["verify"]),
        // Test-only: the crash harness preloads it to stop a stage at a chosen step.
        .library(name: "CrashPoint", type: .dynamic, targets: ["CCrashPoint"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/stencilproject/Stencil", from: "0.15.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
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
        .systemLibrary(name: "CSystem"),
        // TXT lookups through the system resolver library, for DMARC policies.
        .target(
            name: "CResolv",
            linkerSettings: [.linkedLibrary("resolv")]
        ),
        // The Foundation-free core: spool, message model, envelope, configuration, routing.
        // `route` starts once per incoming message and links only this.
        .target(
            name: "PostroomCore",
            dependencies: ["CSystem", "CResolv"]
        ),
        // DKIM and ARC: keys, signing and verification through swift-crypto (Ed25519, and RSA from
        // _CryptoExtras). Without Stencil or curl, so a program that only checks signatures stays small.
        .target(
            name: "PostroomDKIM",
            dependencies: [
                "PostroomCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Postroom",
            dependencies: [
                "PostroomCore", "PostroomDKIM", "CCurl", "CMagic", "CSystem",
                .product(name: "Stencil", package: "Stencil"),
            ]
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
        .executableTarget(
            name: "expand",
            dependencies: ["Postroom", "PostroomCLI"]
        ),
        .executableTarget(
            name: "render",
            dependencies: ["Postroom", "PostroomCLI"]
        ),
        .executableTarget(
            name: "deliver",
            dependencies: ["Postroom", "PostroomCLI"]
        ),
        // Started by the MTA once per incoming message: the core only, linked statically.
        .executableTarget(
            name: "route",
            dependencies: ["PostroomCore"],
            linkerSettings: startedPerMessage
        ),
        // Started once per returning message (loopback copies, bounces), like route.
        .executableTarget(
            name: "mark",
            dependencies: ["PostroomCore"],
            linkerSettings: startedPerMessage
        ),
        // Run by route for list posts that are sealed or must be signed: the crypto route does
        // not link. Static in release like route; swift-crypto needs only FoundationEssentials.
        .executableTarget(
            name: "verify",
            dependencies: ["PostroomDKIM"],
            linkerSettings: verifyLinkerSettings
        ),
        // Test-only worker that exercises the spool from separate processes.
        .executableTarget(
            name: "spool-worker",
            dependencies: ["Postroom"],
            path: "Tests/Helpers/spool-worker"
        ),
        .target(
            name: "CCrashPoint",
            path: "Tests/Helpers/crashpoint"
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postroom", "CSystem"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "PostroomTests",
            dependencies: [
                "Postroom", "PostroomCore", "TestSupport",
                // An independent implementation to check the core's digests against.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Runs the built executables over temporary spools.
        .testTarget(
            name: "CommandTests",
            dependencies: ["Postroom", "PostroomCore", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
