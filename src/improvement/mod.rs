//! The improvement loop: action plans that take a store out of the zero mile, and managers'
//! appeals against released reports.

pub mod appeal;
pub mod appeal_api;
pub mod appeals;
pub mod dto;
pub mod handlers;
pub mod overdue;
pub mod plan;
pub mod service;
