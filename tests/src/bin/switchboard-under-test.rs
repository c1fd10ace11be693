//! The real `switchboard` command line, built inside this package so that its tests can
//! run it as a process (cargo gives a package's tests the paths of its own binaries only).
fn main() -> std::process::ExitCode {
    switchboard::cli::main()
}
