//! Capacity management: configuration items carry capacity measures (a MEASURE
//! attribute of their class: a number in a unit, with a threshold), whose values
//! monitoring and the API record over time. From a measure's recorded history the desk
//! forecasts when it will cross its threshold, and says so (events rules act on) when
//! it crosses it or is forecast to within the horizon.
//!
//! - `forecast`: the straight line through the latest values (pure);
//! - `record`: recording values and announcing what changed;
//! - `report`: what runs out first, per service or class.

pub mod forecast;
pub mod record;
pub mod report;

pub use record::{Value, record_values};
