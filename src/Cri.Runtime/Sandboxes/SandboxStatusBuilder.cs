using Crisp.Cri.V1;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Sandboxes;

/// <summary>Turns a sandbox record into the CRI views (PodSandboxStatus, PodSandbox) the kubelet reads.</summary>
public static class SandboxStatusBuilder
{
    public static PodSandboxState StateOf(SandboxRecord record) =>
        record.Phase == SandboxPhase.Ready ? PodSandboxState.SandboxReady : PodSandboxState.SandboxNotready;

    public static PodSandboxStatus Status(SandboxRecord record)
    {
        var options = record.NamespaceOptions.Clone();
        var status = new PodSandboxStatus
        {
            Id = record.Id,
            Metadata = record.Config.Metadata,
            State = StateOf(record),
            CreatedAt = record.CreatedAtNanos,
            Network = new PodSandboxNetworkStatus { Ip = record.PodIp },
            Linux = new LinuxPodSandboxStatus { Namespaces = new Namespace { Options = options } },
            RuntimeHandler = record.RuntimeHandler,
        };
        status.Network.AdditionalIps.Add(record.AdditionalIps.Select(ip => new PodIP { Ip = ip }));
        status.Labels.Add(record.Config.Labels);
        status.Annotations.Add(record.Config.Annotations);
        return status;
    }

    public static PodSandbox Summary(SandboxRecord record)
    {
        var sandbox = new PodSandbox
        {
            Id = record.Id,
            Metadata = record.Config.Metadata,
            State = StateOf(record),
            CreatedAt = record.CreatedAtNanos,
            RuntimeHandler = record.RuntimeHandler,
        };
        sandbox.Labels.Add(record.Config.Labels);
        sandbox.Annotations.Add(record.Config.Annotations);
        return sandbox;
    }

    public static PodSandboxAttributes Attributes(SandboxRecord record)
    {
        var attributes = new PodSandboxAttributes { Id = record.Id, Metadata = record.Config.Metadata };
        attributes.Labels.Add(record.Config.Labels);
        attributes.Annotations.Add(record.Config.Annotations);
        return attributes;
    }
}
