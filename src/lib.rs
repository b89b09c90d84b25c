//! renewal-map: the spatial service behind a city district's urban renewal programme.
pub mod generate;
pub mod model;
