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
        Ok(Some(report)) => {
            report.print(json);
            std::process::ExitCode::SUCCESS
        }
        Ok(None) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({"error": e.to_string()}));
            }
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
