//! The catalog's lists against their sources: the generated section of
//! `catalog.toml` regenerates byte for byte from the pinned LOLBAS and GTFOBins
//! snapshots, every entry says where it comes from, and each binary and name
//! form that issue 17 added raises its row (each with a near miss).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

#[path = "../examples/update_catalog_lists/generate.rs"]
mod generate;

use std::path::PathBuf;

use seldom_detect::catalog::{Catalog, MatchSubject, ProcessView};
use seldom_model::Platform;

/// `../shared/catalog-sources` beside the repository; `None` (skip) when it
/// is missing, unless `CI=true`, where a missing snapshot fails loudly.
fn catalog_sources() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/catalog-sources");
    if dir.join("lolbas/SOURCE").is_file() && dir.join("gtfobins/SOURCE").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the catalog sources are missing at {}",
        dir.display()
    );
    eprintln!("skipped: no catalog sources at {}", dir.display());
    None
}

#[test]
fn catalog_lists_regenerate_byte_identical() {
    let Some(sources) = catalog_sources() else {
        return;
    };
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let curation = std::fs::read_to_string(crate_dir.join("catalog-curation.toml")).unwrap();
    let section = generate::generate(&sources, &curation).unwrap();
    let regenerated = generate::splice(Catalog::builtin_text(), &section).unwrap();
    assert!(
        regenerated == Catalog::builtin_text(),
        "catalog.toml's generated lists differ from the sources: run scripts/update-catalog-lists"
    );
}

#[test]
fn a_curated_addition_the_sources_already_give_is_refused() {
    let Some(sources) = catalog_sources() else {
        return;
    };
    let stale = "[[addition]]\nlist = \"windows_lolbins\"\nname = \"certreq\"\nreason = \"x\"\n";
    let err = generate::generate(&sources, stale).unwrap_err();
    assert!(err.contains("certreq") && err.contains("Download"), "{err}");
    let unknown = "[[exclusion]]\nlist = \"office\"\nname = \"winword\"\nreason = \"x\"\n";
    assert!(generate::generate(&sources, unknown).is_err());
}

#[test]
fn every_generated_entry_names_its_source_commit_or_reason() {
    let catalog = Catalog::builtin().unwrap();
    for list in ["windows_lolbins", "unix_lolbins"] {
        let entries = &catalog.file().lists[list].entries;
        assert!(entries.len() > 50, "{list}: {}", entries.len());
        for e in entries {
            assert!(
                e.from.starts_with("LOLBAS 3403b338 ")
                    || e.from.starts_with("GTFOBins 7382261e ")
                    || (e.from.starts_with("curated: ") && e.from.len() > 20),
                "{list}/{}: {}",
                e.name,
                e.from
            );
        }
    }
    let windows = &catalog.file().lists["windows_lolbins"].entries;
    let derived = windows
        .iter()
        .filter(|e| e.from.starts_with("LOLBAS"))
        .count();
    // 65 qualifying executables, less the 3 curated out as browsers or launchers
    // (msedge, msedge_proxy, cmd) and the 8 Office applications.
    assert_eq!(derived, 54);
}

/// (image, original file name, command line)
type P = (&'static str, Option<&'static str>, Option<&'static str>);

fn view(p: &P) -> ProcessView<'static> {
    ProcessView {
        image: Some(p.0),
        original_file_name: p.1,
        command_line: p.2,
    }
}

fn winner(platform: Platform, process: P, ancestors: &[P]) -> String {
    let catalog = Catalog::builtin().unwrap();
    let subject = MatchSubject {
        platform,
        process: view(&process),
        ancestors: ancestors.iter().map(view).collect(),
    };
    catalog.classify(&subject).unwrap().variation.id.clone()
}

const WINWORD: P = (
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    None,
    None,
);
const EXPLORER: P = ("C:\\Windows\\explorer.exe", None, None);
const CMD: P = ("C:\\Windows\\System32\\cmd.exe", None, None);

#[test]
fn word_starting_each_added_windows_binary_is_the_high_office_row() {
    for exe in [
        "C:\\Windows\\System32\\certreq.exe",
        "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2211.5-0\\MpCmdRun.exe",
        "C:\\Windows\\System32\\finger.exe",
        "C:\\Windows\\System32\\ftp.exe",
        "C:\\Windows\\System32\\OpenSSH\\ssh.exe",
        "C:\\Windows\\System32\\SyncAppvPublishingServer.exe",
        "C:\\Windows\\System32\\wuauclt.exe",
        "C:\\Windows\\System32\\PresentationHost.exe",
        "C:\\Windows\\System32\\desktopimgdownldr.exe",
    ] {
        assert_eq!(
            winner(Platform::Windows, (exe, None, None), &[CMD, WINWORD]),
            "office-lolbin",
            "{exe}"
        );
        // Near miss: the same binary without an Office ancestor.
        assert_eq!(
            winner(Platform::Windows, (exe, None, None), &[CMD, EXPLORER]),
            "rare-external-host",
            "{exe}"
        );
    }
}

#[test]
fn office_opening_a_link_in_a_browser_is_not_the_office_row() {
    for exe in [
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge_proxy.exe",
        "C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\120.0\\msedgewebview2.exe",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
    ] {
        assert_eq!(
            winner(Platform::Windows, (exe, None, None), &[WINWORD]),
            "rare-external-host",
            "{exe}"
        );
    }
    // The launcher never connects; what it starts is judged by its own name.
    assert_eq!(
        winner(Platform::Windows, CMD, &[WINWORD]),
        "rare-external-host"
    );
}

#[test]
fn powershell_7_is_known_by_its_original_file_name() {
    let renamed = (
        "C:\\Users\\u\\AppData\\Local\\Temp\\svc.exe",
        Some("pwsh.dll"),
        None,
    );
    assert_eq!(
        winner(Platform::Windows, renamed, &[WINWORD]),
        "office-lolbin"
    );
    let other_dll = (
        "C:\\Users\\u\\AppData\\Local\\Temp\\svc.exe",
        Some("pwshell.dll"),
        None,
    );
    assert_eq!(
        winner(Platform::Windows, other_dll, &[WINWORD]),
        "rare-external-host"
    );
}

#[test]
fn new_outlook_and_onenote_for_windows_10_are_office() {
    let certutil = ("C:\\Windows\\System32\\certutil.exe", None, None);
    for office in [
        "C:\\Program Files\\WindowsApps\\Microsoft.OutlookForWindows_1.2024\\olk.exe",
        "C:\\Program Files\\WindowsApps\\Microsoft.Office.OneNote_16001\\onenoteim.exe",
    ] {
        assert_eq!(
            winner(Platform::Windows, certutil, &[(office, None, None)]),
            "office-lolbin",
            "{office}"
        );
    }
    assert_eq!(
        winner(
            Platform::Windows,
            certutil,
            &[("C:\\x\\olkx.exe", None, None)]
        ),
        "rare-external-host"
    );
}

const MSBUILD: P = (
    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe",
    Some("MSBuild.exe"),
    None,
);

#[test]
fn msbuild_under_the_added_developer_tools_is_medium() {
    for tool in [
        "C:\\Users\\u\\AppData\\Local\\Programs\\Microsoft VS Code Insiders\\Code - Insiders.exe",
        "C:\\Users\\u\\AppData\\Local\\Programs\\VSCodium\\VSCodium.exe",
        "/usr/share/codium/codium",
        "C:\\Users\\u\\AppData\\Local\\Programs\\cursor\\Cursor.exe",
        "C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\ServiceHub\\Hosts\\ServiceHub.Host.dotnet.x64\\ServiceHub.Host.dotnet.x64.exe",
        "C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\ServiceHub\\Hosts\\ServiceHub.Host.AnyCPU\\ServiceHub.Host.AnyCPU.exe",
    ] {
        assert_eq!(
            winner(Platform::Windows, MSBUILD, &[(tool, None, None)]),
            "msbuild-dev",
            "{tool}"
        );
    }
    // Near miss: a look-alike name is no developer tool.
    assert_eq!(
        winner(
            Platform::Windows,
            MSBUILD,
            &[("C:\\x\\cursors.exe", None, None)]
        ),
        "msbuild"
    );
}

const DOTNET: &str = "C:\\Program Files\\dotnet\\dotnet.exe";

#[test]
fn dotnet_running_msbuild_is_msbuild_and_dotnet_alone_is_not() {
    let dotnet_msbuild = (
        DOTNET,
        Some("dotnet.exe"),
        Some("dotnet msbuild evil.csproj"),
    );
    assert_eq!(winner(Platform::Windows, dotnet_msbuild, &[CMD]), "msbuild");
    let sdk_msbuild = (
        DOTNET,
        None,
        Some(
            "\"C:\\Program Files\\dotnet\\dotnet.exe\" exec \"C:\\Program Files\\dotnet\\sdk\\8.0.100\\MSBuild.dll\" -maxcpucount",
        ),
    );
    assert_eq!(winner(Platform::Windows, sdk_msbuild, &[CMD]), "msbuild");
    // A child of `dotnet msbuild` is in MSBuild's chain too.
    let child = (
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        None,
        None,
    );
    assert_eq!(
        winner(Platform::Windows, child, &[dotnet_msbuild, CMD]),
        "msbuild"
    );
    // Under an IDE it is the Medium row.
    let devenv = ("C:\\VS\\Common7\\IDE\\devenv.exe", None, None);
    assert_eq!(
        winner(Platform::Windows, dotnet_msbuild, &[devenv]),
        "msbuild-dev"
    );
    // Near misses: dotnet running something else, or a tool merely named alike.
    for command_line in ["dotnet run", "dotnet C:\\app\\msbuildhelper.dll", "dotnet"] {
        let other = (DOTNET, None, Some(command_line));
        assert_eq!(
            winner(Platform::Windows, other, &[CMD]),
            "rare-external-host",
            "{command_line}"
        );
    }
    // dotnet is no developer tool: MSBuild under a plain dotnet stays High.
    let plain_dotnet = (DOTNET, None, Some("dotnet tool run x"));
    assert_eq!(
        winner(Platform::Windows, MSBUILD, &[plain_dotnet]),
        "msbuild"
    );
}

#[test]
fn interpreters_under_their_debian_names_are_unix_lolbins() {
    for image in [
        "/usr/bin/ruby3.1",
        "/usr/bin/php8.2",
        "/usr/bin/lua5.4",
        "/usr/bin/tclsh8.6",
        "/usr/bin/perl5.36.0",
        "/usr/bin/python3.11",
        "/usr/bin/python3",
        "/usr/bin/vim.basic",
        "/usr/bin/vim.tiny",
        "/usr/bin/telnet.netkit",
        "/bin/nc.openbsd",
        "/bin/nc.traditional",
        "/usr/bin/ruby",
        "/usr/bin/ksh93",
    ] {
        assert_eq!(
            winner(Platform::Linux, (image, None, None), &[]),
            "unix-lolbin",
            "{image}"
        );
    }
    // Near misses: other programs that share a prefix, and the Windows side.
    for image in [
        "/usr/sbin/php-fpm8.2",
        "/usr/bin/rubyx",
        "/usr/bin/luajit-2.1",
        "/usr/bin/telnetd",
        "/usr/bin/vim.gtk3x",
    ] {
        assert_eq!(
            winner(Platform::Linux, (image, None, None), &[]),
            "rare-external-host",
            "{image}"
        );
    }
    assert_eq!(
        winner(
            Platform::Windows,
            ("C:\\Ruby31\\bin\\ruby3.1.exe", None, None),
            &[]
        ),
        "rare-external-host"
    );
}

/// Every entry of the generated lists, not only the ones named above: each
/// Windows LOLBIN under Word is the High row and without Office the base row;
/// each UNIX LOLBIN, exact and with a version tail, is the UNIX row on Linux
/// and the base row on Windows.
#[test]
fn every_generated_entry_raises_its_row_and_only_there() {
    let catalog = Catalog::builtin().unwrap();
    let lists = &catalog.file().lists;
    for entry in &lists["windows_lolbins"].entries {
        let image = format!("C:\\Windows\\System32\\{}.exe", entry.name);
        let process = (image.as_str(), None, None);
        let with_office = winner_of(&catalog, Platform::Windows, process, &[WINWORD]);
        assert_eq!(with_office, "office-lolbin", "{}", entry.name);
        let alone = winner_of(&catalog, Platform::Windows, process, &[EXPLORER]);
        assert!(
            alone == "rare-external-host" || alone == "curl" || alone == "msbuild",
            "{}: {alone}",
            entry.name
        );
    }
    for entry in &lists["unix_lolbins"].entries {
        let versioned = format!(
            "/usr/bin/{}5.4",
            entry.name.trim_end_matches(|c: char| c.is_ascii_digit())
        );
        for image in [format!("/usr/bin/{}", entry.name), versioned] {
            let process = (image.as_str(), None, None);
            assert_eq!(
                winner_of(&catalog, Platform::Linux, process, &[]),
                "unix-lolbin",
                "{image}"
            );
        }
        let on_windows = format!("C:\\Tools\\{}.exe", entry.name);
        let windows_name = (on_windows.as_str(), None, None);
        let listed_on_windows = lists["windows_lolbins"]
            .entries
            .iter()
            .any(|e| e.name == entry.name);
        if !listed_on_windows {
            assert_eq!(
                winner_of(&catalog, Platform::Windows, windows_name, &[WINWORD]),
                "rare-external-host",
                "{on_windows}"
            );
        }
    }
}

fn winner_of<'a>(
    catalog: &Catalog,
    platform: Platform,
    process: (&'a str, Option<&'a str>, Option<&'a str>),
    ancestors: &[P],
) -> String {
    let subject = MatchSubject {
        platform,
        process: ProcessView {
            image: Some(process.0),
            original_file_name: process.1,
            command_line: process.2,
        },
        ancestors: ancestors.iter().map(view).collect(),
    };
    catalog.classify(&subject).unwrap().variation.id.clone()
}
