//! Finding and exec'ing the user program the way Docker users expect: args[0] looked up
//! in the PATH of the container's environment, errors worded like Go's os/exec (which is
//! what Docker prints) and classified as not-found (exit 127) or not-executable (126).

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::errno::Errno;

use crate::init::InitError;
use crate::ErrorKind;

/// Docker's default PATH, used when the spec's environment has none.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn is_executable_file(path: &Path) -> std::io::Result<bool> {
    let meta = std::fs::metadata(path)?;
    Ok(!meta.is_dir() && meta.permissions().mode() & 0o111 != 0)
}

/// Resolves `program` (args[0]) in the current root and cwd.
pub(crate) fn lookup(program: &str, path_env: Option<&str>) -> Result<CString, InitError> {
    let not_found = |what: String| InitError::new(what, ErrorKind::ExecutableNotFound);
    if program.contains('/') {
        let path = Path::new(program);
        return match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(format!(
                "exec: \"{program}\": stat {program}: no such file or directory"
            ))),
            Err(e) => Err(InitError::new(
                format!("exec: \"{program}\": stat {program}: {e}"),
                ErrorKind::ExecutablePermissionDenied,
            )),
            Ok(m) if m.is_dir() => Err(InitError::new(
                format!("exec: \"{program}\": is a directory"),
                ErrorKind::ExecutablePermissionDenied,
            )),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => Err(InitError::new(
                format!("exec: \"{program}\": permission denied"),
                ErrorKind::ExecutablePermissionDenied,
            )),
            Ok(_) => CString::new(path.as_os_str().as_bytes()).map_err(|_| {
                InitError::new(
                    "exec: program contains a NUL byte".into(),
                    ErrorKind::InvalidArgument,
                )
            }),
        };
    }
    for dir in path_env.unwrap_or(DEFAULT_PATH).split(':') {
        // An empty PATH element means the current directory, as in Go.
        let candidate = if dir.is_empty() {
            Path::new(".").join(program)
        } else {
            Path::new(dir).join(program)
        };
        if is_executable_file(&candidate).unwrap_or(false) {
            return CString::new(candidate.as_os_str().as_bytes()).map_err(|_| {
                InitError::new(
                    "exec: program contains a NUL byte".into(),
                    ErrorKind::InvalidArgument,
                )
            });
        }
    }
    Err(not_found(format!(
        "exec: \"{program}\": executable file not found in $PATH"
    )))
}

/// Classifies an execve failure.
pub(crate) fn exec_error(path: &CStr, errno: Errno) -> InitError {
    let kind = match errno {
        Errno::ENOENT | Errno::ENOTDIR => ErrorKind::ExecutableNotFound,
        Errno::EACCES | Errno::EPERM | Errno::ENOEXEC | Errno::EISDIR | Errno::ETXTBSY => {
            ErrorKind::ExecutablePermissionDenied
        }
        _ => ErrorKind::Internal,
    };
    InitError::new(
        format!(
            "exec {}: {}",
            path.to_string_lossy(),
            errno.desc().to_lowercase()
        ),
        kind,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_in_path_and_reports_go_style() {
        let found = lookup("sh", Some("/nonexistent:/bin:/usr/bin")).expect("sh");
        assert!(found.to_str().expect("utf8").ends_with("/sh"));
        let e = lookup("nosuch-program-xyz", Some("/bin")).expect_err("missing");
        assert_eq!(
            e.message,
            "exec: \"nosuch-program-xyz\": executable file not found in $PATH"
        );
        assert_eq!(e.kind.exec_exit_code(), Some(127));
    }

    #[test]
    fn explicit_paths() {
        let e = lookup("/nonexistent/prog", None).expect_err("missing");
        assert_eq!(e.kind, ErrorKind::ExecutableNotFound);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("data");
        std::fs::write(&file, "x").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = lookup(file.to_str().expect("utf8"), None).expect_err("not exec");
        assert_eq!(e.kind, ErrorKind::ExecutablePermissionDenied);
        assert!(e.message.ends_with(": permission denied"), "{}", e.message);
        let e = lookup("/etc", None).expect_err("dir");
        assert_eq!(e.kind.exec_exit_code(), Some(126));
    }

    #[test]
    fn execve_errno_kinds() {
        let p = CString::new("/x").expect("cstring");
        assert_eq!(
            exec_error(&p, Errno::ENOENT).kind,
            ErrorKind::ExecutableNotFound
        );
        assert_eq!(
            exec_error(&p, Errno::ENOEXEC).kind,
            ErrorKind::ExecutablePermissionDenied
        );
        assert_eq!(
            exec_error(&p, Errno::ENOENT).message,
            "exec /x: no such file or directory"
        );
    }
}
