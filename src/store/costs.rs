//! A rung report's costs as stored: a JSON array in the study's objective
//! order. JSON has no NaN or infinity, so a cost that is not finite is
//! stored as null and read back as NaN, which ranks last. Both backends
//! store them this way.

use super::StoreError;

pub(crate) fn encode(costs: &[f64]) -> String {
    let finite: Vec<Option<f64>> = costs
        .iter()
        .map(|c| Some(*c).filter(|c| c.is_finite()))
        .collect();
    serde_json::to_string(&finite).expect("numbers and nulls serialise")
}

pub(crate) fn decode(text: &str) -> Result<Vec<f64>, StoreError> {
    Ok(serde_json::from_str::<Vec<Option<f64>>>(text)
        .map_err(|source| StoreError::Json {
            what: "rung report costs",
            source,
        })?
        .into_iter()
        .map(|c| c.unwrap_or(f64::NAN))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn costs_round_trip_with_non_finite_ones_as_nan() {
        let back = super::decode(&super::encode(&[1.5, f64::INFINITY, f64::NAN])).unwrap();
        assert_eq!(back[0], 1.5);
        assert!(back[1].is_nan() && back[2].is_nan());
    }
}
