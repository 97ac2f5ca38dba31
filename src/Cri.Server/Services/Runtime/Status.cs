using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public const string RuntimeNotReadyReason = "RuntimeHandlerNotReady";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var response = new StatusResponse { Status = new RuntimeStatus() };
        response.Status.Conditions.Add(RuntimeCondition());
        response.Status.Conditions.Add(NetworkCondition());

        foreach (var handler in handlers.All)
        {
            var availability = handler.Availability;
            response.RuntimeHandlers.Add(new Crisp.Cri.V1.RuntimeHandler
            {
                Name = handler.Name,
                Features = new RuntimeHandlerFeatures
                {
                    RecursiveReadOnlyMounts = availability.Ready && availability.SupportsRecursiveReadOnlyMounts,
                    UserNamespaces = availability.Ready && availability.SupportsUserNamespaces,
                },
            });
        }
        response.Features = new RuntimeFeatures { SupplementalGroupsPolicy = true };

        if (request.Verbose)
        {
            response.Info.Add("config", daemon.ConfigJson);
            response.Info.Add("runtimeHandlers", HandlersJson());
            response.Info.Add("cniconfig", CniJson());
        }
        return Task.FromResult(response);
    }

    /// <summary>RuntimeReady follows the default handler: without it no pod can start.</summary>
    private RuntimeCondition RuntimeCondition()
    {
        var defaultHandler = handlers.All.FirstOrDefault(h => h.Name == daemon.Config.RuntimeDefaultHandler)?.Availability;
        var ready = defaultHandler is { Ready: true };
        return new RuntimeCondition
        {
            Type = "RuntimeReady",
            Status = ready,
            Reason = ready ? "" : RuntimeNotReadyReason,
            Message = ready ? "" : $"default runtime handler \"{daemon.Config.RuntimeDefaultHandler}\" is not ready: {defaultHandler?.Reason ?? "not configured"}",
        };
    }

    /// <summary>Each handler's readiness and reason, for `crictl info`.</summary>
    private string HandlersJson() =>
        System.Text.Json.JsonSerializer.Serialize(
            handlers.All.ToDictionary(
                h => h.Name,
                h => new Dictionary<string, object?> { ["ready"] = h.Availability.Ready, ["reason"] = h.Availability.Reason }));

    /// <summary>The network new pods get (like containerd's "cniconfig" in `crictl info`).</summary>
    private string CniJson()
    {
        var cni = runtime.NetworkStatus;
        return System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["confDir"] = daemon.Config.NetworkCniConfDir,
            ["binDirs"] = daemon.Config.NetworkCniBinDirs,
            ["ready"] = cni.Ready,
            ["network"] = cni.NetworkName,
            ["file"] = cni.ConfigFile,
            ["plugins"] = cni.Config?.PluginTypes.ToArray(),
            ["cniVersion"] = cni.Config?.CniVersion,
            ["skipped"] = cni.SkippedFiles,
        });
    }

    private RuntimeCondition NetworkCondition()
    {
        var cni = runtime.NetworkStatus;
        return new RuntimeCondition
        {
            Type = "NetworkReady",
            Status = cni.Ready,
            Reason = cni.Ready ? "" : cni.Reason,
            Message = cni.Ready ? "" : cni.Message,
        };
    }
}
