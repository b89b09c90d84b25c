//! Deterministic generator of the illustrative parts of a district data set (placeholder).
