//! The process's resident memory as Linux reports it in /proc/self/status,
//! and resetting its peak through /proc/self/clear_refs, so that the peak of
//! one piece of work (a trial, a sweep point) can be read in a process that
//! did other work before.

/// A memory reading that /proc/self/status does not give.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the process's memory from /proc/self/status ({0}): memory is measured on Linux only")]
pub struct NoMemoryReading(String);

/// `VmHWM` (the peak) or `VmRSS` (now) of this process, in bytes.
pub fn resident_bytes(field: &str) -> Result<u64, NoMemoryReading> {
    let status =
        std::fs::read_to_string("/proc/self/status").map_err(|e| NoMemoryReading(e.to_string()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| NoMemoryReading(format!("no {field} line")))
}

/// Sets the peak (`VmHWM`) back to the current resident set; false where
/// the kernel does not offer it (then the peak covers the process's life).
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_positive_and_a_reset_peak_drops_to_what_is_resident() {
        let now = resident_bytes("VmRSS").unwrap();
        let peak = resident_bytes("VmHWM").unwrap();
        assert!(now > 0 && peak >= now, "{now} {peak}");
        assert!(resident_bytes("VmNothing").is_err());
        // 64 MiB touched and freed raise the peak; a reset lowers it again.
        let block = vec![1u8; 64 << 20];
        assert!(block.iter().step_by(4096).all(|&b| b == 1));
        drop(block);
        let raised = resident_bytes("VmHWM").unwrap();
        if reset_peak() {
            let reset = resident_bytes("VmHWM").unwrap();
            assert!(reset + (32 << 20) < raised, "{reset} {raised}");
        }
    }
}
