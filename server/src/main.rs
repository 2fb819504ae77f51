//! The `latchkey` binary.

use clap::Parser as _;
use server::config::{AdminCommand, Cli, Command, UserCommand};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    server::tune_allocator();
    server::init_logging(cli.config.log_format, !matches!(cli.command, None | Some(Command::Serve)));
    let result = match &cli.command {
        None | Some(Command::Serve) => server::serve(cli.config.clone()).await,
        Some(Command::Admin { command: AdminCommand::Create { username, email } }) => {
            server::cli::create_account(&cli.config, username, email, true).await
        }
        Some(Command::User { command: UserCommand::Create { username, email } }) => {
            server::cli::create_account(&cli.config, username, email, false).await
        }
        Some(Command::App { command }) => server::cli::app(&cli.config, command).await,
        Some(Command::Keys { command }) => server::cli::keys(&cli.config, command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
