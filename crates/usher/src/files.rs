//! Files in the data dir hold emails, notes, addresses and password hashes: they are the
//! owner's alone (`0600`, folders `0700`) whatever the process's umask.

use std::path::Path;

/// Creates a folder (and its parents) readable by its owner only; an existing folder is kept
/// as the operator made it.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Creates an empty file readable by its owner only, so whatever writes into it later (SQLite,
/// `VACUUM INTO`) never leaves it readable by others, not even for a moment.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop)
}

/// Makes an existing file readable by its owner only (files made by older versions or copied in).
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let _ = path;
    Ok(())
}

/// The database and the files SQLite keeps beside it.
pub fn make_database_private(db: &Path) -> std::io::Result<()> {
    make_private(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        make_private(Path::new(&side))?;
    }
    Ok(())
}
