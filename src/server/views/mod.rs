//! The views built from a priced period: the view a URL asks for (checked), the overview and the chart, the
//! breakdown, the table's pages, the CSV, the periods to pick from and the comparison with the previous one,
//! and what is kept of them per period.

pub mod anomalies;
pub mod breakdown;
pub mod budget;
pub mod chart;
pub mod checked_view;
pub mod choice;
pub mod comparison;
pub mod csv_export;
pub mod day_totals;
pub mod derived;
pub mod overview;
pub mod page_data;
pub mod periods;
pub mod summary;
pub mod table;
pub mod unusual_days;
pub mod zones;
