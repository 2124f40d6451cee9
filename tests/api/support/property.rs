//! Random runs that a failure can replay: `ITHBAT_FILTER_SEED=n` replays
//! one, `ITHBAT_FILTER_CASES=n` sets how many cases it tries.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A filter property test's run: its seed (printed, to replay it), its
/// number of cases and its random source.
pub struct FilterRun {
    pub seed: u64,
    pub cases: usize,
    pub rng: StdRng,
}

impl FilterRun {
    /// `label` names the test in the printed line.
    pub fn start(label: &str, default_cases: usize) -> FilterRun {
        let seed: u64 = std::env::var("ITHBAT_FILTER_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand::thread_rng().gen());
        let cases: usize = std::env::var("ITHBAT_FILTER_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_cases);
        eprintln!("{label} property test with ITHBAT_FILTER_SEED={seed}");
        FilterRun {
            seed,
            cases,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}
