//! `ca`: the authority's command line for operators, applicants and anyone
//! inspecting a certificate. A thin shell over `ca-core`: arguments (`args`), one
//! module per command (`commands`), typed outputs printed by one renderer
//! (`output`), and exit statuses by error kind (`error`): 0 success, 1 refused,
//! 2 usage, 3 internal.

mod args;
mod card;
mod client;
mod commands;
mod error;
mod output;
mod tls;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse(); // usage errors exit 2 here
    tls::trust(cli.cacert.clone());
    if let Err(e) = commands::run(&cli) {
        output::print_error(&e, cli.json);
        std::process::exit(e.exit as i32);
    }
}
