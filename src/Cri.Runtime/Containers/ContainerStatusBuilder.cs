using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Containers;

/// <summary>Turns a container record into the CRI views (ContainerStatus, Container) the kubelet reads.</summary>
public static class ContainerStatusBuilder
{
    /// <summary>
    /// The record fields <see cref="Status"/> reads that can change after the create (the rest are set once): a status
    /// built when these were equal is still the status of the record. Keep it beside <see cref="Status"/>.
    /// </summary>
    public static StatusInputs Inputs(ContainerRecord record) => new(
        record.Phase, record.StartedAtNanos, record.FinishedAtNanos, record.ExitCode, record.Reason, record.Message,
        record.LogPath, record.Resources, record.User);

    public static ContainerStatus Status(ContainerRecord record)
    {
        var config = record.Config;
        var status = new ContainerStatus
        {
            Id = record.Id,
            Metadata = config.Metadata,
            State = record.CriState,
            CreatedAt = record.CreatedAtNanos,
            StartedAt = record.StartedAtNanos,
            FinishedAt = record.FinishedAtNanos,
            ExitCode = record.ExitCode,
            Image = ImageSpecOf(record),
            ImageRef = record.ImageRef,
            ImageId = record.ImageId,
            Reason = record.Reason,
            Message = record.Message,
            LogPath = record.LogPath,
            Resources = new ContainerResources { Linux = record.Resources },
            StopSignal = config.StopSignal,
        };
        status.Labels.Add(config.Labels);
        status.Annotations.Add(config.Annotations);
        status.Mounts.Add(config.Mounts);
        if (record.User is { } user)
        {
            var linux = new LinuxContainerUser { Uid = user.Uid, Gid = user.Gid };
            linux.SupplementalGroups.Add(user.AdditionalGids);
            status.User = new ContainerUser { Linux = linux };
        }
        return status;
    }

    public static Container Summary(ContainerRecord record)
    {
        var container = new Container
        {
            Id = record.Id,
            PodSandboxId = record.SandboxId,
            Metadata = record.Config.Metadata,
            Image = ImageSpecOf(record),
            ImageRef = record.ImageRef,
            ImageId = record.ImageId,
            State = record.CriState,
            CreatedAt = record.CreatedAtNanos,
        };
        container.Labels.Add(record.Config.Labels);
        container.Annotations.Add(record.Config.Annotations);
        return container;
    }

    private static ImageSpec ImageSpecOf(ContainerRecord record)
    {
        var spec = record.Config.Image?.Clone() ?? new ImageSpec();
        if (string.IsNullOrEmpty(spec.Image)) spec.Image = record.ImageName;
        if (string.IsNullOrEmpty(spec.UserSpecifiedImage)) spec.UserSpecifiedImage = record.ImageName;
        spec.ImageRef = record.ImageId;
        return spec;
    }

    public static ContainerStats EmptyStats(ContainerRecord record)
    {
        var attributes = new ContainerAttributes { Id = record.Id, Metadata = record.Config.Metadata };
        attributes.Labels.Add(record.Config.Labels);
        attributes.Annotations.Add(record.Config.Annotations);
        return new ContainerStats { Attributes = attributes };
    }
}

/// <summary>What a container's status is made of besides what the create fixed; see <see cref="ContainerStatusBuilder.Inputs"/>.</summary>
public readonly record struct StatusInputs(
    ContainerPhase Phase, long StartedAtNanos, long FinishedAtNanos, int ExitCode, string Reason, string Message,
    string LogPath, LinuxContainerResources Resources, ResolvedUser? User);
