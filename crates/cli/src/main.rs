//! `careledger`: one line on stderr and exit status 1 for any failure.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = careledger_cli::cli::Cli::parse();
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(careledger_cli::run(cli)) {
        Ok(Some(report)) => match report.print(json) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: writing the output: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Ok(None) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let line = careledger_cli::error::terminal_line(&e.to_string());
            if json {
                println!("{}", serde_json::json!({"error": line}));
            }
            eprintln!("error: {line}");
            std::process::ExitCode::FAILURE
        }
    }
}
