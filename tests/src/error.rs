use std::io;

/// Why the lab could not start or a lab operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("lab setup failed: {0}")]
    Setup(String),
    #[error("unknown instance: {0}")]
    UnknownInstance(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// An error reported by a running lab over its control route.
    #[error("{0}")]
    Remote(String),
}

impl LabError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Io { context, source }
    }
}
