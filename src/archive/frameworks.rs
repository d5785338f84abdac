//! What a macOS provider binary may load, and which library each Apple symbol lives in:
//! one curated table, shared by the framework stubs parbuild generates for a build without
//! an SDK and by `verify`'s Mach-O checks, so the two can never disagree.
//!
//! Two-level namespace binaries bind every imported symbol to one library by ordinal; a
//! symbol bound to the wrong framework links fine and fails only on a Mac, at load time.
//! So attribution is by rule, never by guess: a symbol belongs to the framework whose
//! rule matches it most specifically (an exact name beats any prefix, a longer prefix
//! beats a shorter one, e.g. `kCFProxy…` is CFNetwork's although `kCF…` is
//! CoreFoundation's). Names here are C names, without Mach-O's leading underscore.
//!
//! The data comes from the public headers' naming conventions of each framework (and the
//! symbols the Rust ecosystem's `-sys` crates declare); it is tested below against the
//! symbols real providers link. It is not Apple's SDK and holds none of its files.
//!
//! One file because it is one table, [`FRAMEWORKS`], and the few lookups that read it; the
//! tests check it against the symbols real providers link.

/// One Apple framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framework {
    /// Its name (`Security`).
    pub name: &'static str,
    /// The compatibility version its install name is linked with (dyld requires the
    /// installed framework's to be at least this).
    pub compatibility_version: &'static str,
    /// The current version a stub records.
    pub current_version: &'static str,
    /// Prefixes of the C names it exports.
    pub prefixes: &'static [&'static str],
    /// Exact C names it exports (beat every prefix).
    pub exact: &'static [&'static str],
    /// Frameworks whose symbols it re-exports (an umbrella): a symbol of those bound to
    /// this one is found at load time too.
    pub reexports: &'static [&'static str],
    /// Prefixes its rules must not claim although a prefix matches (OpenSSL's `SSL_new` is
    /// not Security's `SSLHandshake`; `NSObject` is libobjc's, not Foundation's).
    pub except: &'static [&'static str],
}

impl Framework {
    /// Its install name: `/System/Library/Frameworks/<F>.framework/Versions/A/<F>`.
    pub fn install_name(&self) -> String {
        install_name(self.name)
    }

    /// Whether the table has rules for its symbols (then every symbol bound to it can be
    /// checked).
    pub fn has_rules(&self) -> bool {
        !self.prefixes.is_empty() || !self.exact.is_empty()
    }
}

/// The install name of system framework `name`.
pub fn install_name(name: &str) -> String {
    format!("/System/Library/Frameworks/{name}.framework/Versions/A/{name}")
}

const fn fw(
    name: &'static str,
    compatibility_version: &'static str,
    prefixes: &'static [&'static str],
    exact: &'static [&'static str],
) -> Framework {
    Framework {
        name,
        compatibility_version,
        current_version: compatibility_version,
        prefixes,
        exact,
        reexports: &[],
        except: &[],
    }
}

const fn umbrella(name: &'static str, reexports: &'static [&'static str]) -> Framework {
    Framework {
        name,
        compatibility_version: "1.0.0",
        current_version: "1.0.0",
        prefixes: &[],
        exact: &[],
        reexports,
        except: &[],
    }
}

/// Every framework parbuild knows. A Mach-O binary loading a framework outside this table
/// fails `verify` ("unknown framework"); one inside it with rules has every symbol bound
/// to it checked against them.
pub const FRAMEWORKS: &[Framework] = &[
    fw(
        "CoreFoundation",
        "150.0.0",
        &["CF", "kCF", "__CF", "__kCF"],
        &[],
    ),
    fw(
        "CFNetwork",
        "1.0.0",
        &[
            "CFHTTP",
            "CFNetwork",
            "CFHost",
            "CFFTP",
            "CFNetService",
            "CFNetDiagnostic",
            "kCFProxy",
            "kCFHTTP",
            "kCFFTP",
            "kCFNetwork",
            "kCFStreamPropertySSL",
            "kCFStreamSSL",
            "kCFStreamPropertyHTTP",
            "kCFStreamPropertyFTP",
            "kCFStreamPropertySOCKS",
            "kCFStreamPropertyProxy",
            "kCFStreamErrorDomainSSL",
            "kCFStreamErrorDomainSOCKS",
            "kCFStreamErrorDomainNetDB",
            "kCFStreamErrorDomainNetServices",
            "kCFStreamErrorDomainMach",
            "kCFStreamErrorDomainFTP",
            "kCFStreamErrorDomainHTTP",
            "kCFErrorDomainCFNetwork",
            "kCFErrorDomainWinSock",
            "kCFURLErrorFailingURL",
            "kCFGetAddrInfoFailureKey",
            "kCFSOCKS",
            "kCFDNSServiceFailureKey",
            "kCFFTPStatusCodeKey",
        ],
        &[
            "CFStreamCreatePairWithSocketToCFHost",
            "CFStreamCreatePairWithSocketToNetService",
            "CFReadStreamCreateForHTTPRequest",
            "CFReadStreamCreateForStreamedHTTPRequest",
            "CFReadStreamCreateWithFTPURL",
            "CFWriteStreamCreateWithFTPURL",
        ],
    ),
    Framework {
        except: &["SSL_", "SSLv", "SSLeay"],
        ..fw(
            "Security",
            "1.0.0",
            &[
                "Sec",
                "kSec",
                "SSL",
                "kSSL",
                "CSSM",
                "cssm",
                "kCSSM",
                "Authorization",
                "kAuthorization",
                "CMSDecoder",
                "CMSEncoder",
                "CMSEncode",
                "kCMS",
                "mds_",
            ],
            &["SessionGetInfo", "SessionCreate"],
        )
    },
    fw("SystemConfiguration", "1.0.0", &["SC", "kSC"], &[]),
    Framework {
        reexports: &["CFNetwork"],
        ..fw(
            "CoreServices",
            "1.0.0",
            &[
                "FSEvent",
                "kFSEvent",
                "LS",
                "kLS",
                "UTType",
                "UTCreate",
                "kUTType",
                "kUTExport",
                "kUTImport",
                "MDItem",
                "kMDItem",
                "MDQuery",
                "kMDQuery",
                "AE",
                "kAE",
                "FSPath",
                "FSFindFolder",
                "FSGetCatalogInfo",
                "FSRefMake",
            ],
            &[
                "Gestalt",
                "DisposePtr",
                "NewPtr",
                "GetMacOSStatusErrorString",
            ],
        )
    },
    fw(
        "IOKit",
        "1.0.0",
        &["IO", "kIO", "IOKit"],
        &["IOPSCopyPowerSourcesInfo", "IOPSCopyPowerSourcesList"],
    ),
    fw("IOSurface", "1.0.0", &["IOSurface", "kIOSurface"], &[]),
    fw("DiskArbitration", "1.0.0", &["DA", "kDA"], &[]),
    Framework {
        except: &["OBJC_CLASS_$_NSObject", "OBJC_METACLASS_$_NSObject"],
        ..fw(
            "Foundation",
            "300.0.0",
            &["NS", "OBJC_CLASS_$_NS", "OBJC_METACLASS_$_NS"],
            &[],
        )
    },
    fw(
        "AppKit",
        "45.0.0",
        &[
            "NSApp",
            "NSWindow",
            "NSView",
            "NSScreen",
            "NSEvent",
            "NSImage",
            "NSColor",
            "NSMenu",
            "NSPasteboard",
            "NSWorkspace",
            "NSCursor",
            "NSFont",
            "NSAlert",
            "NSRunningApplication",
            "OBJC_CLASS_$_NSApplication",
            "OBJC_CLASS_$_NSWindow",
            "OBJC_CLASS_$_NSView",
            "OBJC_CLASS_$_NSScreen",
            "OBJC_CLASS_$_NSEvent",
            "OBJC_CLASS_$_NSImage",
            "OBJC_CLASS_$_NSColor",
            "OBJC_CLASS_$_NSMenu",
            "OBJC_CLASS_$_NSPasteboard",
            "OBJC_CLASS_$_NSWorkspace",
            "OBJC_CLASS_$_NSCursor",
            "OBJC_CLASS_$_NSFont",
            "OBJC_CLASS_$_NSAlert",
            "OBJC_CLASS_$_NSRunningApplication",
        ],
        &[],
    ),
    fw("CoreGraphics", "64.0.0", &["CG", "kCG"], &[]),
    fw("CoreText", "1.0.0", &["CT", "kCT"], &[]),
    fw(
        "ImageIO",
        "1.0.0",
        &[
            "CGImageSource",
            "CGImageDestination",
            "CGImageMetadata",
            "kCGImageProperty",
            "kCGImageDestination",
            "kCGImageSource",
            "kCGImageMetadata",
        ],
        &[],
    ),
    fw("ColorSync", "1.0.0", &["ColorSync", "kColorSync"], &[]),
    fw(
        "LocalAuthentication",
        "1.0.0",
        &["LAContext", "LAError"],
        &[],
    ),
    fw("CoreWLAN", "1.0.0", &["CW", "kCW"], &[]),
    fw("Network", "1.0.0", &["nw_", "_nw_"], &[]),
    umbrella("Cocoa", &["Foundation", "AppKit", "CoreData"]),
    umbrella(
        "ApplicationServices",
        &["CoreGraphics", "CoreText", "ImageIO", "ColorSync"],
    ),
    // Frameworks a provider may load whose symbols the table has no rules for: allowed,
    // but their bindings cannot be checked (and no stub is generated for them).
    fw("CoreData", "1.0.0", &[], &[]),
    fw("Metal", "1.0.0", &[], &[]),
    fw("AVFoundation", "2.0.0", &[], &[]),
    fw("CoreMedia", "1.0.0", &[], &[]),
    fw("CoreVideo", "1.2.0", &[], &[]),
    fw("CoreAudio", "1.0.0", &[], &[]),
    fw("AudioToolbox", "1.0.0", &[], &[]),
    fw("Accelerate", "1.0.0", &[], &[]),
    fw("OpenCL", "1.0.0", &[], &[]),
    fw("ServiceManagement", "1.0.0", &[], &[]),
    fw("UserNotifications", "1.0.0", &[], &[]),
    fw("CryptoTokenKit", "1.0.0", &[], &[]),
    fw("Kerberos", "1.0.0", &[], &[]),
    fw("GSS", "1.0.0", &[], &[]),
];

/// The frameworks whose symbols the table's rules place (those a stub can be made for).
pub fn with_rules() -> impl Iterator<Item = &'static Framework> {
    FRAMEWORKS.iter().filter(|f| f.has_rules())
}

/// The framework called `name`.
pub fn framework(name: &str) -> Option<&'static Framework> {
    FRAMEWORKS.iter().find(|f| f.name == name)
}

/// The framework of a C symbol name (no leading underscore), by the most specific rule;
/// `None` when no rule matches (then it is a libSystem symbol, or one the table does not
/// know).
pub fn attribute(symbol: &str) -> Option<&'static Framework> {
    if let Some(f) = FRAMEWORKS.iter().find(|f| f.exact.contains(&symbol)) {
        return Some(f);
    }
    FRAMEWORKS
        .iter()
        .filter(|f| !f.except.iter().any(|e| symbol.starts_with(e)))
        .flat_map(|f| f.prefixes.iter().map(move |p| (f, *p)))
        .filter(|(_, p)| symbol.starts_with(p))
        .max_by_key(|(_, p)| p.len())
        .map(|(f, _)| f)
}

/// Whether a symbol attributed to `owner` is found at load time when bound to `bound`:
/// the same framework, or an umbrella that re-exports it.
pub fn binds_to(owner: &Framework, bound: &Framework) -> bool {
    owner.name == bound.name || bound.reexports.contains(&owner.name)
}

/// What a Mach-O load command's dylib path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DylibPath {
    /// A system library under `/usr/lib` (libSystem, libiconv, libc++, …).
    SystemLibrary,
    /// A framework of the table.
    Framework(&'static Framework),
    /// A path under `/System/Library/Frameworks` that names no framework of the table.
    UnknownFramework(String),
    /// Anything else: a build machine's path, `@rpath`, a private framework, a Homebrew
    /// library… which a user's Mac does not have.
    NotSystem,
}

/// Classifies a dylib path of a load command.
pub fn classify(path: &str) -> DylibPath {
    if let Some(rest) = path.strip_prefix("/usr/lib/") {
        let plain = !rest.contains("..") && !rest.is_empty();
        return if plain && (rest.ends_with(".dylib") || !rest.contains('/')) {
            DylibPath::SystemLibrary
        } else {
            DylibPath::NotSystem
        };
    }
    let Some(rest) = path.strip_prefix("/System/Library/Frameworks/") else {
        return DylibPath::NotSystem;
    };
    let Some((bundle, inner)) = rest.split_once('/') else {
        return DylibPath::NotSystem;
    };
    let Some(name) = bundle.strip_suffix(".framework") else {
        return DylibPath::NotSystem;
    };
    // `<F>.framework/<F>` or `<F>.framework/Versions/<V>/<F>`.
    let well_formed = inner == name
        || inner
            .strip_prefix("Versions/")
            .and_then(|v| v.split_once('/'))
            .is_some_and(|(version, file)| !version.is_empty() && file == name);
    if !well_formed || path.contains("..") {
        return DylibPath::NotSystem;
    }
    match framework(name) {
        Some(f) => DylibPath::Framework(f),
        None => DylibPath::UnknownFramework(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(symbol: &str) -> Option<&'static str> {
        attribute(symbol).map(|f| f.name)
    }

    #[test]
    fn symbols_real_providers_link_are_attributed() {
        // From security-framework(-sys), core-foundation(-sys), system-configuration(-sys)
        // as rustls-native-certs, reqwest and async-nats use them.
        for (symbol, framework) in [
            ("CFRelease", "CoreFoundation"),
            ("CFErrorCreate", "CoreFoundation"),
            ("kCFAllocatorDefault", "CoreFoundation"),
            ("kCFBooleanTrue", "CoreFoundation"),
            ("__CFConstantStringClassReference", "CoreFoundation"),
            ("SecTrustSettingsCopyCertificates", "Security"),
            ("SecCertificateCopyPublicKey$LEGACYMAC", "Security"),
            ("kSecClass", "Security"),
            ("SSLCreateContext", "Security"),
            ("CMSEncodeContent", "Security"),
            ("SCDynamicStoreCopyProxies", "SystemConfiguration"),
            ("kSCPropNetProxiesHTTPEnable", "SystemConfiguration"),
            ("kCFProxyTypeKey", "CFNetwork"),
            ("CFNetworkCopySystemProxySettings", "CFNetwork"),
            ("kCFStreamPropertySSLSettings", "CFNetwork"),
            ("FSEventStreamCreate", "CoreServices"),
            ("IOServiceMatching", "IOKit"),
            ("IOSurfaceCreate", "IOSurface"),
            ("NSLog", "Foundation"),
            ("OBJC_CLASS_$_NSString", "Foundation"),
            ("OBJC_CLASS_$_NSApplication", "AppKit"),
        ] {
            assert_eq!(owner(symbol), Some(framework), "{symbol}");
        }
    }

    #[test]
    fn libsystem_symbols_belong_to_no_framework() {
        for symbol in [
            "malloc",
            "pthread_create",
            "getentropy",
            "CCRandomGenerateBytes",
            "dispatch_async",
            "objc_msgSend",
            "OBJC_CLASS_$_NSObject",
            "SSL_new",
            "SSLv23_method",
            "_tlv_bootstrap",
            "ioctl",
        ] {
            assert_eq!(owner(symbol), None, "{symbol}");
        }
    }

    #[test]
    fn every_rule_is_owned_once() {
        let mut seen = std::collections::BTreeMap::new();
        for f in FRAMEWORKS {
            assert!(seen.insert(f.name, ()).is_none(), "{} twice", f.name);
            for p in f.prefixes.iter().chain(f.exact) {
                let others: Vec<&str> = FRAMEWORKS
                    .iter()
                    .filter(|g| g.name != f.name)
                    .filter(|g| g.prefixes.contains(p) || g.exact.contains(p))
                    .map(|g| g.name)
                    .collect();
                assert!(others.is_empty(), "`{p}` of {} also in {others:?}", f.name);
            }
            for r in f.reexports {
                assert!(framework(r).is_some(), "{} re-exports unknown {r}", f.name);
            }
        }
    }

    #[test]
    fn dylib_paths() {
        assert_eq!(
            classify("/usr/lib/libSystem.B.dylib"),
            DylibPath::SystemLibrary
        );
        assert_eq!(
            classify("/usr/lib/libiconv.2.dylib"),
            DylibPath::SystemLibrary
        );
        assert_eq!(
            classify("/System/Library/Frameworks/Security.framework/Versions/A/Security"),
            DylibPath::Framework(framework("Security").unwrap())
        );
        assert_eq!(
            classify("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"),
            DylibPath::Framework(framework("CoreFoundation").unwrap())
        );
        assert_eq!(
            classify("/System/Library/Frameworks/Bogus.framework/Versions/A/Bogus"),
            DylibPath::UnknownFramework("Bogus".to_owned())
        );
        for path in [
            "/root/target/libfoo.dylib",
            "@rpath/libfoo.dylib",
            "/opt/homebrew/lib/libssl.3.dylib",
            "/System/Library/PrivateFrameworks/Foo.framework/Foo",
            "/System/Library/Frameworks/Security.framework/Versions/A/Other",
            "/usr/lib/../../tmp/x.dylib",
            "/usr/local/lib/libz.dylib",
        ] {
            assert_eq!(classify(path), DylibPath::NotSystem, "{path}");
        }
        assert_eq!(
            install_name("Security"),
            "/System/Library/Frameworks/Security.framework/Versions/A/Security"
        );
    }

    #[test]
    fn umbrellas_reexport() {
        let cocoa = framework("Cocoa").unwrap();
        assert!(binds_to(framework("Foundation").unwrap(), cocoa));
        assert!(!binds_to(
            framework("Security").unwrap(),
            framework("CoreFoundation").unwrap()
        ));
    }
}
