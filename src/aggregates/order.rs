//! The order of the leaderboard's rows: any of its columns, either way, with a keyset
//! cursor. Rows are ranked by the leaderboard's `sort` measure; `order_by` only says in
//! which order they are listed (by rank, the default, they read best first). A missing value
//! (a location without scored visits, or without a region) lists last in either direction;
//! ties go by rank in the listing's direction (so `zero_mile_rate` descending lists the worst
//! first, and among equal rates the lowest ranked first), then by code (unique in an
//! organization), so the order is total and a page continues exactly after the key of the
//! last row it saw.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::figures::VerdictName;
use super::service::Standing;

/// A column the leaderboard's rows can be listed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = LeaderboardColumn)]
pub enum Column {
    Rank,
    Name,
    Code,
    Region,
    Visits,
    MeanScore,
    SecondMileRate,
    ZeroMileRate,
    CriticalFailureRate,
    /// Zero mile, insufficient data, first mile, second mile (ascending).
    Verdict,
}

/// Which way a column is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SortDirection)]
pub enum Direction {
    Asc,
    Desc,
}

/// A row's value in a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// Where a row stands: its value in the column, then its rank and code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub value: Option<Value>,
    pub rank: u64,
    pub code: String,
}

/// How the rows are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub by: Column,
    pub descending: bool,
}

/// The continuation of a listing: its order and the key of the last row seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub order: Order,
    pub after: Key,
}

/// Verdicts from the most to the least worrying: zero mile, too few visits, first, second.
fn verdict_place(v: VerdictName) -> f64 {
    match v {
        VerdictName::Zero => 0.0,
        VerdictName::InsufficientData => 1.0,
        VerdictName::First => 2.0,
        VerdictName::Second => 3.0,
    }
}

pub fn key(s: &Standing, by: Column) -> Key {
    let f = &s.figures;
    let number = |v: Option<f64>| v.map(Value::Number);
    let value = match by {
        Column::Rank => Some(Value::Number(s.rank as f64)),
        Column::Name => Some(Value::Text(s.location.name.clone())),
        Column::Code => Some(Value::Text(s.location.code.clone())),
        Column::Region => s.location.region.clone().map(Value::Text),
        Column::Visits => Some(Value::Number(f.visits as f64)),
        Column::MeanScore => number(f.mean_score),
        Column::SecondMileRate => number(f.second_mile.rate),
        Column::ZeroMileRate => number(f.zero_mile.rate),
        Column::CriticalFailureRate => number(f.critical_failures.rate),
        Column::Verdict => Some(Value::Number(verdict_place(f.verdict))),
    };
    Key {
        value,
        rank: s.rank,
        code: s.location.code.clone(),
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        // Case-insensitively first, so "bath" and "Bristol" read in dictionary order.
        (Value::Text(x), Value::Text(y)) => x
            .chars()
            .flat_map(char::to_lowercase)
            .cmp(y.chars().flat_map(char::to_lowercase))
            .then_with(|| x.cmp(y)),
        (Value::Number(_), Value::Text(_)) => Ordering::Less,
        (Value::Text(_), Value::Number(_)) => Ordering::Greater,
    }
}

/// The listing order of two keys.
pub fn compare(a: &Key, b: &Key, descending: bool) -> Ordering {
    let primary = match (&a.value, &b.value) {
        (Some(x), Some(y)) => {
            let o = compare_values(x, y);
            if descending { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    let by_rank = if descending {
        b.rank.cmp(&a.rank)
    } else {
        a.rank.cmp(&b.rank)
    };
    primary.then(by_rank).then_with(|| a.code.cmp(&b.code))
}

/// Lists `rows` in `order`, each with its key.
pub fn sort(rows: Vec<Standing>, order: Order) -> Vec<(Key, Standing)> {
    // Keys sorted beside each row's index, then each row moved once into place: rows are
    // large, and a leaderboard has tens of thousands of them.
    let mut keys: Vec<(Key, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, s)| (key(s, order.by), i))
        .collect();
    keys.sort_by(|(a, _), (b, _)| compare(a, b, order.descending));
    let mut slots: Vec<Option<Standing>> = rows.into_iter().map(Some).collect();
    keys.into_iter()
        .filter_map(|(k, i)| Some((k, slots.get_mut(i)?.take()?)))
        .collect()
}

/// The rows listed after `after` (all of them without a cursor).
pub fn after(rows: &[(Key, Standing)], order: Order, after: Option<&Key>) -> usize {
    match after {
        None => 0,
        Some(k) => {
            rows.partition_point(|(row, _)| compare(row, k, order.descending) != Ordering::Greater)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(value: Option<Value>, rank: u64, code: &str) -> Key {
        Key {
            value,
            rank,
            code: code.into(),
        }
    }

    #[test]
    fn missing_values_list_last_either_way_and_ties_go_by_rank_then_code() {
        let low = k(Some(Value::Number(10.0)), 3, "B");
        let high = k(Some(Value::Number(90.0)), 1, "A");
        let none = k(None, 4, "C");
        let tie = k(Some(Value::Number(10.0)), 3, "A");
        assert_eq!(compare(&low, &high, false), Ordering::Less);
        assert_eq!(compare(&low, &high, true), Ordering::Greater);
        assert_eq!(compare(&none, &high, false), Ordering::Greater);
        assert_eq!(compare(&none, &high, true), Ordering::Greater);
        assert_eq!(compare(&tie, &low, true), Ordering::Less);
        // Descending, equal values list the lower ranked (worse) first.
        let better = k(Some(Value::Number(10.0)), 2, "Z");
        assert_eq!(compare(&low, &better, true), Ordering::Less);
        assert_eq!(compare(&low, &better, false), Ordering::Greater);
        let a = k(Some(Value::Text("bath".into())), 1, "1");
        let b = k(Some(Value::Text("Bristol".into())), 1, "2");
        assert_eq!(compare(&a, &b, false), Ordering::Less);
    }

    #[test]
    fn a_cursor_survives_its_encoding() {
        let cursor = Cursor {
            order: Order {
                by: Column::Region,
                descending: true,
            },
            after: k(Some(Value::Text("North: 1/2".into())), 7, "S-07"),
        };
        let text = serde_json::to_string(&cursor).unwrap();
        assert_eq!(serde_json::from_str::<Cursor>(&text).unwrap(), cursor);
        let none = Cursor {
            after: k(None, 2, "x"),
            ..cursor
        };
        let text = serde_json::to_string(&none).unwrap();
        assert_eq!(serde_json::from_str::<Cursor>(&text).unwrap(), none);
    }
}
