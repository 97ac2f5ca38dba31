using System.Text.Json.Serialization;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.State;

/// <summary>Lifecycle of a container as persisted; Creating/Removing mark half-done work recovery must finish.</summary>
public enum ContainerPhase
{
    Creating,
    Created,
    Running,
    Exited,
    Removing,
}

/// <summary>One container as the state store keeps it. Mutated only under the container's lock.</summary>
public sealed class ContainerRecord
{
    public required string Id { get; init; }
    public required string SandboxId { get; init; }
    /// <summary>The CreateContainer config, kept as protobuf so nothing the kubelet sent is lost.</summary>
    [JsonConverter(typeof(ProtobufJsonConverter<ContainerConfig>))]
    public required ContainerConfig Config { get; init; }
    public required string RuntimeHandler { get; init; }
    public required long CreatedAtNanos { get; init; }
    [JsonConverter(typeof(NamedEnumConverter<ContainerPhase>))]
    public ContainerPhase Phase { get; set; }
    public long StartedAtNanos { get; set; }
    public long FinishedAtNanos { get; set; }
    public int ExitCode { get; set; }
    public string Reason { get; set; } = "";
    public string Message { get; set; } = "";
    public int Pid { get; set; }
    /// <summary>Process start time (clock ticks since boot, /proc/pid/stat field 22): pids wrap, this does not.</summary>
    public ulong PidStartTime { get; set; }
    /// <summary>"sha256:..." id of the image the container was created from.</summary>
    public required string ImageId { get; init; }
    /// <summary>Image the kubelet asked for (tag or digest reference).</summary>
    public required string ImageName { get; init; }
    /// <summary>A repo digest of the image when known, else the id (ContainerStatus.image_ref).</summary>
    public required string ImageRef { get; init; }
    public List<string> LayerDirs { get; set; } = [];
    /// <summary>
    /// Images mounted as volumes (Mount.image), one entry per image: saved before the shared mount is made, so the
    /// records are the reference count that removal and recovery read, and their layers stay safe from image GC.
    /// </summary>
    public List<ImageVolumeUse> ImageVolumes { get; set; } = [];
    /// <summary>Persistent dir: upper/, work/, rootfs/.</summary>
    public required string Directory { get; init; }
    /// <summary>Volatile dir: OCI bundle (config.json), exit and conmon files.</summary>
    public required string BundleDirectory { get; init; }
    [JsonIgnore]
    public string RootfsPath => System.IO.Path.Combine(Directory, "rootfs");
    [JsonIgnore]
    public string UpperPath => System.IO.Path.Combine(Directory, "upper");
    [JsonIgnore]
    public string WorkPath => System.IO.Path.Combine(Directory, "work");
    /// <summary>Idmapped clones of bind-mount sources (pods with their own user namespace), bound by runc as plain binds.</summary>
    [JsonIgnore]
    public string IdmappedMountsPath => System.IO.Path.Combine(BundleDirectory, "idmapped-mounts");
    public bool RootfsMounted { get; set; }
    /// <summary>
    /// The runtime's own state (runc's state dir and the container's cgroup) is already gone: it is released when the
    /// exit is recorded, as containerd does, so removing an exited container starts no runtime process.
    /// </summary>
    public bool RuntimeStateDeleted { get; set; }
    public string CgroupsPath { get; set; } = "";
    /// <summary>Absolute log path (pod log_directory + config log_path), or empty when the kubelet asked for none.</summary>
    public string LogPath { get; set; } = "";
    /// <summary>Resources currently applied (config's, then every UpdateContainerResources).</summary>
    [JsonConverter(typeof(ProtobufJsonConverter<LinuxContainerResources>))]
    public LinuxContainerResources Resources { get; set; } = new();
    public ResolvedUser? User { get; set; }
    /// <summary>Signal number StopContainer sends first.</summary>
    public int StopSignal { get; set; } = 15;
    /// <summary>The OCI spec as written, for verbose status after a reboot wiped the bundle.</summary>
    public string SpecJson { get; set; } = "";

    [JsonIgnore]
    public ContainerMetadata Metadata => Config.Metadata;

    [JsonIgnore]
    public ContainerState CriState => Phase switch
    {
        ContainerPhase.Created => ContainerState.ContainerCreated,
        ContainerPhase.Running => ContainerState.ContainerRunning,
        ContainerPhase.Exited => ContainerState.ContainerExited,
        _ => ContainerState.ContainerUnknown,
    };
}

/// <summary>An image a container mounts as a volume: its id and the layer snapshots the shared mount is made of.</summary>
public sealed record ImageVolumeUse(string ImageId, IReadOnlyList<string> LayerDirs);
