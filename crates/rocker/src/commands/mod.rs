//! One module per CLI verb (or small group of verbs): parse flags, call the client, format.

pub mod attach; // P3
pub mod completion; // P3
pub mod container; // P3
pub mod container_flags;
pub mod cp; // container file system API (P1)
pub mod create;
pub mod diff; // P1
pub mod events;
pub mod exec;
pub mod export; // P1
pub mod health_flags; // health (P2)
pub mod image_transfer;
pub mod images;
pub mod images_format; // images --filter/--format (P3)
pub mod info;
pub mod inspect;
pub mod lifecycle;
pub mod list_format; // --format of list verbs (P3)
pub mod login;
pub mod logs;
pub mod net_flags;
pub mod network;
pub mod ops;
pub mod port;
pub mod ps;
pub mod registry;
pub mod restart; // restart (P2)
pub mod run;
pub mod start;
pub mod stats;
pub mod system; // P3
pub mod update; // update (P2)
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
    Attach(attach::AttachArgs),             // P3
    Container(container::ContainerArgs),    // P3
    System(system::SystemArgs),             // P3
    Completion(completion::CompletionArgs), // P3
    /// List containers
    #[command(alias = "ls")]
    Ps(ps::PsArgs),
    Logs(logs::LogsArgs),
    Stop(lifecycle::StopArgs),
    Restart(restart::RestartArgs), // restart (P2)
    Update(update::UpdateArgs),    // update (P2)
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
    Cp(cp::CpArgs),             // P1
    Diff(diff::DiffArgs),       // P1
    Export(export::ExportArgs), // P1
    Login(login::LoginArgs),
    Logout(login::LogoutArgs),
}

impl Command {
    /// Runs the verb; `Ok` carries the exit code.
    pub async fn execute(self, client: &rocker_api::Client) -> anyhow::Result<i32> {
        match self {
            Self::Run(a) => run::run(client, a).await,
            Self::Create(a) => create::run(client, a).await,
            Self::Start(a) => start::run(client, a).await,
            Self::Exec(a) => exec::run(client, a).await,
            Self::Attach(a) => attach::run(client, a).await, // P3
            Self::Container(a) => container::run(client, a).await, // P3
            Self::System(a) => system::run(client, a).await, // P3
            Self::Completion(a) => Ok(completion::run(&a)),  // P3
            Self::Ps(a) => ps::run(client, a).await,
            Self::Logs(a) => logs::run(client, a).await,
            Self::Stop(a) => lifecycle::stop(client, a).await,
            Self::Restart(a) => restart::run(client, a).await, // restart (P2)
            Self::Update(a) => update::run(client, a).await,   // update (P2)
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
            Self::Cp(a) => cp::run(client, a).await,         // P1
            Self::Diff(a) => diff::run(client, a).await,     // P1
            Self::Export(a) => export::run(client, a).await, // P1
            Self::Login(a) => login::login(client, a).await,
            Self::Logout(a) => login::logout(client, a).await,
        }
    }
}
