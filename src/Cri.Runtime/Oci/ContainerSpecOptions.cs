using Crisp.Cri.V1;

namespace Crisp.Runtime.Oci;

/// <summary>How a host mount propagates events, as /proc/self/mountinfo reports it.</summary>
public enum HostMountPropagation
{
    Private,
    Slave,
    Shared,
}

/// <summary>Runtime-handler and host facts the spec generator needs beyond <see cref="Crisp.Runtime.Api.ContainerSpecContext"/>.</summary>
public sealed record ContainerSpecOptions
{
    public static ContainerSpecOptions Default { get; } = new();

    /// <summary>The OCI runtime accepts the "rro" mount option (runc ≥ 1.1 on kernel ≥ 5.12 reports it in `runc features`).</summary>
    public bool SupportsRecursiveReadOnly { get; init; }

    /// <summary>Architecture for the seccomp profile ("amd64", "arm64"...); the host's by default.</summary>
    public string Architecture { get; init; } = SeccompArchitectures.Native;

    /// <summary>
    /// Maps a target container id (namespace mode TARGET) to the path of its PID namespace, e.g.
    /// /proc/&lt;pid&gt;/ns/pid; null result = not found/not running. Unset = TARGET is refused.
    /// </summary>
    public Func<string, string?>? ResolveTargetPidNamespace { get; init; }

    /// <summary>Propagation of the host mount containing a path; defaults to reading /proc/self/mountinfo.</summary>
    public Func<string, HostMountPropagation> ProbeHostMountPropagation { get; init; } = HostMountPropagationProbe.Of;

    /// <summary>What "ALL" and privileged mode grant: the capabilities crisp holds (its bounding set) by default.</summary>
    public IReadOnlyList<string> AllCapabilities { get; init; } = HostCapabilities.Names;

    /// <summary>Host /dev/shm, bound into containers of pods that use the host IPC namespace.</summary>
    public string HostDevShmPath { get; init; } = "/dev/shm";

    /// <summary>The pod sandbox id, written as the io.kubernetes.cri.sandbox-id annotation when known.</summary>
    public string? SandboxId { get; init; }

    /// <summary>
    /// Annotation prefixes the OCI runtime may see although it interprets them (runtime.allowed_annotations); see
    /// <see cref="SpecAnnotations.Admit"/>. Empty: every interpreted annotation is dropped.
    /// </summary>
    public IReadOnlyList<string> AllowedAnnotationPrefixes { get; init; } = [];

    /// <summary>The AppArmor profile chosen for the process (<see cref="Lsm.AppArmorProfiles"/>); null: none.</summary>
    public string? AppArmorProfile { get; init; }

    /// <summary>SELinux process label (<see cref="Lsm.SelinuxLabels"/>); null: none.</summary>
    public string? SelinuxProcessLabel { get; init; }

    /// <summary>SELinux label of the mounts runc creates (linux.mountLabel); null: none.</summary>
    public string? SelinuxMountLabel { get; init; }

    /// <summary>
    /// Prepares an idmapped clone of a bind source whose Mount has uid/gid mappings and returns the path runc should
    /// bind instead (source, the CRI mount, its field name). Unset: such mounts are refused.
    /// </summary>
    public Func<string, Mount, string, string>? IdmapBindSource { get; init; }

    /// <summary>
    /// The host path an image volume (a Mount with <c>image</c> set) binds: the image's shared read-only mount or its
    /// sub-path, prepared by the caller. Unset: image volumes are refused.
    /// </summary>
    public Func<Mount, string>? ImageVolumeSource { get; init; }

    /// <summary>Host /dev, enumerated for privileged containers.</summary>
    public string HostDevPath { get; init; } = "/dev";
}
