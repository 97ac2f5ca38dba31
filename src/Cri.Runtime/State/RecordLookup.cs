using Crisp.Runtime.Api;

namespace Crisp.Runtime.State;

/// <summary>Finds a record by the full id or a unique id prefix, as crictl lets users type them.</summary>
public static class RecordLookup
{
    /// <summary>The sandbox, or NotFound; an empty id is InvalidArgument naming pod_sandbox_id.</summary>
    public static SandboxRecord RequireSandbox(this IStateStore store, string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
            throw RuntimeException.InvalidField("pod_sandbox_id", "must not be empty");
        return store.LookupSandbox(idOrPrefix)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"pod sandbox {idOrPrefix} not found");
    }

    public static SandboxRecord? LookupSandbox(this IStateStore store, string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix)) return null;
        var id = ObjectIds.Resolve(idOrPrefix, store.Sandboxes.Select(s => s.Id), "pod sandbox");
        return id is null ? null : store.FindSandbox(id);
    }

    /// <summary>The container, or NotFound; an empty id is InvalidArgument naming container_id.</summary>
    public static ContainerRecord RequireContainer(this IStateStore store, string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
            throw RuntimeException.InvalidField("container_id", "must not be empty");
        return store.LookupContainer(idOrPrefix)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {idOrPrefix} not found");
    }

    public static ContainerRecord? LookupContainer(this IStateStore store, string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix)) return null;
        var id = ObjectIds.Resolve(idOrPrefix, store.Containers.Select(c => c.Id), "container");
        return id is null ? null : store.FindContainer(id);
    }
}
