//! Fuzz-style inputs for the parsers' unit tests: seeded, so a failure
//! repeats, and run on a thread with a smaller stack than a server worker
//! has, so that a parser within its limits is shown to have room to spare.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A request's work runs on threads with Rust's default 2 MiB stack
/// (actix workers, tokio's runtime); the tests give parsers half of it.
const STACK: usize = 1024 * 1024;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Arbitrary bytes, read as UTF-8 the way a server reads a request
/// (invalid sequences replaced).
pub fn bytes(rng: &mut StdRng, max: usize) -> String {
    let len = rng.gen_range(0..=max);
    let raw: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
    String::from_utf8_lossy(&raw).into_owned()
}

/// Tokens of a grammar strung together at random, with or without spaces.
pub fn soup(rng: &mut StdRng, tokens: &[&str], max: usize) -> String {
    let len = rng.gen_range(0..=max);
    let mut out = String::new();
    for _ in 0..len {
        out.push_str(tokens[rng.gen_range(0..tokens.len())]);
        if rng.gen_bool(0.7) {
            out.push(' ');
        }
    }
    out
}

/// Runs `f` on a thread with `STACK` bytes of stack; a panic fails the
/// test with the input that caused it, and a stack overflow aborts the
/// test binary (which fails the run).
pub fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("test thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Calls `parse` on each input, catching panics to name the input.
pub fn never_panics<R>(inputs: Vec<String>, parse: fn(&str) -> R) {
    for input in inputs {
        let outcome = std::panic::catch_unwind(|| drop(parse(&input)));
        assert!(outcome.is_ok(), "panicked on {input:?}");
    }
}

/// `open` x depth, `middle`, `close` x depth.
pub fn nested(open: &str, middle: &str, close: &str, depth: usize) -> String {
    format!("{}{middle}{}", open.repeat(depth), close.repeat(depth))
}
