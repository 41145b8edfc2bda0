//! The `u2cut` command line. Everything happens in [`cli::run`]; this file
//! only maps its outcome to an exit code (documented in `u2cut --help`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_device_select();
    match cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("u2cut: error: {err:#}");
            ExitCode::from(cli::exit_code(&err))
        }
    }
}

/// Mesa's implicit Vulkan layer VK_LAYER_MESA_device_select orders the
/// devices by asking the Wayland and X servers which one drives the
/// display, and without a session (a server, a container, CI) libwayland
/// prints `error: XDG_RUNTIME_DIR is invalid or not set` for it on every
/// run. u2cut picks its adapter itself (`--adapter`), so the layer adds
/// nothing: it is switched off the way its manifest provides
/// (`NODEVICE_SELECT=1`), unless the user set that variable. Driver
/// errors still print.
fn quiet_device_select() {
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: the first thing main does, before any thread exists.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}
