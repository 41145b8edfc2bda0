//! The `u2cut` command line. Everything happens in [`cli::run`]; this file
//! only maps its outcome to an exit code (documented in `u2cut --help`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("u2cut: error: {err:#}");
            ExitCode::from(cli::exit_code(&err))
        }
    }
}
