//! TEMPORARY stand-in while via6-core does not compile: the core's own
//! `time` and `rng` files, compiled into this crate. Replaced by
//! `via6_core::{time, rng}` once main builds.
#![allow(dead_code)]
#[path = "../../core/src/rng.rs"]
pub mod rng;
#[path = "../../core/src/time.rs"]
pub mod time;
