using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Network;

/// <summary>
/// Attaches pods to the node's CNI network and detaches them: ADD through the configured chain when a pod
/// sandbox starts, DEL in reverse order when it stops, with what DEL needs kept on disk in between.
/// </summary>
public sealed partial class PodNetwork(
    CniConfigSource configs, CniPluginExecutor plugins, CniAttachmentCache cache, PodCidrStore podCidr, ILogger<PodNetwork> logger)
    : IPodNetwork
{
    public const string InterfaceName = "eth0";

    // Host ports are checked and claimed (by the pending attachment) under one lock, so two pods started at
    // once cannot both get the same port.
    private readonly SemaphoreSlim _claimLock = new(1, 1);
    private static readonly TimeSpan FailedRetryTimeout = TimeSpan.FromSeconds(10);
    private long _lastFailedRetry = long.MinValue / 2;

    /// <summary>How often attaches retry the DEL of failed attachments (tests shorten it).</summary>
    internal TimeSpan FailedRetryInterval { get; init; } = TimeSpan.FromMinutes(1);

    public CniConfigState Status => configs.Current;

    public PodCidrStore PodCidr => podCidr;

    public Task UpdatePodCidrAsync(string cidrs, CancellationToken ct) => podCidr.UpdateAsync(cidrs, ct);

    /// <summary>Runs ADD for the pod; returns its IPs (IPv4 first). On failure everything ADD did is undone.</summary>
    public async Task<IReadOnlyList<string>> AttachAsync(string sandboxId, PodSandboxConfig config, string netnsPath, CancellationToken ct)
    {
        var state = configs.Current;
        if (!state.Ready)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod network is not ready: {state.Message}");
        var network = state.Config!;
        var capabilityArgs = CniCapabilityArgs.For(config, podCidr.Current);
        var invocation = new CniInvocation(sandboxId, netnsPath, InterfaceName,
            CniInvocation.KubernetesArgs(config.Metadata.Namespace, config.Metadata.Name, sandboxId, config.Metadata.Uid));
        var attachment = new CniAttachment(sandboxId, network, invocation, capabilityArgs, Result: null);

        await RetryFailedAttachmentsAsync(ct).ConfigureAwait(false);
        await _claimLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            HostPortGuard.EnsureFree(HostPortGuard.Of(capabilityArgs), cache.All().Where(a => a.SandboxId != sandboxId && !a.AddFailed));
            await cache.SaveAsync(attachment, ct).ConfigureAwait(false);
        }
        finally
        {
            _claimLock.Release();
        }

        JsonObject? result = null;
        try
        {
            foreach (var plugin in network.Plugins)
            {
                var pluginResult = await plugins.ExecAsync("ADD", PluginConfig(network, plugin, result, capabilityArgs), invocation, ct).ConfigureAwait(false);
                result = pluginResult ?? result;
            }
            attachment = attachment with { Result = result };
            await cache.SaveAsync(attachment, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogAddFailed(logger, e, sandboxId, network.Name);
            try
            {
                await DeleteChainAsync(attachment with { Result = result }, netnsPath, CancellationToken.None).ConfigureAwait(false);
                cache.Delete(sandboxId);
            }
            catch (Exception cleanup) when (cleanup is CniPluginException or IOException)
            {
                // Kept on disk, flagged, so the next attach or a restart retries the DEL; it claims no ports meanwhile.
                LogDelFailed(logger, cleanup, sandboxId, network.Name);
                await cache.SaveAsync(attachment with { Result = result, AddFailed = true }, CancellationToken.None).ConfigureAwait(false);
            }
            if (e is OperationCanceledException) throw;
            if (e is RuntimeException) throw;
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"setting up network \"{network.Name}\" for pod sandbox {config.Metadata.Namespace}/{config.Metadata.Name} ({sandboxId}): {e.Message}", e);
        }
        var ips = CniResult.PodIps(result);
        LogAttached(logger, sandboxId, network.Name, string.Join(",", ips));
        return ips;
    }

    /// <summary>Runs DEL with the ADD-time config and result; a pod with no attachment is already detached.</summary>
    public async Task DetachAsync(string sandboxId, CancellationToken ct)
    {
        var attachment = cache.Load(sandboxId);
        if (attachment is null) return;
        try
        {
            await DeleteChainAsync(attachment, attachment.Invocation.NetnsPath, ct).ConfigureAwait(false);
        }
        catch (CniPluginException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"tearing down network \"{attachment.Network.Name}\" of pod sandbox {sandboxId}: {e.Message}", e);
        }
        cache.Delete(sandboxId);
        LogDetached(logger, sandboxId, attachment.Network.Name);
    }

    /// <summary>Another DEL for attachments whose failed ADD could not be undone (a plugin since installed or fixed).</summary>
    /// <remarks>
    /// At most once a minute and for a few seconds each, so a plugin whose DEL keeps failing or hangs cannot make
    /// every new pod pay for it.
    /// </remarks>
    private async Task RetryFailedAttachmentsAsync(CancellationToken ct)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFailedRetry);
        if (now - last < FailedRetryInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _lastFailedRetry, now, last) != last) return;
        foreach (var failed in cache.All().Where(a => a.AddFailed).ToList())
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(FailedRetryTimeout);
            try { await DetachAsync(failed.SandboxId, bounded.Token).ConfigureAwait(false); }
            catch (RuntimeException e) { LogDelFailed(logger, e, failed.SandboxId, failed.Network.Name); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { LogDelRetryTimedOut(logger, failed.SandboxId); }
        }
    }

    /// <summary>
    /// For a pod whose setup failed and whose DEL failed too: its attachment stays on disk for a later DEL but, like
    /// a failed ADD, no longer claims host ports and is retried by later attaches.
    /// </summary>
    public async Task AbandonAsync(string sandboxId, CancellationToken ct)
    {
        if (cache.Load(sandboxId) is { AddFailed: false } attachment)
            await cache.SaveAsync(attachment with { AddFailed = true }, ct).ConfigureAwait(false);
    }

    /// <summary>Sandboxes with an attachment on disk (for recovery to find DELs a crash interrupted).</summary>
    public IEnumerable<string> AttachedSandboxIds() => cache.All().Select(a => a.SandboxId);

    private async Task DeleteChainAsync(CniAttachment attachment, string netnsPath, CancellationToken ct)
    {
        // A namespace that is no longer pinned (the pod was stopped, the node rebooted) is passed as absent, which
        // plugins handle by releasing only what lives outside it (IPs, host-side links, rules).
        var netns = MountTable.ReadSelf().IsMountPoint(netnsPath) ? netnsPath : "";
        var invocation = attachment.Invocation with { NetnsPath = netns };
        // libcni hands DEL the cached result only from 0.4.0 on; older plugins reject a prevResult.
        var prevResult = VersionAtLeast(attachment.Network.CniVersion, 0, 4) ? attachment.Result : null;
        CniPluginException? first = null;
        foreach (var plugin in attachment.Network.Plugins.Reverse())
        {
            var type = plugin["type"]!.GetValue<string>();
            if (!plugins.Exists(type))
            {
                // A plugin that is not installed cannot be asked to release anything: either it never ran (the ADD
                // failed on it) or it was uninstalled since. Failing the DEL would wedge the pod's stop forever.
                LogDelSkipped(logger, attachment.SandboxId, type, string.Join(" ", plugins.BinDirs));
                continue;
            }
            try
            {
                await plugins.ExecAsync("DEL", PluginConfig(attachment.Network, plugin, prevResult, attachment.CapabilityArgs), invocation, ct)
                    .ConfigureAwait(false);
            }
            catch (CniPluginException e)
            {
                // Keep going: what the other plugins hold should be released even if one of them fails.
                first ??= e;
                LogDelFailed(logger, e, attachment.SandboxId, attachment.Network.Name);
            }
        }
        if (first is not null) throw first;
    }

    /// <summary>What one plugin of the chain reads on stdin (libcni's buildOneConfig).</summary>
    private static JsonObject PluginConfig(CniNetworkConfig network, JsonObject plugin, JsonObject? prevResult, CniCapabilityArgs capabilityArgs)
    {
        var config = (JsonObject)plugin.DeepClone();
        config["name"] = network.Name;
        config["cniVersion"] = network.CniVersion;
        if (prevResult is not null) config["prevResult"] = prevResult.DeepClone();
        else config.Remove("prevResult");
        if (capabilityArgs.RuntimeConfigFor(plugin) is { } runtimeConfig) config["runtimeConfig"] = runtimeConfig;
        return config;
    }

    internal static bool VersionAtLeast(string version, int major, int minor)
    {
        var parts = version.Split('.');
        if (parts.Length < 2 || !int.TryParse(parts[0], out var ma) || !int.TryParse(parts[1], out var mi)) return false;
        return ma > major || (ma == major && mi >= minor);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} attached to CNI network {Network} with IPs {Ips}")]
    private static partial void LogAttached(ILogger logger, string sandboxId, string network, string ips);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} detached from CNI network {Network}")]
    private static partial void LogDetached(ILogger logger, string sandboxId, string network);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CNI ADD for pod sandbox {SandboxId} on network {Network} failed; undoing it")]
    private static partial void LogAddFailed(ILogger logger, Exception exception, string sandboxId, string network);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CNI DEL for pod sandbox {SandboxId}: plugin {Plugin} is not installed in [{BinDirs}]; skipped")]
    private static partial void LogDelSkipped(ILogger logger, string sandboxId, string plugin, string binDirs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retried CNI DEL for the failed attachment of pod sandbox {SandboxId} timed out; will retry later")]
    private static partial void LogDelRetryTimedOut(ILogger logger, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CNI DEL for pod sandbox {SandboxId} on network {Network} failed")]
    private static partial void LogDelFailed(ILogger logger, Exception exception, string sandboxId, string network);
}
