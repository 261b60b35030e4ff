//! Axes, linear or log10, with our own tick choice and tick labels, and
//! their plotters coordinate.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

use super::number::{compact_number, SI};

/// The range of `values`, widened each side by `fraction` of it (by 1% of
/// the value when all are equal), so that no mark sits on the frame.
pub(super) fn padded_range(values: impl Iterator<Item = f64>, fraction: f64) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo {
        fraction * (hi - lo)
    } else {
        0.01 * lo.abs().max(1.0)
    };
    (lo - pad)..(hi + pad)
}

/// One axis, linear or log10, with our own tick choice and formatting:
/// plotters' log coordinate labels every key point with the raw `f64` Debug
/// form, and its linear ticks print 1200000.0 for a million FLOPs.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// An axis spanning `[lo, hi]` of data, padded by the given fractions of
    /// its (transformed) span on each side.
    pub(super) fn padded(lo: f64, hi: f64, log: bool, pad_lo: f64, pad_hi: f64) -> Self {
        let (mut a, mut b) = if log {
            (lo.log10(), hi.log10())
        } else {
            (lo, hi)
        };
        if b - a <= 0.0 {
            // One distinct value: give it some room around it.
            let half = if log { 0.25 } else { (a.abs() * 0.1).max(1.0) };
            a -= half;
            b += half;
        }
        let span = b - a;
        a -= pad_lo * span;
        b += pad_hi * span;
        let (lo, hi) = if log {
            (10f64.powf(a), 10f64.powf(b))
        } else {
            (a, b)
        };
        Axis { lo, hi, log }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.log10()
        } else {
            v
        }
    }

    fn contains(&self, v: f64) -> bool {
        let eps = (self.t(self.hi) - self.t(self.lo)) * 1e-9;
        self.t(v) >= self.t(self.lo) - eps && self.t(v) <= self.t(self.hi) + eps
    }

    /// Major ticks (labelled, darker grid) and minor ticks (faint grid only).
    fn ticks(&self, max_major: usize) -> (Vec<f64>, Vec<f64>) {
        let max_major = max_major.max(2);
        if self.log {
            self.log_ticks(max_major)
        } else {
            let step = self.linear_step(max_major);
            (self.multiples(step), Vec::new())
        }
    }

    fn multiples(&self, step: f64) -> Vec<f64> {
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|k| k as f64 * step).collect()
    }

    /// The smallest step of the form {1, 2, 2.5, 5} x 10^k giving at most
    /// `max` ticks.
    fn linear_step(&self, max: usize) -> f64 {
        let raw = (self.hi - self.lo) / max as f64;
        let mut pow = 10f64.powf(raw.log10().floor());
        loop {
            for m in [1.0, 2.0, 2.5, 5.0] {
                let step = m * pow;
                if self.multiples(step).len() <= max {
                    return step;
                }
            }
            pow *= 10.0;
        }
    }

    /// Log ticks: the sparsest mantissa set ({1}, {1, 3}, {1, 2, 5}, 1..9)
    /// that gives at least four labels without exceeding `max`; whole
    /// decades only (thinned if need be) when the span is wide. The rest of
    /// 1..9 x 10^k become faint minor lines, the usual log-paper look.
    fn log_ticks(&self, max: usize) -> (Vec<f64>, Vec<f64>) {
        let k0 = self.lo.log10().floor() as i32 - 1;
        let k1 = self.hi.log10().ceil() as i32 + 1;
        let with = |set: &[f64]| -> Vec<f64> {
            (k0..=k1)
                .flat_map(|k| set.iter().map(move |m| m * 10f64.powi(k)))
                .filter(|&v| self.contains(v))
                .collect()
        };
        let all: Vec<f64> = with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        let sets: [&[f64]; 4] = [
            &[1.0],
            &[1.0, 3.0],
            &[1.0, 2.0, 5.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        ];
        let mut major: Option<Vec<f64>> = None;
        for set in sets {
            let t = with(set);
            if t.len() > max {
                break;
            }
            let enough = t.len() >= 4;
            major = Some(t);
            if enough {
                break;
            }
        }
        let major = match major {
            Some(m) => m,
            None => {
                // Even whole decades are too many: keep every n-th decade.
                let decades = with(&[1.0]);
                let every = decades.len().div_ceil(max);
                decades.into_iter().step_by(every).collect()
            }
        };
        let span_decades = self.hi.log10() - self.lo.log10();
        let minor = if span_decades > 8.0 {
            Vec::new()
        } else {
            all.into_iter()
                .filter(|v| !major.iter().any(|m| (m / v - 1.0).abs() < 1e-9))
                .collect()
        };
        (major, minor)
    }

    /// Tick label. Log axes label each tick on its own ("200k", "1M");
    /// linear axes use one decimal count for all ticks so they line up.
    fn format(&self, v: f64, step: Option<f64>) -> String {
        if v == 0.0 {
            return "0".to_string();
        }
        match step {
            Some(step) if !self.log => {
                let top = self.lo.abs().max(self.hi.abs());
                let idx = if top >= 1e3 {
                    ((top.log10() / 3.0).floor() as usize).min(SI.len())
                } else {
                    0
                };
                let scale = 1e3f64.powi(idx as i32);
                let s = step / scale;
                let decimals = (0..=6)
                    .find(|&d| {
                        let x = s * 10f64.powi(d);
                        (x - x.round()).abs() < 1e-6 * x.max(1.0)
                    })
                    .unwrap_or(6) as usize;
                let suffix = if idx == 0 { "" } else { SI[idx - 1] };
                format!("{:.decimals$}{suffix}", v / scale)
            }
            _ => compact_number(v),
        }
    }
}

/// The axis as plotters sees it: key points come from [`Axis::ticks`], with
/// the number of labels plotters asks for.
#[derive(Debug, Clone)]
pub(super) struct AxisCoord {
    axis: Axis,
    /// The linear step, fixed when the axis is configured, so that labels
    /// share a format.
    step: Option<f64>,
}

impl AxisCoord {
    pub(super) fn new(axis: Axis, max_major: usize) -> Self {
        let step = (!axis.log).then(|| axis.linear_step(max_major.max(2)));
        AxisCoord { axis, step }
    }
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.axis.t(self.axis.lo), self.axis.t(self.axis.hi));
        let f = (self.axis.t(*value) - a) / (b - a);
        (limit.0 as f64 + f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let (mut major, minor) = self.axis.ticks(hint.bold_points());
        if hint.weight().allow_light_points() {
            major.extend(minor);
        }
        major
    }

    fn range(&self) -> Range<f64> {
        self.axis.lo..self.axis.hi
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format_ext(&self, value: &f64) -> String {
        self.axis.format(*value, self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_round() {
        let axis = Axis {
            lo: 8e5,
            hi: 3e8,
            log: true,
        };
        let (major, minor) = axis.ticks(9);
        let labels: Vec<String> = major.iter().map(|&v| axis.format(v, None)).collect();
        assert_eq!(labels, ["1M", "3M", "10M", "30M", "100M", "300M"]);
        assert!(!minor.is_empty());
    }

    #[test]
    fn linear_ticks_share_decimals() {
        let axis = Axis {
            lo: 0.0,
            hi: 3.2e6,
            log: false,
        };
        let step = axis.linear_step(9);
        assert_eq!(step, 5e5);
        let labels: Vec<String> = axis
            .ticks(9)
            .0
            .iter()
            .map(|&v| axis.format(v, Some(step)))
            .collect();
        assert_eq!(
            labels,
            ["0", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M", "3.0M"]
        );
    }
}
