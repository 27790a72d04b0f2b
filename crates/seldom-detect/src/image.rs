//! Process image names as the catalog compares them.
//!
//! Real data has `C:\Windows\System32\mshta.exe`, `\device\harddiskvolume2\...\mshta.exe`,
//! `/usr/bin/python3.11`, a bare `bash` and `<unknown process>` in the same
//! field, and Linux sensors log the resolved target of a symlink, the name the
//! distribution gave the binary: Debian and Ubuntu run `ruby3.1`, `php8.2`,
//! `perl5.36.0`, `lua5.4`, `tclsh8.6`, `vim.basic`, `telnet.netkit`,
//! `nc.openbsd`. A name is its base name, lower case, with `.exe`, a Debian
//! alternative suffix and a trailing version number folded, so that every one
//! of those is the name GTFOBins and LOLBAS write: `ruby`, `php`, `perl`,
//! `python`, `vim`, `telnet`, `nc`. Catalog lists are folded the same way, so a
//! list that says `python3` still matches `python3` (both are `python`).

/// Suffixes Debian's alternatives system gives the variants of one tool
/// (`vim.basic` / `vim.tiny`, `nc.openbsd` / `nc.traditional`, `telnet.netkit`).
const ALTERNATIVE_SUFFIXES: [&str; 5] = [".basic", ".tiny", ".netkit", ".openbsd", ".traditional"];

/// The folded base name of an image path, or `None` for an unknown image.
pub fn image_name(image: &str) -> Option<String> {
    let trimmed = image.trim().trim_matches('"');
    if trimmed.is_empty() || trimmed.starts_with('<') || trimmed == "-" {
        return None;
    }
    let base = trimmed.rsplit(['\\', '/']).next().unwrap_or(trimmed);
    let mut name = base.to_lowercase();
    if let Some(stem) = name.strip_suffix(".exe") {
        name.truncate(stem.len());
    }
    if let Some(stem) = ALTERNATIVE_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
    {
        name.truncate(stem.len());
    }
    Some(fold_version(&name).to_owned())
}

/// `python3.11` → `python`, `perl5.36.0` → `perl`, `python3` → `python`: a
/// trailing run of digits and dots that follows a letter is a version
/// (`ksh93` is `ksh`), except a word size: `rundll32`, `regsvr32` and `wow64`
/// keep their `32` and `64`, part of the name. Only such a tail is folded, so
/// `microsoft.workflow.compiler` keeps its dots, and a name of digits alone
/// (`7`) or that ends in a letter (`7z`) is kept whole.
fn fold_version(name: &str) -> &str {
    let head = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let tail = &name[head.len()..];
    let tail_has_digit = tail.chars().any(|c| c.is_ascii_digit());
    let is_version = !matches!(tail, "32" | "64");
    match head.chars().last() {
        Some(c) if c.is_alphabetic() && tail_has_digit && is_version => head,
        // `a.` or `a-1`: not a version tail; keep the name (less a trailing dot).
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_paths_case_exe_and_versions() {
        assert_eq!(
            image_name("C:\\Windows\\System32\\MSHTA.EXE").as_deref(),
            Some("mshta")
        );
        assert_eq!(
            image_name("\\device\\harddiskvolume2\\windows\\system32\\mshta.exe").as_deref(),
            Some("mshta")
        );
        assert_eq!(image_name("/usr/bin/python3.11").as_deref(), Some("python"));
        assert_eq!(image_name("/bin/bash").as_deref(), Some("bash"));
        assert_eq!(image_name("bash").as_deref(), Some("bash"));
        assert_eq!(
            image_name("Microsoft.Workflow.Compiler.exe").as_deref(),
            Some("microsoft.workflow.compiler")
        );
        assert_eq!(image_name("<unknown process>"), None);
        assert_eq!(image_name(""), None);
    }

    #[test]
    fn folds_the_names_debian_and_ubuntu_give_binaries() {
        for (logged, name) in [
            ("/usr/bin/ruby3.1", "ruby"),
            ("/usr/bin/php8.2", "php"),
            ("/usr/bin/perl5.36.0", "perl"),
            ("/usr/bin/lua5.4", "lua"),
            ("/usr/bin/tclsh8.6", "tclsh"),
            ("/usr/bin/python3", "python"),
            ("/usr/bin/vim.basic", "vim"),
            ("/usr/bin/vim.tiny", "vim"),
            ("/usr/bin/telnet.netkit", "telnet"),
            ("/bin/nc.openbsd", "nc"),
            ("/bin/nc.traditional", "nc"),
            ("/usr/bin/ruby", "ruby"),
        ] {
            assert_eq!(image_name(logged).as_deref(), Some(name), "{logged}");
        }
    }

    #[test]
    fn keeps_names_that_only_look_versioned() {
        // Near misses: the tail must be a version after a letter.
        assert_eq!(image_name("7z").as_deref(), Some("7z"));
        assert_eq!(image_name("/tmp/1234").as_deref(), Some("1234"));
        assert_eq!(image_name("/usr/bin/rubyx").as_deref(), Some("rubyx"));
        assert_eq!(image_name("/usr/bin/vim.gtk3").as_deref(), Some("vim.gtk"));
        assert_eq!(image_name("/usr/bin/ruby-3.1").as_deref(), Some("ruby-3.1"));
        assert_eq!(image_name("/usr/bin/basic").as_deref(), Some("basic"));
        // A word size is part of a Windows name.
        assert_eq!(
            image_name("C:\\Windows\\System32\\rundll32.exe").as_deref(),
            Some("rundll32")
        );
        assert_eq!(image_name("REGSVR32.EXE").as_deref(), Some("regsvr32"));
        assert_eq!(image_name("wow64").as_deref(), Some("wow64"));
    }
}
