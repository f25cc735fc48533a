//! One module per CLI verb (or small group of verbs): parse flags, call the client, format.

pub mod container_flags;
pub mod create;
pub mod events;
pub mod exec;
pub mod image_transfer;
pub mod images;
pub mod info;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod net_flags;
pub mod network;
pub mod ops;
pub mod port;
pub mod ps;
pub mod registry;
pub mod run;
pub mod start;
pub mod stats;
pub mod version;
pub mod volume; // volumes (N3)

use clap::Subcommand;

/// Every verb of the CLI.
#[derive(Debug, Subcommand)]
pub enum Command {
    Run(run::RunArgs),
    Create(create::CreateArgs),
    Start(start::StartArgs),
    Exec(exec::ExecArgs),
    /// List containers
    #[command(alias = "ls")]
    Ps(ps::PsArgs),
    Logs(logs::LogsArgs),
    Stop(lifecycle::StopArgs),
    Kill(lifecycle::KillArgs),
    Rm(lifecycle::RmArgs),
    Wait(lifecycle::WaitArgs),
    Pause(ops::PauseArgs),
    Unpause(ops::UnpauseArgs),
    Rename(ops::RenameArgs),
    Top(ops::TopArgs),
    Stats(stats::StatsArgs),
    Events(events::EventsArgs),
    Images(images::ImagesArgs),
    Import(image_transfer::ImportArgs),
    Load(image_transfer::LoadArgs),
    Pull(registry::PullArgs),
    Push(registry::PushArgs),
    Tag(registry::TagArgs),
    Rmi(registry::RmiArgs),
    Inspect(inspect::InspectArgs),
    Version(version::VersionArgs),
    Info(info::InfoArgs),
    Network(network::NetworkArgs),
    Port(port::PortArgs),
    Volume(volume::VolumeArgs), // volumes (N3)
}

impl Command {
    /// Runs the verb; `Ok` carries the exit code.
    pub async fn execute(self, client: &rocker_api::Client) -> anyhow::Result<i32> {
        match self {
            Self::Run(a) => run::run(client, a).await,
            Self::Create(a) => create::run(client, a).await,
            Self::Start(a) => start::run(client, a).await,
            Self::Exec(a) => exec::run(client, a).await,
            Self::Ps(a) => ps::run(client, a).await,
            Self::Logs(a) => logs::run(client, a).await,
            Self::Stop(a) => lifecycle::stop(client, a).await,
            Self::Kill(a) => lifecycle::kill(client, a).await,
            Self::Rm(a) => lifecycle::rm(client, a).await,
            Self::Wait(a) => lifecycle::wait(client, a).await,
            Self::Pause(a) => ops::pause(client, a).await,
            Self::Unpause(a) => ops::unpause(client, a).await,
            Self::Rename(a) => ops::rename(client, a).await,
            Self::Top(a) => ops::top(client, a).await,
            Self::Stats(a) => stats::run(client, a).await,
            Self::Events(a) => events::run(client, a).await,
            Self::Images(a) => images::run(client, a).await,
            Self::Import(a) => image_transfer::import(client, a).await,
            Self::Load(a) => image_transfer::load(client, a).await,
            Self::Pull(a) => registry::pull(client, a).await,
            Self::Push(a) => registry::push(client, a).await,
            Self::Tag(a) => registry::tag(client, a).await,
            Self::Rmi(a) => registry::rmi(client, a).await,
            Self::Inspect(a) => inspect::run(client, a).await,
            Self::Version(a) => version::run(client, a).await,
            Self::Info(a) => info::run(client, a).await,
            Self::Network(a) => network::run(client, a).await,
            Self::Port(a) => port::run(client, a).await,
            Self::Volume(a) => volume::run(client, a).await, // volumes (N3)
        }
    }
}
