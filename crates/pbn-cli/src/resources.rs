//! What a command may use of this machine: threads (at most the cores) and memory (refused up
//! front when the estimate does not fit, unless forced).

use pbn_core::MemoryEstimate;
use pbn_core::memory::{LARGE_BYTES, available_memory, format_bytes};

/// The thread count to use for `--threads requested`: 0 means every available core, and more
/// than the available cores are reduced to them with a warning on stderr (threads beyond the
/// cores cannot run at once, and a step waits for all of them at every phase).
pub fn resolve_threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match requested {
        0 => cores,
        k if k > cores => {
            eprintln!(
                "warning: --threads {k} is more than the {cores} available core(s); using {cores} (results are identical for any number of threads)"
            );
            cores
        }
        k => k,
    }
}

/// Refuses (unless `force`) when `copies` runs at once, each estimated at most `estimate`, need
/// more memory than is available; says how much a large one needs.
pub fn check_memory(estimate: &MemoryEstimate, copies: usize, force: bool, quiet: bool) -> Result<(), String> {
    let copies = copies.max(1);
    let peak = estimate.peak_bytes() * copies as f64;
    let what = if copies == 1 {
        format!("this run needs {estimate}")
    } else {
        format!(
            "{copies} runs at once need {} (the largest: {estimate})",
            format_bytes(peak)
        )
    };
    let available = available_memory();
    if let Some((bytes, source)) = &available
        && peak > *bytes
    {
        let message = format!("{what}, but only {} is available ({source})", format_bytes(*bytes));
        if !force {
            let fewer = if copies > 1 { "run fewer at once (--jobs), " } else { "" };
            return Err(format!(
                "{message}; {fewer}make the network smaller (n, probabilities) or pass --force to run anyway"
            ));
        }
        eprintln!("warning: {message}; running anyway (--force)");
    } else if peak >= LARGE_BYTES && !quiet {
        let free = available.map_or(String::new(), |(b, source)| {
            format!(" of {} available ({source})", format_bytes(b))
        });
        eprintln!("memory: {what}{free}");
    }
    Ok(())
}
