using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public const string RuntimeNotReadyReason = "RuntimeHandlerNotReady";

    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        // crispd serves while the handlers are probed: RuntimeReady and the handlers' features are their verdicts.
        await handlers.WhenProbedAsync(context.CancellationToken);
        var response = new StatusResponse { Status = new RuntimeStatus() };
        response.Status.Conditions.Add(RuntimeCondition());
        response.Status.Conditions.Add(NetworkCondition());

        // The kubelet (and critest) look up a pod without RuntimeClass under the empty name: list the default
        // handler under "" too, with the features of the handler it resolves to.
        if (handlers.All.FirstOrDefault(h => h.Name == daemon.Config.RuntimeDefaultHandler) is { } defaultHandler)
            response.RuntimeHandlers.Add(HandlerEntry("", defaultHandler.Availability));
        foreach (var handler in handlers.All)
            response.RuntimeHandlers.Add(HandlerEntry(handler.Name, handler.Availability));
        response.Features = new RuntimeFeatures { SupplementalGroupsPolicy = true };

        if (request.Verbose)
        {
            response.Info.Add("config", daemon.ConfigJson);
            response.Info.Add("runtimeHandlers", HandlersJson());
            response.Info.Add("cniconfig", CniJson());
            response.Info.Add("cdi", CdiJson());
            response.Info.Add("damagedState", DamagedStateJson());
        }
        return response;
    }

    private static Crisp.Cri.V1.RuntimeHandler HandlerEntry(string name, Crisp.Runtime.Handlers.HandlerAvailability availability) => new()
    {
        Name = name,
        Features = new RuntimeHandlerFeatures
        {
            RecursiveReadOnlyMounts = availability.Ready && availability.SupportsRecursiveReadOnlyMounts,
            UserNamespaces = availability.Ready && availability.SupportsUserNamespaces,
        },
    };

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
    // The verbose info is built as JSON nodes (not reflection-serialized dictionaries) so the native AOT crispd needs
    // no serializer metadata for it.
    private string HandlersJson()
    {
        var json = new JsonObject();
        foreach (var h in handlers.All)
            json[h.Name] = new JsonObject { ["ready"] = h.Availability.Ready, ["reason"] = h.Availability.Reason };
        return json.ToJsonString();
    }

    /// <summary>
    /// What crispd could not read at start: unreadable rows moved to each database's quarantine table and database
    /// files set aside, so an operator sees the loss (and why image GC deletes nothing) without reading the logs.
    /// </summary>
    private string DamagedStateJson()
    {
        static JsonObject Report(string? setAside, IReadOnlyList<Crisp.ImageService.Metadata.QuarantinedRow> rows) => new()
        {
            ["setAsideDatabase"] = setAside,
            ["quarantined"] = new JsonArray(rows.Select(r => (JsonNode?)new JsonObject
            {
                ["source"] = r.Source,
                ["id"] = r.Id,
                ["reason"] = r.Reason,
                ["at"] = r.QuarantinedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            }).ToArray()),
        };
        return new JsonObject
        {
            ["runtime"] = Report(state.SetAsideDatabase, state.Quarantined),
            ["images"] = Report(images.SetAsideMetadataDatabase, images.QuarantinedMetadata),
        }.ToJsonString();
    }

    /// <summary>The network new pods get (like containerd's "cniconfig" in `crictl info`).</summary>
    private string CniJson()
    {
        var cni = runtime.NetworkStatus;
        return new JsonObject
        {
            ["confDir"] = daemon.Config.NetworkCniConfDir,
            ["binDirs"] = Strings(daemon.Config.NetworkCniBinDirs),
            ["ready"] = cni.Ready,
            ["network"] = cni.NetworkName,
            ["file"] = cni.ConfigFile,
            ["plugins"] = Strings(cni.Config?.PluginTypes),
            ["cniVersion"] = cni.Config?.CniVersion,
            ["skipped"] = Strings(cni.SkippedFiles),
        }.ToJsonString();
    }

    /// <summary>
    /// CDI as `crictl info` shows it: enableCDI and cdiSpecDirs under the names containerd uses, then the devices
    /// the spec directories declare now and each unusable spec file with its reason.
    /// </summary>
    private string CdiJson()
    {
        var current = cdi.Current();
        // A JSON node tree, not reflection-based serialization: safe under trimming and native AOT.
        var errors = new JsonObject();
        foreach (var (file, reason) in current.Errors) errors[file] = reason;
        return new JsonObject
        {
            ["enableCDI"] = daemon.Config.RuntimeEnableCdi,
            ["cdiSpecDirs"] = Strings(daemon.Config.RuntimeCdiSpecDirs),
            ["devices"] = Strings(current.Devices.Keys.Order(StringComparer.Ordinal)),
            ["errors"] = errors,
        }.ToJsonString();
    }

    private static JsonArray? Strings(IEnumerable<string>? values) =>
        values is null ? null : new JsonArray(values.Select(v => (JsonNode?)v).ToArray());

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
