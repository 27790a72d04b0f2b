//! Process image names as the catalog compares them.
//!
//! Real data has `C:\Windows\System32\mshta.exe`, `\device\harddiskvolume2\...\mshta.exe`,
//! `/usr/bin/python3.11`, a bare `bash` and `<unknown process>` in the same
//! field. A name is its base name, lower case, with `.exe` and a version suffix
//! folded: `python3.11` is `python3`, `MSBuild.exe` is `msbuild`.

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
    Some(fold_version(&name).to_owned())
}

/// `python3.11` → `python3`, `ruby2.7` → `ruby2`... only a `.digits` tail is folded,
/// so `microsoft.workflow.compiler` keeps its dots.
fn fold_version(name: &str) -> &str {
    let mut end = name.len();
    loop {
        let head = &name[..end];
        match head.rfind('.') {
            Some(dot)
                if dot > 0
                    && head[dot + 1..].chars().all(|c| c.is_ascii_digit())
                    && dot + 1 < head.len() =>
            {
                end = dot;
            }
            _ => return head,
        }
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
        assert_eq!(
            image_name("/usr/bin/python3.11").as_deref(),
            Some("python3")
        );
        assert_eq!(image_name("/bin/bash").as_deref(), Some("bash"));
        assert_eq!(image_name("bash").as_deref(), Some("bash"));
        assert_eq!(
            image_name("Microsoft.Workflow.Compiler.exe").as_deref(),
            Some("microsoft.workflow.compiler")
        );
        assert_eq!(image_name("<unknown process>"), None);
        assert_eq!(image_name(""), None);
    }
}
