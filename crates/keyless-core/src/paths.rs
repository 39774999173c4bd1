//! Where Keyless keeps its files. `KEYLESS_DATA_DIR` overrides the XDG location (tests, portable use).

use crate::error::{Error, ErrorKind, Result};
use std::path::PathBuf;

pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("KEYLESS_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("keyless")).ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            "cannot find a data directory (HOME is not set)",
        )
        .with_hint("Set HOME, XDG_DATA_HOME or KEYLESS_DATA_DIR.")
    })
}

/// Keyless's settings directory: `KEYLESS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/keyless`.
pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("KEYLESS_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|d| d.join("keyless"))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Io,
                "cannot find a config directory (HOME is not set)",
            )
            .with_hint("Set HOME, XDG_CONFIG_HOME or KEYLESS_CONFIG_DIR.")
        })
}

/// Keyless's cache directory (what can be lost without harm): `KEYLESS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/keyless`.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("KEYLESS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::cache_dir().map(|d| d.join("keyless")).ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            "cannot find a cache directory (HOME is not set)",
        )
        .with_hint("Set HOME, XDG_CACHE_HOME or KEYLESS_CACHE_DIR.")
    })
}
