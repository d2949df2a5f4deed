//! The shared timing rules of the workloads (as `torch_bench.py`): a median
//! over timed repeats after warm-up, each repeat long enough to be measured,
//! and one JSON line per result.

use serde_json::Value;
use std::time::Instant;

/// Timed repeats per workload.
pub const REPS: usize = 7;
/// Minimum length of one repeat, in seconds.
pub const MIN_REP_S: f64 = 0.05;

/// The median of `samples` (sorted in place).
///
/// ```ignore
/// assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
/// ```
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// `(max - min) / median` of `samples`.
pub fn spread(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    let med = median(&mut s);
    let (lo, hi) = (s[0], s[s.len() - 1]);
    (hi - lo) / med
}

/// Runs `f` `warmup` times, calibrates an inner loop so that one repeat lasts
/// at least `min_rep_s`, then times `reps` repeats. Returns the median seconds
/// per call and the relative spread of the repeats.
pub fn time_fn(mut f: impl FnMut(), reps: usize, min_rep_s: f64, warmup: usize) -> (f64, f64) {
    for _ in 0..warmup {
        f();
    }
    let t0 = Instant::now();
    f();
    let one = t0.elapsed().as_secs_f64().max(1e-7);
    let inner = ((min_rep_s / one) as usize).max(1);
    let samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..inner {
                f();
            }
            t0.elapsed().as_secs_f64() / inner as f64
        })
        .collect();
    let mut sorted = samples.clone();
    (median(&mut sorted), spread(&samples))
}

/// [`time_fn`] with the default rules (7 repeats of >= 50 ms, 2 warm-up calls).
pub fn time_default(f: impl FnMut()) -> (f64, f64) {
    time_fn(f, REPS, MIN_REP_S, 2)
}

/// Rounds to 4 decimals (3 for spreads and side values), as the torch script does.
pub fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// Prints `{"name": name, "value": value, "unit": unit, ...extra}` on one
/// line, keys in that order (as the torch script prints them).
pub fn emit(name: &str, value: f64, unit: &str, extra: &[(&str, Value)]) {
    println!("{}", json_line(name, value, unit, extra));
}

/// The line [`emit`] prints.
pub fn json_line(name: &str, value: f64, unit: &str, extra: &[(&str, Value)]) -> String {
    let mut fields = vec![
        ("name", Value::from(name)),
        ("value", Value::from(round(value, 4))),
        ("unit", Value::from(unit)),
    ];
    fields.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {}", Value::from(*k), v))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// The `spread` key, rounded like the torch script's.
pub fn sp(s: f64) -> (&'static str, Value) {
    ("spread", round(s, 3).into())
}

/// The `info: true` key of informational rows.
pub fn info() -> (&'static str, Value) {
    ("info", true.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(spread(&[1.0, 2.0, 3.0]), 1.0);
    }

    #[test]
    fn time_fn_counts_calls() {
        let mut calls = 0usize;
        let (t, _) = time_fn(|| calls += 1, 3, 0.0, 2);
        // 2 warm-up + 1 calibration + 3 repeats of one call each (min_rep_s = 0).
        assert_eq!(calls, 6);
        assert!(t >= 0.0);
    }

    #[test]
    fn json_line_keeps_key_order() {
        let line = json_line("x", 1.23456, "ms", &[sp(0.12345), info()]);
        assert_eq!(
            line,
            r#"{"name": "x", "value": 1.2346, "unit": "ms", "spread": 0.123, "info": true}"#
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["value"], 1.2346);
    }
}
