using System.Text.Json.Nodes;

namespace Crisp.Runtime.Network;

/// <summary>
/// Everything DEL needs to undo one pod's ADD, as it was at ADD time: the network config (the conf dir may have
/// changed since), the CNI_* values, the runtimeConfig values and the result (null while ADD has not finished).
/// </summary>
public sealed record CniAttachment(
    string SandboxId,
    CniNetworkConfig Network,
    CniInvocation Invocation,
    CniCapabilityArgs CapabilityArgs,
    JsonObject? Result,
    bool AddFailed = false)
{
    // AddFailed: ADD failed and so did the DEL undoing it. The pod is gone (RunPodSandbox failed); the entry only
    // remains so a later DEL can release what the plugins may still hold, and it claims no host ports.

    public JsonObject ToJson() => new()
    {
        ["sandboxId"] = SandboxId,
        ["network"] = Network.ToConflist(),
        ["containerId"] = Invocation.ContainerId,
        ["netns"] = Invocation.NetnsPath,
        ["ifName"] = Invocation.IfName,
        ["args"] = Invocation.Args,
        ["capabilityArgs"] = CapabilityArgs.Values.DeepClone(),
        ["result"] = Result?.DeepClone(),
        ["addFailed"] = AddFailed,
    };

    public static CniAttachment FromJson(JsonObject json) => new(
        Required(json, "sandboxId"),
        CniNetworkConfig.FromConflist(json["network"] as JsonObject ?? throw new FormatException("missing \"network\"")),
        new CniInvocation(Required(json, "containerId"), Required(json, "netns"), Required(json, "ifName"), Required(json, "args")),
        CniCapabilityArgs.FromJson(json["capabilityArgs"] as JsonObject),
        json["result"] as JsonObject,
        json["addFailed"] is JsonValue failed && failed.TryGetValue<bool>(out var f) && f);

    private static string Required(JsonObject json, string key) =>
        json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"missing \"{key}\"");
}
