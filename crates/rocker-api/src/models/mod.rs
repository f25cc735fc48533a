//! Serde models of the Docker Engine API (v1.43) shared by the daemon and the clients.
//!
//! One file per resource family; everything is re-exported here so callers write
//! `rocker_api::models::ContainerConfig`. Deserialization is as lenient as Docker's Go
//! decoder (missing and `null` fields take their zero value), serialization follows Docker's
//! field names and omit rules.

mod container;
mod container_config;
mod de;
mod disk_usage; // system df, container prune (P3)
mod events;
mod exec;
mod host_config;
mod image;
mod message;
mod network;
mod stats;
mod system;
mod volume;

pub use container::{
    Address, ContainerCreateResponse, ContainerInspect, ContainerState, ContainerSummary,
    ContainerWaitResponse, GraphDriverData, Health, HealthcheckResult, MountPoint, NetworkSettings,
    Port, SummaryHostConfig, SummaryNetworkSettings, WaitExitError,
};
pub use container_config::{
    ContainerConfig, ContainerCreateBody, EmptyObject, EndpointIpamConfig, EndpointSettings,
    HealthConfig, NetworkingConfig,
};
pub use disk_usage::{ContainersPruneReport, DiskUsage};
pub use events::{EventActor, EventMessage};
pub use exec::{ExecConfig, ExecInspect, ExecProcessConfig, ExecStartConfig};
pub use host_config::{
    BindOptions, DeviceMapping, DeviceRequest, HostConfig, LogConfig, Mount, PortBinding,
    RestartPolicy, ThrottleDevice, TmpfsOptions, Ulimit, VolumeDriverConfig, VolumeOptions,
    WeightDevice,
};
pub use image::{ImageDeleteResponseItem, ImageInspect, ImageMetadata, ImageSummary, RootFs};
pub use message::{ErrorResponse, IdResponse, JsonError, JsonMessage, JsonProgress};
pub use network::{
    ConfigReference, EndpointResource, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest, NetworkResource,
    NetworksPruneResponse,
};
pub use stats::{
    BlkioStatEntry, BlkioStats, CpuStats, CpuUsage, MemoryStats, NetworkStats, PidsStats,
    StatsResponse, StorageStats, ThrottlingData, ZERO_TIME,
};
pub use system::{
    Commit, ComponentVersion, IndexInfo, Platform, PluginsInfo, RegistryServiceConfig, RuntimeInfo,
    SwarmInfo, SystemInfo, SystemVersion, API_VERSION, MIN_API_VERSION,
};
pub use volume::{
    Volume, VolumeCreateOptions, VolumeListResponse, VolumeUsageData, VolumesPruneResponse,
}; // P3
