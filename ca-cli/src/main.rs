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

use clap::{CommandFactory, FromArgMatches};

fn main() {
    // Usage errors exit 2 here.
    // Arguments as given (not necessarily UTF-8: clap judges them); the words read
    // to choose the help only lossily.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let words: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let matches = args::applicant_help(args::Cli::command(), &words).get_matches_from(argv);
    let cli = args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    tls::trust(cli.cacert.clone());
    if let Err(e) = commands::run(&cli) {
        output::print_error(&e, cli.json);
        std::process::exit(e.exit as i32);
    }
}
