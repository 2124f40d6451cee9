//! ithbat: an identity and access management server.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod logging;
pub mod repo;
pub mod service;
pub mod startup;

#[cfg(test)]
pub(crate) mod fuzz;
