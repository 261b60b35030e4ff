//! `nas report`: a study's designs as a Markdown table or JSON lines.

use hybrid_nas::store::Store;
use hybrid_nas::study::{self, report::Report};

use super::open_for_reading;
use crate::cli::{ReportArgs, ReportFormat};

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let store = open_for_reading(&args.store.storage)?;
    let study = study::find(&store, &args.study)?;
    let report = Report::of(&study, &store.trials(study.id)?);
    match args.format {
        ReportFormat::Markdown => print!("{}", report.markdown()),
        ReportFormat::Json => {
            for row in &report.rows {
                let mut v = serde_json::to_value(row)?;
                v["study"] = report.study.clone().into();
                v["evaluator"] = report.evaluator.into();
                v["stand_in"] = report.stand_in.into();
                println!("{v}");
            }
        }
    }
    Ok(())
}
