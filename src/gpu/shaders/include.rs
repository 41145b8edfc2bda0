//! `//#include` expansion, the one preprocessing step of the WGSL text.
//!
//! A line `//#include "shared/NAME.wgsl"` (a WGSL comment, so the line
//! means nothing to a WGSL tool that does not expand it) is replaced by
//! that file's text, itself expanded. Paths are relative to `shaders/`,
//! whichever file names them. A file's text goes in once per expansion,
//! at its first include: WGSL forbids declaring a name twice, and a shared
//! file includes what it uses, so a kernel reaches `shared/tensor.wgsl`
//! along several paths. Module-scope declarations may come in any order
//! in WGSL, so where a file lands does not matter.

use thiserror::Error;

const INCLUDE: &str = "//#include";

/// Why a file cannot be expanded. Each names the files being expanded,
/// the entry file first.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IncludeError {
    #[error("{} includes {path}, which is not a built-in shared file", .chain.join(" -> "))]
    Missing { chain: Vec<String>, path: String },
    #[error("include cycle: {}", .chain.join(" -> "))]
    Cycle { chain: Vec<String> },
    #[error("{}: `{line}` is not an include: //#include \"PATH\"", .chain.join(" -> "))]
    Malformed { chain: Vec<String>, line: String },
}

/// `text` (the file `entry`) with its includes expanded, from `files`:
/// (path, text) pairs.
pub fn expand(entry: &str, text: &str, files: &[(&str, &str)]) -> Result<String, IncludeError> {
    let mut expansion = Expansion {
        files,
        chain: vec![entry.to_owned()],
        included: Vec::new(),
        out: String::with_capacity(text.len() * 4),
    };
    expansion.file(text)?;
    Ok(expansion.out)
}

struct Expansion<'a> {
    files: &'a [(&'a str, &'a str)],
    /// The files being expanded, the entry first: including one of them
    /// again would never end.
    chain: Vec<String>,
    /// Files already in the output, skipped when included again.
    included: Vec<&'a str>,
    out: String,
}

impl<'a> Expansion<'a> {
    fn file(&mut self, text: &'a str) -> Result<(), IncludeError> {
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix(INCLUDE) else {
                self.out.push_str(line);
                self.out.push('\n');
                continue;
            };
            let path = rest
                .trim()
                .strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .ok_or_else(|| IncludeError::Malformed {
                    chain: self.chain.clone(),
                    line: line.trim().to_owned(),
                })?;
            self.include(path)?;
        }
        Ok(())
    }

    fn include(&mut self, path: &str) -> Result<(), IncludeError> {
        if self.chain.iter().any(|p| p == path) {
            let mut chain = self.chain.clone();
            chain.push(path.to_owned());
            return Err(IncludeError::Cycle { chain });
        }
        if self.included.contains(&path) {
            return Ok(());
        }
        let &(path, text) =
            self.files
                .iter()
                .find(|(p, _)| *p == path)
                .ok_or_else(|| IncludeError::Missing {
                    chain: self.chain.clone(),
                    path: path.to_owned(),
                })?;
        self.included.push(path);
        self.chain.push(path.to_owned());
        self.file(text)?;
        self.chain.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[(&str, &str)] = &[
        ("shared/a.wgsl", "//#include \"shared/c.wgsl\"\nfn a() {}"),
        ("shared/b.wgsl", "//#include \"shared/c.wgsl\"\nfn b() {}"),
        ("shared/c.wgsl", "fn c() {}"),
        ("shared/d.wgsl", "//#include \"shared/gone.wgsl\""),
        ("shared/loop1.wgsl", "//#include \"shared/loop2.wgsl\""),
        ("shared/loop2.wgsl", "  //#include \"shared/loop1.wgsl\""),
    ];

    fn error(entry: &str, text: &str) -> IncludeError {
        expand(entry, text, FILES).unwrap_err()
    }

    #[test]
    fn nested_includes_expand_once_each_at_the_first() {
        let text = "//#include \"shared/a.wgsl\"\n//#include \"shared/b.wgsl\"\nfn main() {}";
        let out = expand("k.wgsl", text, FILES).unwrap();
        assert_eq!(out, "fn c() {}\nfn a() {}\nfn b() {}\nfn main() {}\n");
    }

    #[test]
    fn a_cycle_or_a_missing_file_is_an_error_naming_the_chain() {
        for (include, message) in [
            (
                "shared/loop1.wgsl",
                "include cycle: k.wgsl -> shared/loop1.wgsl -> shared/loop2.wgsl -> shared/loop1.wgsl",
            ),
            (
                "shared/d.wgsl",
                "k.wgsl -> shared/d.wgsl includes shared/gone.wgsl, which is not a built-in shared file",
            ),
        ] {
            let text = format!("//#include \"{include}\"");
            assert_eq!(error("k.wgsl", &text).to_string(), message);
        }
    }

    #[test]
    fn an_entry_including_itself_is_a_cycle() {
        let err = error("shared/c.wgsl", "//#include \"shared/c.wgsl\"");
        assert!(matches!(err, IncludeError::Cycle { .. }), "{err}");
    }

    #[test]
    fn an_unquoted_path_is_an_error() {
        let err = error("k.wgsl", "//#include shared/c.wgsl");
        assert!(matches!(err, IncludeError::Malformed { .. }), "{err}");
    }
}
