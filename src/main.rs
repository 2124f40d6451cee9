fn main() -> std::process::ExitCode {
    ithbat::cli::main()
}
