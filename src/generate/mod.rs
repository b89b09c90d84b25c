//! Deterministic generator of the illustrative parts of a district data set (placeholder until
//! the generator lands).
use std::path::PathBuf;

/// Options of a generator run.
pub struct GenerateOptions {
    /// Seed.
    pub seed: u64,
    /// Scale factor.
    pub scale: u32,
    /// Source directory.
    pub sources: PathBuf,
    /// Output directory.
    pub out: PathBuf,
}

/// What a run wrote.
#[derive(Debug)]
pub struct GenerateSummary;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[error("generator not available")]
pub struct GenerateError;

/// Generates a data set.
pub fn generate(_opts: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    Err(GenerateError)
}
