using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Google.Protobuf.Collections;

namespace Crisp.Runtime.Namespaces;

/// <summary>One line of a uid_map or gid_map: container ids [ContainerId, ContainerId+Length) are host ids [HostId, …).</summary>
public readonly record struct IdRange(uint ContainerId, uint HostId, uint Length);

/// <summary>
/// The id mappings of a pod's user namespace (userns_options mode POD), as the kubelet sends them: exactly one uid
/// and one gid range, each mapping container id 0. Host ids are not checked against a reserved range: the kubelet
/// allocates them (65536·N, N ≥ 1, from its own subuid range) and critest maps 1000+, so only what would break the
/// host's own identities is refused: a range holding host id 0 (a container user would be the node's root).
/// </summary>
public sealed record UserNamespaceMappings(IdRange Uid, IdRange Gid)
{
    private const string Field = "config.linux.security_context.namespace_options.userns_options";

    /// <summary>The host ids the container's root maps to (owner of the container's upper dir).</summary>
    public uint HostRootUid => Uid.HostId;
    public uint HostRootGid => Gid.HostId;

    /// <summary>The pod's mappings, null for mode NODE or no options; anything crisp cannot honour is InvalidArgument naming the field.</summary>
    public static UserNamespaceMappings? FromPod(UserNamespace? options, string field = Field)
    {
        if (options is null) return null;
        switch (options.Mode)
        {
            case NamespaceMode.Node:
                if (options.Uids.Count > 0 || options.Gids.Count > 0)
                    throw RuntimeException.InvalidField(options.Uids.Count > 0 ? $"{field}.uids" : $"{field}.gids", "mappings are only valid with mode POD");
                return null;
            case NamespaceMode.Pod:
                return new UserNamespaceMappings(Single(options.Uids, $"{field}.uids"), Single(options.Gids, $"{field}.gids"));
            case NamespaceMode.Container or NamespaceMode.Target:
                throw RuntimeException.InvalidField($"{field}.mode", $"{options.Mode} is not supported for user namespaces (POD or NODE)");
            default:
                throw RuntimeException.InvalidField($"{field}.mode", $"unknown namespace mode {options.Mode}");
        }
    }

    /// <summary>True when a mount's uid/gid mappings are exactly these (one range each).</summary>
    public bool Matches(RepeatedField<IDMapping> uids, RepeatedField<IDMapping> gids) =>
        uids.Count == 1 && gids.Count == 1 && ToRange(uids[0]) == Uid && ToRange(gids[0]) == Gid;

    public string UidMapText => Line(Uid);
    public string GidMapText => Line(Gid);

    public List<OciIdMapping> OciUidMappings() => [ToOci(Uid)];
    public List<OciIdMapping> OciGidMappings() => [ToOci(Gid)];

    private static IdRange Single(RepeatedField<IDMapping> mappings, string field)
    {
        if (mappings.Count != 1)
            throw RuntimeException.InvalidField(field, $"exactly one mapping is supported (got {mappings.Count})");
        var range = ToRange(mappings[0]);
        if (range.ContainerId != 0)
            throw RuntimeException.InvalidField($"{field}[0].container_id", $"must be 0 (container root must be mapped), got {range.ContainerId}");
        if (range.Length == 0)
            throw RuntimeException.InvalidField($"{field}[0].length", "must be greater than 0");
        if ((ulong)range.HostId + range.Length > uint.MaxValue)
            throw RuntimeException.InvalidField($"{field}[0]", $"host ids {range.HostId}+{range.Length} run past {uint.MaxValue - 1}");
        if (range.HostId == 0)
            throw RuntimeException.InvalidField($"{field}[0].host_id", "must not be 0: the container would hold the node's root id");
        return range;
    }

    private static IdRange ToRange(IDMapping m) => new(m.ContainerId, m.HostId, m.Length);

    private static string Line(IdRange r) => $"{r.ContainerId} {r.HostId} {r.Length}\n";

    private static OciIdMapping ToOci(IdRange r) => new() { ContainerId = r.ContainerId, HostId = r.HostId, Size = r.Length };
}
