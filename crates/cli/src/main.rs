//! `textback`: the headless daemon, a demo against the built-in simulator, and `doctor`.
//!
//! All behaviour lives in the engine; this binary only reads the config and credentials,
//! opens the store, starts the engine, and prints. To add a command: a variant in [`Command`],
//! a line in [`USAGE`], and a function below.

mod logging;
mod reply;
mod restore;
mod run;
mod test_clock;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
textback — texts back missed callers, from your business number

USAGE:
    textback [--config PATH] <COMMAND>

COMMANDS:
    daemon    Run the engine headless until Ctrl-C / SIGTERM (an always-on office PC)
    demo      Run the engine against the built-in phone simulator and print what happens
    doctor    Check configuration, credentials and connectivity; say exactly what is wrong
    reply     Queue a text to a customer for the running daemon to send:
              reply --to +15551234567 [--from NUMBER] [--as NAME] \"message\"
    backup    Make a verified backup of the database now (safe while the daemon runs)
    restore   Put the newest good backup back in place of the database (stop Textback
              first; the file it replaces is kept): restore [BACKUP_FILE]
    help      Show this text
    version   Show the version

The config file is --config PATH, else $TEXTBACK_CONFIG, else ~/.config/textback/textback.toml.
See README.md for every setting and environment variable.";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Daemon,
    Demo,
    Doctor,
    Reply(reply::Args),
    Backup,
    Restore(Option<PathBuf>),
    Help,
    Version,
}

#[derive(Debug)]
struct Args {
    config: Option<PathBuf>,
    command: Command,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut config = None;
    let mut command = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                config = Some(PathBuf::from(
                    it.next().ok_or("--config needs a file path")?,
                ));
            }
            s if s.starts_with("--config=") => {
                config = Some(PathBuf::from(&s["--config=".len()..]))
            }
            "-h" | "--help" | "help" => command = Some(Command::Help),
            "-V" | "--version" | "version" => command = Some(Command::Version),
            "daemon" => command = Some(Command::Daemon),
            "demo" => command = Some(Command::Demo),
            "doctor" => command = Some(Command::Doctor),
            "reply" => command = Some(Command::Reply(reply::parse_args(&mut it)?)),
            "backup" => command = Some(Command::Backup),
            "restore" => command = Some(Command::Restore(restore::parse_args(&mut it)?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        config,
        command: command.unwrap_or(Command::Help),
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("textback: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match args.command {
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("textback {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Daemon => run::daemon(args.config.as_deref()),
        Command::Demo => run::demo(args.config.as_deref()),
        Command::Doctor => run::doctor(args.config.as_deref()),
        Command::Backup => restore::backup_now(args.config.as_deref()),
        Command::Restore(file) => restore::run(args.config.as_deref(), file.as_deref()),
        Command::Reply(reply) => reply::run(args.config.as_deref(), &reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_commands_and_config_flag() {
        let a = args(&["--config", "/tmp/x.toml", "daemon"]).unwrap();
        assert_eq!(a.command, Command::Daemon);
        assert_eq!(
            a.config.as_deref(),
            Some(std::path::Path::new("/tmp/x.toml")),
            "--config PATH is honoured"
        );
        assert_eq!(
            args(&["doctor", "--config=/a"]).unwrap().config.as_deref(),
            Some(std::path::Path::new("/a"))
        );
        assert_eq!(
            args(&[]).unwrap().command,
            Command::Help,
            "no command shows help rather than guessing"
        );
    }

    #[test]
    fn rejects_unknown_arguments_and_a_dangling_flag() {
        assert!(
            args(&["deamon"]).is_err(),
            "a typo must not silently do something else"
        );
        assert!(args(&["--config"]).is_err());
    }
}
