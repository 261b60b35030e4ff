//! The perceptual colour scale for shading markers by a value in [0, 1]: a
//! viridis-like ramp from dark violet through blue and green to yellow,
//! interpolated between a small table of control points.
//!
//! Its lightness rises steadily from one end to the other, so the order of
//! values reads in greyscale and for colour-blind readers too.

use plotters::style::RGBColor;

/// Control points, evenly spaced over [0, 1]: an approximation of the
/// viridis colour map (van der Walt and Smith) at nine stops.
const STOPS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (253, 231, 37),
];

/// Colour of a point without a (finite) shade in a shaded figure: a neutral
/// grey that no value of the scale comes close to.
pub(super) const MISSING: RGBColor = RGBColor(170, 170, 170);

/// The colour of `t` on the scale: `t` is clamped to [0, 1], and a NaN is
/// [`MISSING`].
pub(super) fn shade_colour(t: f64) -> RGBColor {
    if t.is_nan() {
        return MISSING;
    }
    let pos = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rec. 709 luma, a stand-in for perceived lightness.
    fn luma(c: RGBColor) -> f64 {
        0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)
    }

    #[test]
    fn ends_and_clamping() {
        assert_eq!(shade_colour(0.0), RGBColor(68, 1, 84));
        assert_eq!(shade_colour(1.0), RGBColor(253, 231, 37));
        assert_eq!(shade_colour(-3.0), shade_colour(0.0));
        assert_eq!(shade_colour(7.0), shade_colour(1.0));
        assert_eq!(shade_colour(f64::NAN), MISSING);
    }

    #[test]
    fn lightness_rises_along_the_scale() {
        let mut prev = luma(shade_colour(0.0));
        for k in 1..=200 {
            let l = luma(shade_colour(f64::from(k) / 200.0));
            assert!(l >= prev, "lightness falls at {}", f64::from(k) / 200.0);
            prev = l;
        }
    }
}
