//! The billing period and its budget: the cycle the configuration defines (so a period's end is known), the
//! projection of the period's end from its pace, with a range, and the alerts that warn before the budget is
//! gone.

pub mod cycle;
pub mod projection;
