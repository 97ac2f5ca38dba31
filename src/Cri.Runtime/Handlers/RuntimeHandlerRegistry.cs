using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Handlers;

/// <summary>The configured runtime handlers, probed once at start; RunPodSandbox's runtime_handler picks one.</summary>
public sealed class RuntimeHandlerRegistry
{
    private readonly Dictionary<string, IRuntimeHandler> _byName;
    private readonly string _defaultName;

    public RuntimeHandlerRegistry(IEnumerable<IRuntimeHandler> handlers, string defaultHandler)
    {
        _byName = handlers.ToDictionary(h => h.Name, StringComparer.Ordinal);
        if (!_byName.ContainsKey(defaultHandler))
            throw new ArgumentException($"default runtime handler \"{defaultHandler}\" is not configured (known: {Known()})", nameof(defaultHandler));
        _defaultName = defaultHandler;
        All = _byName.Values.ToList();
    }

    /// <summary>Builds one <see cref="OciRuntimeHandler"/> per configured handler (runc and crun when none are) and probes them in parallel.</summary>
    public static async Task<RuntimeHandlerRegistry> CreateAsync(RuntimeOptions options, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var configured = options.Handlers.Count > 0
            ? options.Handlers
            : [
                new RuntimeHandlerOptions { Name = "runc", Path = "runc", Root = Path.Combine(options.StateDir, "runc") },
                new RuntimeHandlerOptions { Name = "crun", Path = "crun", Root = Path.Combine(options.StateDir, "crun") },
            ];
        var logger = loggerFactory.CreateLogger<OciRuntimeHandler>();
        var handlers = configured.Select(o => new OciRuntimeHandler(o, options.ConmonPath, options.CgroupDriver, logger)).ToList();
        await Task.WhenAll(handlers.Select(h => h.ProbeAsync(ct))).ConfigureAwait(false);
        return new RuntimeHandlerRegistry(handlers, options.DefaultHandler);
    }

    public IReadOnlyCollection<IRuntimeHandler> All { get; }

    public IRuntimeHandler Default => _byName[_defaultName];

    /// <summary>"" or null selects the default handler; an unknown name is the caller's mistake.</summary>
    public IRuntimeHandler Get(string? name)
    {
        if (string.IsNullOrEmpty(name)) return Default;
        return _byName.TryGetValue(name, out var handler)
            ? handler
            : throw new RuntimeException(RuntimeErrorKind.InvalidArgument,
                $"runtime_handler \"{name}\" is not configured (known: {Known()})");
    }

    /// <summary>
    /// Like <see cref="Get"/>, but refuses a handler that cannot run containers on this host, with its reason; waits
    /// for the handler's probe verdict first (crispd serves while the probes run).
    /// </summary>
    public async Task<IRuntimeHandler> GetReadyAsync(string? name, CancellationToken ct)
    {
        var handler = Get(name);
        await handler.Probed.WaitAsync(ct).ConfigureAwait(false);
        if (!handler.Availability.Ready)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"runtime_handler \"{handler.Name}\" is not ready on this host: {handler.Availability.Reason}");
        return handler;
    }

    /// <summary>Completes when every handler's <see cref="IRuntimeHandler.Availability"/> is its probe's verdict.</summary>
    public Task WhenProbedAsync(CancellationToken ct) => Task.WhenAll(All.Select(h => h.Probed)).WaitAsync(ct);

    private string Known() => string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal));
}
